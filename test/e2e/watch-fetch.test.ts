/**
 * `mailgit watch --fetch` against a real Dovecot: mail delivered to the server is in the
 * repo's HEAD while the watch runs, a flag changed in the Maildir reaches the server, and
 * after the server restarts (the IDLE connection drops) the next delivery arrives too;
 * with NOTIFY, mail and flags in any folder arrive on the one connection; without it
 * (a server that does not advertise NOTIFY), the account's `--idle` folders do.
 * Nothing here is timed: each step polls with a generous timeout.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDovecot, type Dovecot, type DovecotUser } from '../helpers/dovecot.js';
import { gitOut, mailgit } from '../helpers/cli.js';
import { keyOf, sha } from '../helpers/messages.js';
import { mg } from '../helpers/replica.js';
import { headFiles, startWatchChild, until } from './clients-helpers.js';

const U: DovecotUser = { user: 'idler', password: 'pw-idler-3!' };
const V: DovecotUser = { user: 'idler2', password: 'pw-idler-4!' };
const N: DovecotUser = { user: 'notifier', password: 'pw-notify-5!' };
/** Dovecot's capabilities without NOTIFY. */
const NO_NOTIFY =
  'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+';
let dc: Dovecot;
let plain: Dovecot;
let tmp: string;

beforeAll(async () => {
  [dc, plain] = await Promise.all([startDovecot({ users: [U, N] }), startDovecot({ users: [V], imapCapability: NO_NOTIFY })]);
  tmp = mkdtempSync(join(tmpdir(), 'mailgit-watch-fetch-e2e-'));
}, 60_000);

afterAll(async () => {
  await Promise.all([dc?.stop(), plain?.stop()]);
  if (tmp && !process.env.MAILGIT_TEST_KEEP) rmSync(tmp, { recursive: true, force: true });
});

function gen(i: number): string {
  return `From: s${i}@example.org\r\nTo: you@example.org\r\nSubject: idle ${i}\r\nMessage-ID: <idle.${i}@example.org>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody ${i}\r\n`;
}

