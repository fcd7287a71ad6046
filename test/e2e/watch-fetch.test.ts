/**
 * `mailgit watch --fetch` against a real Dovecot: mail delivered to the server is in the
 * repo's HEAD while the watch runs, a flag changed in the Maildir reaches the server, and
 * after the server restarts (the IDLE connection drops) the next delivery arrives too.
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
let dc: Dovecot;
let tmp: string;

beforeAll(async () => {
  dc = await startDovecot({ users: [U, V] });
  tmp = mkdtempSync(join(tmpdir(), 'mailgit-watch-fetch-e2e-'));
}, 60_000);

afterAll(async () => {
  await dc?.stop();
  if (tmp && !process.env.MAILGIT_TEST_KEEP) rmSync(tmp, { recursive: true, force: true });
});

function gen(i: number): string {
  return `From: s${i}@example.org\r\nTo: you@example.org\r\nSubject: idle ${i}\r\nMessage-ID: <idle.${i}@example.org>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody ${i}\r\n`;
}

/** The HEAD path of the message with this content, if HEAD has it. */
function inHead(dir: string, content: string): string | undefined {
  return headFiles(dir)
    .filter((p) => /\/(cur|new)\//.test(p))
    .find((p) => sha(Buffer.from(gitOut(dir, ['cat-file', 'blob', `HEAD:${p}`]), 'latin1')) === sha(content));
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
  test('a folder the account keeps in IDLE besides INBOX: its new mail arrives with no INBOX change and no periodic fetch', async () => {
    const c = await dc.connect(V);
    await c.mailboxCreate('Work').catch(() => undefined);
    await c.logout().catch(() => undefined);
    await dc.append('INBOX', [gen(11)], { user: V });
    const dir = join(tmp, 'repo-work');
    expect(mailgit(['init', dir, '--name', 'a']).code).toBe(0);
    mg(dir, ['account', 'add', 'work', '--host', '127.0.0.1', '--port', String(dc.port), '--no-tls', '--user', V.user, '--idle', 'Work', '--idle', 'INBOX']);
    mg(dir, ['account', 'password-command', 'work', `printf %s ${V.password}`]);
    expect(JSON.parse(mg(dir, ['account', 'list', '--json']).stdout)[0].idle).toEqual(['Work']);
    // The periodic fetch is an hour away: only an IDLE event on Work can bring its mail.
    const w = await startWatchChild(dir, ['--fetch', '--debounce', '100', '--interval', '3600']);
    try {
      await until(() => inHead(dir, gen(11)), 60_000, 'the first message in HEAD');
      await until(() => w.events.some((e) => e.event === 'fetch'), 60_000, 'the first fetch done');
      await dc.append('Work', [gen(12)], { user: V });
      await until(() => inHead(dir, gen(12)), 60_000, 'the message delivered to Work in HEAD');
      expect(inHead(dir, gen(12))).toMatch(/^Work\//);
    } finally {
      expect(await w.stop()).toBe(0);
    }
    expect(w.stderr()).not.toContain(V.password);
  }, 300_000);
});
