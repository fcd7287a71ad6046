/**
 * IMAP keywords (`$Junk`, `$NotJunk`, `$Label1`, custom) through Dovecot's keyword letters
 * (`dovecot-keywords`), both ways, against a real Dovecot: server → repo (letters, the
 * table committed), repo → server (a local client that adds and removes keywords the
 * Dovecot way: a line in the table and a letter in the name), and back again; and two
 * replicas that gave one letter to different keywords before they synced.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { diskMessages } from '../helpers/messages.js';
import { addRemote, bareHub, mg } from '../helpers/replica.js';

let dc: Dovecot;

beforeAll(async () => {
  dc = await startDovecot({
    users: [
      { user: 'kw', password: 'keyword-pw-5' },
      { user: 'kwpair', password: 'keyword-pw-6' },
      { user: 'kwmove', password: 'keyword-pw-7' },
    ],
  });
}, 120_000);

afterAll(async () => {
  await dc?.stop();
});

const msg = (n: number) => `From: a@example.org\r\nSubject: k${n}\r\nMessage-ID: <kw.${n}@example.org>\r\n\r\nbody ${n}\r\n`;

/** The server's flags of each message of a folder, by subject. */
async function serverFlags(user?: string, folder = 'INBOX'): Promise<Record<string, string[]>> {
  const c = await dc.connect(user === undefined ? undefined : dc.users.find((u) => u.user === user));
  const out: Record<string, string[]> = {};
  try {
    await c.mailboxOpen(folder);
    for await (const m of c.fetch('1:*', { flags: true, envelope: true }))
      out[m.envelope!.subject!] = [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort();
  } finally {
    await c.logout();
  }
  return out;
}

/** The INBOX file of a message (by its subject) and its letters. */
function fileOf(dir: string, n: number): { path: string; letters: string } {
  const path = diskMessages(dir).find((p) => readFileSync(join(dir, p), 'utf8').includes(`Subject: k${n}\r\n`))!;
  return { path, letters: /:2,([A-Za-z]*)$/.exec(path)?.[1] ?? '' };
}

describe('IMAP keywords ⇄ dovecot-keywords letters (real Dovecot, two-way)', () => {
  test('server keywords become letters and a committed table; local keyword changes go up; server changes come down', async () => {
    await dc.append('INBOX', [msg(1)], { flags: ['\\Seen', '$Junk', '$Label1', 'custom-tag'] });
    await dc.append('INBOX', [msg(2)], { flags: ['\\Seen'] });
    const dir = join(tempDir('mailgit-kw-'), 'repo');
    expect(mailgit(['init', dir, '--name', 'kw']).code).toBe(0);
    const env = { MAILGIT_PASSWORD_WORK: 'keyword-pw-5' };
    const add = mailgit(['-C', dir, 'account', 'add', 'work', '--host', '127.0.0.1', '--port', String(dc.port), '--no-tls', '--user', 'kw']);
    expect(add.code, add.stderr).toBe(0);
    const fetch = () => {
      const r = mailgit(['-C', dir, 'fetch'], { env });
      expect(r.code, r.stderr).toBe(0);
    };

    // Server → repo.
    fetch();
    const one = fileOf(dir, 1);
    const inbox = one.path.split('/cur/')[0];
    const table = readFileSync(join(dir, inbox, 'dovecot-keywords'), 'utf8');
    expect(table).toBe('0 $Junk\n1 $Label1\n2 custom-tag\n');
    expect(one.letters).toBe('Sabc');
    expect(gitOut(dir, ['show', `HEAD:${inbox}/dovecot-keywords`])).toBe(table);

    // Repo → server, as a local Dovecot-style client would: $Junk off message 1, a new keyword $NotJunk on message 2.
    renameSync(join(dir, one.path), join(dir, one.path.replace(/:2,Sabc$/, ':2,Sbc')));
    writeFileSync(join(dir, inbox, 'dovecot-keywords'), `${table}3 $NotJunk\n`);
    const two = fileOf(dir, 2);
    renameSync(join(dir, two.path), join(dir, two.path.replace(/:2,S$/, ':2,Sd')));
    expect(mailgit(['-C', dir, 'commit']).code).toBe(0);
    fetch();
    expect(await serverFlags()).toEqual({ k1: ['$Label1', '\\Seen', 'custom-tag'], k2: ['$NotJunk', '\\Seen'] });

    // Server → repo again: a keyword the table does not have yet gets the next letter.
    await dc.doveadm(['flags', 'add', '-u', 'kw', '$Label2', 'mailbox', 'INBOX', 'uid', '2']);
    await dc.doveadm(['flags', 'remove', '-u', 'kw', 'custom-tag', 'mailbox', 'INBOX', 'uid', '1']);
    fetch();
    expect(readFileSync(join(dir, inbox, 'dovecot-keywords'), 'utf8')).toBe(`${table}3 $NotJunk\n4 $Label2\n`);
    expect(fileOf(dir, 1).letters).toBe('Sb');
    expect(fileOf(dir, 2).letters).toBe('Sde');
    // Nothing flips back on the next run (no ping-pong).
    fetch();
    expect(await serverFlags()).toEqual({ k1: ['$Label1', '\\Seen'], k2: ['$Label2', '$NotJunk', '\\Seen'] });
    expect(gitOut(dir, ['status', '--porcelain'])).toBe('');
  }, 120_000);

  test('two replicas that gave one letter to different keywords before syncing: each keyword stays on its messages, in both repos and on the server', async () => {
    const env = { MAILGIT_PASSWORD_WORK: 'keyword-pw-6' };
    await dc.append('INBOX', [msg(11), msg(12)], { user: 'kwpair' });
    const root = tempDir('mailgit-kw2-');
    const a = join(root, 'a');
    expect(mailgit(['init', a, '--name', 'a']).code).toBe(0);
    mg(a, ['account', 'add', 'work', '--host', '127.0.0.1', '--port', String(dc.port), '--no-tls', '--user', 'kwpair']);
    mg(a, ['fetch'], env);
    addRemote(a, 'hub', bareHub(join(root, 'hub.git')));
    mg(a, ['sync', 'hub']);
    const b = join(root, 'b');
    expect(mailgit(['clone', join(root, 'hub.git'), b, '--name', 'b']).code).toBe(0);
    mg(b, ['account', 'trust', 'work']);
    // a fetches $Label1 (another client set it): letter a. b's mail client gives letter a to $Work, and b fetches (it sends $Work, and takes $Label1 as b).
    await dc.doveadm(['flags', 'add', '-u', 'kwpair', '$Label1', 'mailbox', 'INBOX', 'uid', '1']);
    mg(a, ['fetch'], env);
    expect(fileOf(a, 11).letters).toBe('a');
    const inbox = fileOf(b, 12).path.split('/cur/')[0].split('/new/')[0];
    writeFileSync(join(b, inbox, 'dovecot-keywords'), '0 $Work\n');
    const twelve = fileOf(b, 12).path;
    renameSync(join(b, twelve), join(b, inbox, 'cur', `${twelve.slice(twelve.lastIndexOf('/') + 1).split(':')[0]}:2,a`));
    mg(b, ['commit']);
    mg(b, ['fetch'], env);
    expect(readFileSync(join(b, inbox, 'dovecot-keywords'), 'utf8')).toBe('0 $Work\n1 $Label1\n');
    expect(await serverFlags('kwpair')).toEqual({ k11: ['$Label1'], k12: ['$Work'] });
    const settled = () => {
      for (const dir of [a, b]) {
        expect(readFileSync(join(dir, inbox, 'dovecot-keywords'), 'utf8')).toBe('0 $Label1\n1 $Work\n');
        expect([fileOf(dir, 11).letters, fileOf(dir, 12).letters]).toEqual(['a', 'b']);
      }
    };
    mg(a, ['sync', 'hub']);
    mg(b, ['sync', 'origin']);
    mg(a, ['sync', 'hub']);
    settled();
    for (const dir of [a, b]) mg(dir, ['fetch'], env);
    mg(a, ['sync', 'hub']);
    mg(b, ['sync', 'origin']);
    expect(await serverFlags('kwpair')).toEqual({ k11: ['$Label1'], k12: ['$Work'] });
    settled();
  }, 180_000);

  test('a message moved between folders keeps its keywords by name, not by letter: moved here (the file keeps the letters of the folder it left) and moved on the server', async () => {
    const env = { MAILGIT_PASSWORD_WORK: 'keyword-pw-7' };
    // INBOX's table gives a to $Junk, Archive's gives a to $Label1.
    await dc.append('INBOX', [msg(21), msg(23)], { user: 'kwmove', flags: ['\\Seen', '$Junk'] });
    await dc.append('Archive', [msg(22)], { user: 'kwmove', flags: ['$Label1'] });
    const dir = join(tempDir('mailgit-kw3-'), 'repo');
    expect(mailgit(['init', dir, '--name', 'kw']).code).toBe(0);
    mg(dir, ['account', 'add', 'work', '--host', '127.0.0.1', '--port', String(dc.port), '--no-tls', '--user', 'kwmove']);
    mg(dir, ['fetch'], env);
    const table = (folder: string) => readFileSync(join(dir, folder, 'dovecot-keywords'), 'utf8');
    expect([table('INBOX'), table('Archive')]).toEqual(['0 $Junk\n', '0 $Label1\n']);
    expect([fileOf(dir, 21).letters, fileOf(dir, 22).letters]).toEqual(['Sa', 'a']);

    // Moved here, as a mail client moves a file: the name, letters and all, into Archive.
    const moved = fileOf(dir, 21).path;
    renameSync(join(dir, moved), join(dir, moved.replace(/^INBOX\//, 'Archive/')));
    mg(dir, ['commit']);
    // Moved on the server by another client: Archive's $Label1 message into INBOX.
    const c = await dc.connect(dc.users.find((u) => u.user === 'kwmove'));
    try {
      await c.mailboxOpen('Archive');
      await c.messageMove('1', 'INBOX', { uid: true });
    } finally {
      await c.logout();
    }
    mg(dir, ['fetch'], env);
    expect(await serverFlags('kwmove', 'Archive')).toEqual({ k21: ['$Junk', '\\Seen'] });
    expect(await serverFlags('kwmove', 'INBOX')).toEqual({ k22: ['$Label1'], k23: ['$Junk', '\\Seen'] });
    // In the repo, each has its folder's letter for its keyword after this one fetch.
    expect([table('INBOX'), table('Archive')]).toEqual(['0 $Junk\n1 $Label1\n', '0 $Label1\n1 $Junk\n']);
    expect(fileOf(dir, 21)).toEqual({ path: expect.stringMatching(/^Archive\/cur\//), letters: 'Sb' });
    expect(fileOf(dir, 22)).toEqual({ path: expect.stringMatching(/^INBOX\/cur\//), letters: 'b' });
    // And no letter or flag changes on the next run (it only moves the checkpoint past the moved message).
    const files = diskMessages(dir).sort();
    mg(dir, ['fetch'], env);
    expect(diskMessages(dir).sort()).toEqual(files);
    expect(await serverFlags('kwmove', 'Archive')).toEqual({ k21: ['$Junk', '\\Seen'] });
    expect(await serverFlags('kwmove', 'INBOX')).toEqual({ k22: ['$Label1'], k23: ['$Junk', '\\Seen'] });
  }, 120_000);
});