/** The HEAD path of the message with this content, if HEAD has it. */
function inHead(dir: string, content: string): string | undefined {
  // One commit for the listing and the reads: the watch may commit in between.
  const head = gitOut(dir, ['rev-parse', 'HEAD']).trim();
  return headFiles(dir, head)
    .filter((p) => /\/(cur|new)\//.test(p))
    .find((p) => sha(Buffer.from(gitOut(dir, ['cat-file', 'blob', `${head}:${p}`]), 'latin1')) === sha(content));
}

async function serverFlags(uid: number): Promise<string[]> {
  const c = await dc.connect(U);
  try {
    await c.mailboxOpen('INBOX', { readOnly: true });
    for await (const m of c.fetch(String(uid), { uid: true, flags: true }, { uid: true })) return [...(m.flags ?? [])];
    return [];
  } finally {
    await c.logout().catch(() => undefined);
  }
}

/**
 * A repo whose account `work` is `u` on `server`, which has folder `folder` and one INBOX
 * message `gen(first)`; a watch with an hour's interval runs on it (so only server events
 * bring mail) and has done its first fetch.
 */
async function watchedRepo(a: { server: Dovecot; u: DovecotUser; name: string; folder: string; first: number; extra?: string[] }) {
  const c = await a.server.connect(a.u);
  await c.mailboxCreate(a.folder).catch(() => undefined);
  await c.logout().catch(() => undefined);
  await a.server.append('INBOX', [gen(a.first)], { user: a.u });
  const dir = join(tmp, a.name);
  expect(mailgit(['init', dir, '--name', 'a']).code).toBe(0);
  mg(dir, ['account', 'add', 'work', '--host', '127.0.0.1', '--port', String(a.server.port), '--no-tls', '--user', a.u.user, ...(a.extra ?? [])]);
  mg(dir, ['account', 'password-command', 'work', `printf %s ${a.u.password}`]);
  const w = await startWatchChild(dir, ['--fetch', '--debounce', '100', '--interval', '3600']);
  await until(() => inHead(dir, gen(a.first)), 60_000, 'the first message in HEAD');
  await until(() => w.events.some((e) => e.event === 'fetch'), 60_000, 'the first fetch done');
  return { dir, w };
}

describe('watch --fetch (Dovecot)', () => {
  test('server mail arrives in HEAD while the watch runs; a local flag goes up; after the server restarts, mail still arrives', async () => {
    await dc.append('INBOX', [gen(1)], { user: U });
    const dir = join(tmp, 'repo');
    expect(mailgit(['init', dir, '--name', 'a']).code).toBe(0);
    mg(dir, ['account', 'add', 'work', '--host', '127.0.0.1', '--port', String(dc.port), '--no-tls', '--user', U.user]);
    mg(dir, ['account', 'password-command', 'work', `printf %s ${U.password}`]);
    const w = await startWatchChild(dir, ['--fetch', '--debounce', '100']);
    try {
      // What the server had before the watch started comes down at once.
      await until(() => inHead(dir, gen(1)), 60_000, 'the first message in HEAD');

      // New mail while it runs: IDLE says so, a fetch brings it and commits.
      await dc.append('INBOX', [gen(2)], { user: U });
      await until(() => inHead(dir, gen(2)), 60_000, 'the delivered message in HEAD');
      expect(w.events.some((e) => e.event === 'fetch')).toBe(true);

      // Read here: the watch records it, and the fetch after that record sends \Seen.
      const p = inHead(dir, gen(2))!;
      renameSync(join(dir, p), join(dir, 'INBOX', 'cur', `${keyOf(p)}:2,S`));
      await until(async () => (await serverFlags(2)).includes('\\Seen'), 60_000, '\\Seen on the server');

      // The server goes away and comes back: the IDLE connection is made again.
      await dc.restart();
      await dc.append('INBOX', [gen(3)], { user: U });
      await until(() => inHead(dir, gen(3)), 120_000, 'mail delivered after the restart in HEAD');
      expect(readFileSync(join(dir, inHead(dir, gen(3))!), 'latin1')).toBe(gen(3));
    } finally {
      expect(await w.stop()).toBe(0);
    }
    expect(w.stderr()).not.toContain(U.password);
    expect(w.stderr()).not.toMatch(/internal error|at .*\.js:\d+/);
  }, 300_000);
  test('without NOTIFY, a folder the account keeps in IDLE besides INBOX: its new mail arrives with no INBOX change and no periodic fetch', async () => {
    const { dir, w } = await watchedRepo({ server: plain, u: V, name: 'repo-work', folder: 'Work', first: 11, extra: ['--idle', 'Work', '--idle', 'INBOX'] });
    try {
      expect(JSON.parse(mg(dir, ['account', 'list', '--json']).stdout)[0].idle).toEqual(['Work']);
      // The periodic fetch is an hour away: only an IDLE event on Work can bring its mail.
      await plain.append('Work', [gen(12)], { user: V });
      await until(() => inHead(dir, gen(12)), 60_000, 'the message delivered to Work in HEAD');
      expect(inHead(dir, gen(12))).toMatch(/^Work\//);
    } finally {
      expect(await w.stop()).toBe(0);
    }
    expect(w.stderr()).not.toContain(V.password);
  }, 300_000);
  test('with NOTIFY, one connection: mail delivered to and flags changed in a folder not named with --idle arrive with no periodic fetch', async () => {
    const { dir, w } = await watchedRepo({ server: dc, u: N, name: 'repo-notify', folder: 'Lists', first: 21 });
    try {
      await dc.append('Lists', [gen(22)], { user: N });
      await until(() => inHead(dir, gen(22)), 60_000, 'the message delivered to Lists in HEAD');
      expect(inHead(dir, gen(22))).toMatch(/^Lists\/new\//);
      await dc.doveadm(['flags', 'add', '-u', N.user, '\\Flagged', 'mailbox', 'Lists', 'uid', '1']);
      await until(() => /^Lists\/cur\/.*:2,F$/.test(inHead(dir, gen(22)) ?? ''), 60_000, 'the flag set on the server in HEAD');
    } finally {
      expect(await w.stop()).toBe(0);
    }
    expect(w.stderr()).not.toContain(N.password);
  }, 300_000);
});
