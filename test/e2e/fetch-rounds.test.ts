/**
 * What a two-way `mailgit fetch` asks the server, read from Dovecot's rawlog (every
 * command the client sent after login): a folder where nothing changed costs nothing
 * beyond the account's one LIST-STATUS (one SELECT per folder without LIST-STATUS, a flag
 * scan without CONDSTORE), and expunges come from QRESYNC's VANISHED where the server
 * offers it, else from comparing UID sets. Three servers: Dovecot as it is; one that
 * advertises neither QRESYNC nor LIST-STATUS; one without CONDSTORE and QRESYNC. Where
 * strace can run, the quiet fetch is also traced: no message file, listing or state file.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDovecot, type Dovecot, type DovecotUser } from '../helpers/dovecot.js';
import { BIN, gitOut, mailgit } from '../helpers/cli.js';
import { straceUsable, traced } from '../helpers/strace.js';
import { diskMessages, keyOf, sha } from '../helpers/messages.js';
import { mg } from '../helpers/replica.js';

const STRACE = straceUsable();
const U: DovecotUser = { user: 'rounds', password: 'pw-rounds-1!' };
const BASE =
  'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE';

interface Server {
  label: string;
  kind: 'qresync' | 'condstore' | 'plain';
  capability?: string;
  dc?: Dovecot;
  rawlog: string;
}

let tmp: string;
const SERVERS: Server[] = [
  { label: 'CONDSTORE, QRESYNC and LIST-STATUS', kind: 'qresync', rawlog: '' },
  { label: 'CONDSTORE without QRESYNC and LIST-STATUS', kind: 'condstore', capability: `${BASE} CONDSTORE`, rawlog: '' },
  { label: 'neither CONDSTORE nor QRESYNC', kind: 'plain', capability: `${BASE} LIST-STATUS`, rawlog: '' },
];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'mailgit-rounds-e2e-'));
  chmodSync(tmp, 0o711); // the rawlog directories below must be reachable for the mail user
  await Promise.all(
    SERVERS.map(async (s, i) => {
      s.rawlog = join(tmp, `rawlog-${i}`);
      // The imap process runs as the mail user: the directory must be writable for it.
      mkdirSync(join(s.rawlog, U.user), { recursive: true });
      chmodSync(s.rawlog, 0o777);
      chmodSync(join(s.rawlog, U.user), 0o777);
      s.dc = await startDovecot({
        users: [U],
        ...(s.capability ? { imapCapability: s.capability } : {}),
        extraConfig: `protocol imap {\n  rawlog_dir = ${s.rawlog}/%u\n}\n`,
      });
    }),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(SERVERS.map((s) => s.dc?.stop()));
  if (tmp && !process.env.MAILGIT_TEST_KEEP) rmSync(tmp, { recursive: true, force: true });
});

/** The commands sent since the last call (tags and timestamps cut off), and forgets them. */
function commands(s: Server): string[] {
  const dir = join(s.rawlog, U.user);
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (f.endsWith('.in')) {
      for (const line of readFileSync(join(dir, f), 'latin1').split('\r\n')) {
        const m = /^\d+\.\d+ \S+ (.*)$/.exec(line);
        if (m) out.push(m[1]);
      }
    }
    rmSync(join(dir, f));
  }
  return out;
}

