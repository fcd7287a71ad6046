/**
 * Moving from mbsync: a Maildir written by a real mbsync run (isync, `SyncState *`) against
 * the test Dovecot is adopted by `mailgit init`; fetching the same account then downloads
 * no body again and stores no second copy — two-way and pull — because the UID map is
 * seeded from `.mbsyncstate` and the `,U=` file names. Dovecot's logout line counts the
 * bodies it sent (`fetch_body_count`), so "downloads nothing" is the server's word.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { mailgit, tempDir } from '../helpers/cli.js';
import { diskMessages, headMessages } from '../helpers/messages.js';

let dc: Dovecot;
let tmp: string;
let rc: string;

beforeAll(async () => {
  dc = await startDovecot({
    users: [{ user: 'mo', password: 'mbsync-pw-3' }],
    extraConfig: 'imap_logout_format = bodies=%{fetch_body_count} in=%i out=%o',
  });
  const msg = (n: number) => `From: a@example.org\r\nSubject: m${n}\r\nMessage-ID: <mb.${n}@example.org>\r\n\r\nbody ${n}\r\n`;
  await dc.append('INBOX', [msg(1), msg(2)], { flags: ['\\Seen'] });
  await dc.append('INBOX', [msg(3)], { flags: ['\\Flagged'] });
  await dc.append('Lists/rust', [msg(4), msg(5)]);
  tmp = tempDir('mailgit-mbsync-');
  // A real mbsync run fills the Maildir (two-way, state in each folder).
  const mail = join(tmp, 'mail');
  mkdirSync(mail);
  rc = join(tmp, 'mbsyncrc');
  writeFileSync(
    rc,
    `IMAPAccount a\nHost 127.0.0.1\nPort ${dc.port}\nUser mo\nPass mbsync-pw-3\nSSLType None\nAuthMechs LOGIN\n\n` +
      `IMAPStore far\nAccount a\n\nMaildirStore near\nPath ${mail}/\nInbox ${mail}/INBOX\nSubFolders Verbatim\n\n` +
      'Channel c\nFar :far:\nNear :near:\nPatterns *\nCreate Near\nSync All\nSyncState *\n',
  );
}, 120_000);

afterAll(async () => {
  await dc?.stop();
});

/** The bodies Dovecot sent in each session so far (its logout lines). */
function bodiesPerSession(): number[] {
  return [...readFileSync(dc.logFile, 'utf8').matchAll(/bodies=(\d+) in=/g)].map((m) => Number(m[1]));
}

/**
 * Runs mbsync (what a person did until the switch: its Maildir now has all server mail),
 * adopts a copy of its Maildir and defines the account (`extra`: e.g. `--sync pull`).
 */
function adopt(name: string, extra: string[]): string {
  execFileSync('mbsync', ['-c', rc, '-q', '-a'], { stdio: 'ignore' });
  const dir = join(tmp, name);
  cpSync(join(tmp, 'mail'), dir, { recursive: true });
  expect(mailgit(['init', dir, '--name', name]).code).toBe(0);
  const add = mailgit([
    ...['-C', dir, 'account', 'add', 'work', '--host', '127.0.0.1', '--port', String(dc.port), '--no-tls', '--user', 'mo'],
    ...['--password-command', 'echo mbsync-pw-3', ...extra],
  ]);
  expect(add.code, add.stderr).toBe(0);
  return dir;
}

/** Runs `fetch --json` and returns its summary and the bodies the server sent in that session. */
function fetchOnce(dir: string): { summary: { fetched: number; accounts: { folders: { twoWay?: { held: number } }[] }[] }; bodies: number } {
  const before = bodiesPerSession().length;
  const r = mailgit(['-C', dir, 'fetch', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const sessions = bodiesPerSession().slice(before);
  expect(sessions.length).toBeGreaterThan(0);
  return { summary: JSON.parse(r.stdout), bodies: sessions.reduce((a, b) => a + b, 0) };
}

describe('adopting an mbsync Maildir (real mbsync, real Dovecot)', () => {
  test.each([
    ['two-way', []],
    ['pull', ['--sync', 'pull']],
  ])(
    '%s: the first fetch downloads no body, stores no second copy, holds nothing; new mail still comes',
    async (name, extra) => {
      const dir = adopt(name, extra);
      const mbsyncFiles = diskMessages(dir);
      expect(mbsyncFiles.length).toBeGreaterThanOrEqual(5);
      expect(mbsyncFiles.every((f) => /,U=\d+/.test(f))).toBe(true);

      const first = fetchOnce(dir);
      expect(first.bodies).toBe(0);
      expect(first.summary.fetched).toBe(0);
      // The same files (a flagged one mbsync left in new/ may move to cur/: flags live there).
      const keys = (files: string[]) => files.map((f) => f.replace(/\/(cur|new)\//, '/').replace(/:2,.*$/, '')).sort();
      expect(keys(diskMessages(dir))).toEqual(keys(mbsyncFiles));
      expect(headMessages(dir).size).toBe(mbsyncFiles.length);
      for (const f of first.summary.accounts[0].folders) expect(f.twoWay?.held ?? 0).toBe(0);

      // New server mail: exactly that one comes down, once.
      await dc.append('INBOX', [`From: b@example.org\r\nSubject: new ${name}\r\nMessage-ID: <mb.new.${name}@example.org>\r\n\r\nnew\r\n`]);
      const second = fetchOnce(dir);
      expect(second.bodies).toBe(1);
      expect(second.summary.fetched).toBe(1);
      expect(headMessages(dir).size).toBe(mbsyncFiles.length + 1);
    },
    120_000,
  );

  test('two-way: a flag set on the server after the move reaches the file mbsync wrote (the seeded map names it)', async () => {
    const dir = adopt('flags', []);
    expect(fetchOnce(dir).bodies).toBe(0);
    await dc.doveadm(['flags', 'add', '-u', 'mo', '\\Answered', 'mailbox', 'Lists/rust', 'uid', '1']);
    const r = fetchOnce(dir);
    expect(r.bodies).toBe(0);
    expect(r.summary.fetched).toBe(0);
    const rust = readdirSync(join(dir, 'Lists/rust/cur'));
    expect(rust.filter((n) => /,U=1:2,R$/.test(n))).toHaveLength(1);
    const ids = diskMessages(dir).map((f) => /Message-ID: (\S+)/i.exec(readFileSync(join(dir, f), 'utf8'))?.[1]);
    expect(new Set(ids).size).toBe(ids.length); // no message twice
  }, 120_000);
});