const selects = (cmds: string[]) => cmds.filter((c) => /^(SELECT|EXAMINE) /.test(c)).map((c) => c.split(' ')[1].replace(/"/g, ''));

function gen(i: number, tag: string): string {
  return `From: s${i}@example.org\r\nTo: you@example.org\r\nSubject: ${tag} ${i}\r\nMessage-ID: <${tag}.${i}@example.org>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody of ${tag} ${i}\r\n`;
}

/** Lets the last run's changes age past the 2 s in which a directory's mtime is not trusted (src/fetch/quiet.ts). */
const settle = () => new Promise((r) => setTimeout(r, 2100));

describe.each(SERVERS)('two-way fetch rounds: $label', (s) => {
  const repo = () => join(tmp, `repo-${s.kind}`);
  const fetch = () => mg(repo(), ['fetch'], { MAILGIT_PASSWORD_WORK: U.password });
  const m = [gen(1, s.kind), gen(2, s.kind), gen(3, s.kind)];
  const pathOf = (content: string) => diskMessages(repo()).find((p) => sha(readFileSync(join(repo(), p))) === sha(content));

  test('nothing changed: no SELECT with LIST-STATUS and CONDSTORE, one per folder without LIST-STATUS, a flag scan without CONDSTORE; a change costs only its folder', async () => {
    const dc = s.dc!;
    await dc.append('INBOX', m.slice(0, 2), { user: U });
    await dc.append('Archive', [m[2]], { user: U });
    expect(mailgit(['init', repo(), '--name', 'a']).code).toBe(0);
    mg(repo(), ['account', 'add', 'work', '--host', '127.0.0.1', '--port', String(dc.port), '--no-tls', '--user', U.user]);
    fetch();
    await settle();
    fetch(); // level, and nothing recent: recorded as quiet
    commands(s);
    const head = gitOut(repo(), ['rev-parse', 'HEAD']);
    fetch();
    const quiet = commands(s);
    expect(gitOut(repo(), ['rev-parse', 'HEAD'])).toBe(head);
    expect(quiet.filter((c) => c.startsWith('LIST ')).length).toBe(1);
    const perFolder = quiet.filter((c) => /^(SELECT|EXAMINE|UID |FETCH|SEARCH|STORE|APPEND|MOVE|EXPUNGE)/.test(c));
    if (s.kind === 'qresync') expect(perFolder).toEqual([]);
    else if (s.kind === 'condstore') expect(perFolder).toEqual(['SELECT INBOX', 'SELECT Archive']);
    else {
      expect(selects(perFolder)).toEqual(['INBOX', 'Archive']);
      expect(perFolder.filter((c) => /^UID FETCH 1:\d+ \(UID FLAGS\)$/.test(c)).length).toBe(2);
    }

    if (s.kind === 'qresync' && STRACE.ok) {
      // And no per-message work here: no message file or folder listing is touched, no state file read.
      const r = traced(process.execPath, [BIN, '-C', repo(), 'fetch'], { cwd: repo(), env: { MAILGIT_PASSWORD_WORK: U.password } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.trace.problems).toEqual([]);
      const dirs = ['INBOX/cur', 'INBOX/new', 'Archive/cur', 'Archive/new'].map((d) => join(repo(), d));
      expect(r.trace.listed.filter((l) => dirs.includes(l.path))).toEqual([]);
      expect(r.trace.touched.filter((t) => dirs.some((d) => t.path.startsWith(`${d}/`)))).toEqual([]);
      expect(r.trace.touched.filter((t) => t.path.endsWith('.state') && t.call.startsWith('open'))).toEqual([]);
      expect(selects(commands(s))).toEqual([]);
    }

    // A flag changed on the server in INBOX: only INBOX is worked on.
    await dc.doveadm(['flags', 'add', '-u', U.user, '\\Seen', 'mailbox', 'INBOX', 'uid', '1']);
    fetch();
    const one = commands(s);
    expect(pathOf(m[0])).toMatch(/:2,S$/);
    if (s.kind === 'qresync') expect(selects(one)).toEqual(['INBOX']);
    if (s.kind === 'condstore') expect(one.filter((c) => c.includes('CHANGEDSINCE')).length).toBe(1);

    // A flag changed here in Archive: it goes up, INBOX (left level by the last run, but
    // its changes are too recent to be trusted yet) is looked at once more.
    const p = pathOf(m[2])!;
    renameSync(join(repo(), p), join(repo(), 'Archive', 'cur', `${keyOf(p)}:2,F`));
    fetch();
    const up = commands(s);
    expect(up.some((c) => /^UID STORE \d+ \+FLAGS(\.SILENT)? \(\\Flagged\)$/.test(c))).toBe(true);
    // Settled: quiet again.
    await settle();
    fetch();
    commands(s);
    fetch();
    if (s.kind === 'qresync') expect(selects(commands(s))).toEqual([]);
  }, 120_000);

  test('an expunge on the server: VANISHED in the flag fetch with QRESYNC, else a UID SEARCH (CONDSTORE) or the flag scan; deleted here', async () => {
    const dc = s.dc!;
    await dc.doveadm(['expunge', '-u', U.user, 'mailbox', 'INBOX', 'uid', '2']);
    commands(s);
    fetch();
    const cmds = commands(s);
    expect(pathOf(m[1])).toBeUndefined();
    expect(pathOf(m[0])).toBeDefined();
    const search = cmds.filter((c) => /^UID SEARCH ALL/.test(c));
    if (s.kind === 'qresync') {
      expect(cmds.some((c) => /CHANGEDSINCE \d+ VANISHED/.test(c))).toBe(true);
      expect(search).toEqual([]);
    } else if (s.kind === 'condstore') expect(search.length).toBe(1);
    else {
      expect(search).toEqual([]);
      expect(cmds.some((c) => /^UID FETCH 1:\d+ \(UID FLAGS\)$/.test(c))).toBe(true);
    }
  }, 120_000);
});
