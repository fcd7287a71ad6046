/**
 * One contract for both MailSource implementations: the IMAP one against a real Dovecot
 * (test/helpers/dovecot.ts; populated with its `append` and `doveadm`) and the in-memory
 * one (populated with its own methods) must give the same answers to the same questions.
 *
 * Values a server chooses (UIDVALIDITY, MODSEQ numbers) are compared by their relations
 * (equal here, greater there), everything else exactly.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { MailSourceError, type MailSource, type MessageMeta, type SourceFolder } from '../../src/fetch/mailSource.js';
import { imapSource } from '../../src/fetch/imapSource.js';
import { MemoryMailServer } from '../doubles/memorySource.js';
import { startDovecot, type Dovecot, type DovecotUser } from '../helpers/dovecot.js';
import { freePort } from '../helpers/ports.js';

/** How a test drives "the server" behind a source. */
interface Server {
  /** A new, not yet connected source; `password` defaults to the right one. */
  source(password?: string): MailSource;
  /** A source whose server cannot be reached. */
  unreachableSource(): Promise<MailSource>;
  append(folder: string, messages: (string | Buffer)[], opts?: { flags?: string[]; internalDate?: Date }): Promise<void>;
  create(folder: string): Promise<void>;
  addFlags(folder: string, uid: number, flags: string[]): Promise<void>;
  removeFlags(folder: string, uid: number, flags: string[]): Promise<void>;
  expunge(folder: string, uid: number): Promise<void>;
  resetUidValidity(folder: string, uidValidity: number): Promise<void>;
  /** Cuts every open connection of this server/user. */
  dropConnections(): Promise<void>;
}

const SPECIAL = { Sent: '\\Sent' };

let dc: Dovecot | undefined;
let nextUser = 0;
const USERS: DovecotUser[] = Array.from({ length: 16 }, (_, i) => ({ user: `c${i}`, password: `pw-c${i}-secret` }));

function dovecotServer(): Server {
  const d = dc!;
  const u = USERS[nextUser++];
  const account = (port = d.port) => ({ name: 'contract', host: d.host, port, security: 'none' as const, user: u.user, sync: 'pull' as const });
  return {
    source: (password = u.password) => imapSource(account(), password),
    unreachableSource: async () => imapSource(account(await freePort()), u.password),
    append: (folder, messages, opts = {}) => d.append(folder, messages, { ...opts, user: u }),
    create: (folder) => d.append(folder, [], { user: u }),
    addFlags: async (folder, uid, flags) => void (await d.doveadm(['flags', 'add', '-u', u.user, flags.join(' '), 'mailbox', folder, 'uid', String(uid)])),
    removeFlags: async (folder, uid, flags) =>
      void (await d.doveadm(['flags', 'remove', '-u', u.user, flags.join(' '), 'mailbox', folder, 'uid', String(uid)])),
    expunge: async (folder, uid) => void (await d.doveadm(['expunge', '-u', u.user, 'mailbox', folder, 'uid', String(uid)])),
    resetUidValidity: async (folder, v) => void (await d.doveadm(['mailbox', 'update', '-u', u.user, '--uid-validity', String(v), folder])),
    dropConnections: async () => void (await d.doveadm(['kick', u.user])),
  };
}

function memoryServer(): Server {
  const PASSWORD = 'memory-pw';
  const s = new MemoryMailServer({ password: PASSWORD });
  return {
    source: (password = PASSWORD) => s.source(password),
    unreachableSource: async () => {
      const other = new MemoryMailServer();
      other.unreachable = true;
      return other.source(PASSWORD);
    },
    append: async (folder, messages, opts = {}) => {
      s.create(folder, Object.hasOwn(SPECIAL, folder) ? { specialUse: SPECIAL[folder as keyof typeof SPECIAL] } : {});
      s.append(folder, messages, opts);
    },
    create: async (folder) => s.create(folder, Object.hasOwn(SPECIAL, folder) ? { specialUse: SPECIAL[folder as keyof typeof SPECIAL] } : {}),
    addFlags: async (folder, uid, flags) => s.addFlags(folder, uid, flags),
    removeFlags: async (folder, uid, flags) => s.removeFlags(folder, uid, flags),
    expunge: async (folder, uid) => s.expunge(folder, [uid]),
    resetUidValidity: async (folder, v) => s.resetUidValidity(folder, v),
    dropConnections: async () => s.dropConnections(),
  };
}

beforeAll(async () => {
  dc = await startDovecot({ users: USERS, specialUse: SPECIAL });
}, 120_000);

afterAll(async () => {
  await dc?.stop();
});

const open: MailSource[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function connected(server: Server, password?: string): Promise<MailSource> {
  const s = server.source(password);
  open.push(s);
  await s.connect();
  return s;
}

function msg(i: number, tag: string, extra = ''): string {
  return `From: a${i}@example.org\r\nTo: b@example.org\r\nSubject: ${tag} ${i}\r\nMessage-ID: <${tag}.${i}@example.org>\r\n\r\nbody ${i}\r\n${extra}`;
}

async function bytes(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}

async function rejection(p: Promise<unknown>): Promise<MailSourceError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MailSourceError);
  return err as MailSourceError;
}

const DIGITS = /^[1-9]\d*$/;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const uids = (ms: MessageMeta[]) => ms.map((m) => m.uid);

const impls: [string, () => Server][] = [
  ['imap (Dovecot)', dovecotServer],
  ['memory', memoryServer],
];

describe.each(impls)('MailSource contract: %s', (_name, makeServer) => {
  it('lists folders with delimiter, attributes, server special-use and STATUS', async () => {
    const server = makeServer();
    await server.append('INBOX', [msg(1, 'l'), msg(2, 'l')]);
    await server.append('Lists/rust', [msg(3, 'l')]);
    await server.append('Sent', [msg(4, 'l')]);
    await server.create('Empty');
    const s = await connected(server);
    const listed = (await s.list()).sort((a, b) => (a.path < b.path ? -1 : 1));
    // Server-chosen numbers: checked, then blanked for the exact comparison.
    for (const f of listed) {
      if (!f.status) continue;
      expect(f.status.uidValidity).toMatch(DIGITS);
      expect(f.status.highestModseq).toMatch(DIGITS);
    }
    const blank = (f: SourceFolder) => (f.status ? { ...f, status: { ...f.status, uidValidity: 'V', highestModseq: 'M' } } : f);
    const st = (messages: number, uidNext: number) => ({ messages, uidNext, uidValidity: 'V', highestModseq: 'M' });
    expect(listed.map(blank)).toEqual([
      { path: 'Empty', delimiter: '/', flags: ['\\HasNoChildren'], status: st(0, 1) },
      { path: 'INBOX', delimiter: '/', flags: ['\\HasNoChildren'], status: st(2, 3) },
      { path: 'Lists', delimiter: '/', flags: ['\\HasChildren', '\\Noselect'] },
      { path: 'Lists/rust', delimiter: '/', flags: ['\\HasNoChildren'], status: st(1, 2) },
      { path: 'Sent', delimiter: '/', flags: ['\\HasNoChildren', '\\Sent'], specialUse: '\\Sent', status: st(1, 2) },
    ]);
    // Every folder has its own UIDVALIDITY.
    const validities = listed.filter((f) => f.status).map((f) => f.status!.uidValidity);
    expect(new Set(validities).size).toBe(validities.length);
  });

  it('opens a folder: UIDVALIDITY, UIDNEXT, count and HIGHESTMODSEQ agree with STATUS; a missing folder is a server error', async () => {
    const server = makeServer();
    await server.append('INBOX', [msg(1, 'o'), msg(2, 'o'), msg(3, 'o')]);
    await server.create('Empty');
    const s = await connected(server);
    const listed = new Map((await s.list()).map((f) => [f.path, f]));
    const inbox = await s.open('INBOX');
    expect(inbox).toEqual({
      uidValidity: listed.get('INBOX')!.status!.uidValidity,
      uidNext: 4,
      exists: 3,
      condstore: true,
      highestModseq: listed.get('INBOX')!.status!.highestModseq,
    });
    const empty = await s.open('Empty');
    expect(empty).toEqual({
      uidValidity: listed.get('Empty')!.status!.uidValidity,
      uidNext: 1,
      exists: 0,
      condstore: true,
      highestModseq: listed.get('Empty')!.status!.highestModseq,
    });
    // Each append took a MODSEQ: the fuller folder is ahead.
    expect(BigInt(inbox.highestModseq!)).toBeGreaterThan(BigInt(empty.highestModseq!));
    expect((await rejection(s.open('No/Such/Folder'))).kind).toBe('server');
    // The connection is still usable after a NO.
    expect((await s.open('INBOX')).exists).toBe(3);
  });

  it('lists the UIDs above n with size, flags and INTERNALDATE (whole seconds); never the last one for n >= UIDNEXT', async () => {
    const server = makeServer();
    const date = new Date('2024-03-01T12:34:56.789Z');
    const m = [msg(1, 'u'), msg(2, 'u', 'more\r\n'), msg(3, 'u', `${'x'.repeat(1000)}\r\n`)];
    await server.append('INBOX', [m[0]], { internalDate: date });
    await server.append('INBOX', [m[1]], { flags: ['\\Seen', '\\Flagged', '$Forwarded'], internalDate: date });
    await server.append('INBOX', [m[2]], { flags: ['\\Answered'], internalDate: new Date('2001-02-03T04:05:06Z') });
    const s = await connected(server);
    await s.open('INBOX');
    const all = await s.messagesAfter(0);
    expect(all).toEqual([
      { uid: 1, size: Buffer.byteLength(m[0]), flags: [], internalDate: new Date('2024-03-01T12:34:56Z') },
      { uid: 2, size: Buffer.byteLength(m[1]), flags: ['$Forwarded', '\\Flagged', '\\Seen'], internalDate: new Date('2024-03-01T12:34:56Z') },
      { uid: 3, size: Buffer.byteLength(m[2]), flags: ['\\Answered'], internalDate: new Date('2001-02-03T04:05:06Z') },
    ]);
    expect(uids(await s.messagesAfter(2))).toEqual([3]);
    expect(await s.messagesAfter(3)).toEqual([]);
    expect(await s.messagesAfter(50)).toEqual([]);

    await server.expunge('INBOX', 2);
    const s2 = await connected(server);
    const opened = await s2.open('INBOX');
    expect(opened.exists).toBe(2);
    expect(opened.uidNext).toBe(4);
    expect(uids(await s2.messagesAfter(0))).toEqual([1, 3]);
    expect(uids(await s2.messagesAfter(1))).toEqual([3]);
  });

  it('reports the messages whose flags changed since a MODSEQ, up to a UID', async () => {
    const server = makeServer();
    await server.append('INBOX', [msg(1, 'c'), msg(2, 'c'), msg(3, 'c')], { flags: ['\\Seen'] });
    const s1 = await connected(server);
    const before = await s1.open('INBOX');
    expect((await s1.changedSince(before.highestModseq!, 3)).changed).toEqual([]);

    await server.addFlags('INBOX', 1, ['\\Flagged']);
    await server.removeFlags('INBOX', 3, ['\\Seen']);
    await server.append('INBOX', [msg(4, 'c')], { flags: ['\\Seen'] }); // a new message is not a change of a fetched one
    const s2 = await connected(server);
    const after = await s2.open('INBOX');
    expect(BigInt(after.highestModseq!)).toBeGreaterThan(BigInt(before.highestModseq!));
    const changed = (await s2.changedSince(before.highestModseq!, 3)).changed;
    expect(changed.map((c) => ({ uid: c.uid, flags: c.flags }))).toEqual([
      { uid: 1, flags: ['\\Flagged', '\\Seen'] },
      { uid: 3, flags: [] },
    ]);
    // Full metadata comes with a change (to learn the key of a message fetched elsewhere).
    const all = new Map((await s2.messagesAfter(0)).map((m) => [m.uid, m]));
    for (const c of changed) expect(c).toEqual(all.get(c.uid));
    expect(uids((await s2.changedSince(before.highestModseq!, 2)).changed)).toEqual([1]);
    expect(uids((await s2.changedSince(before.highestModseq!, 4)).changed)).toEqual([1, 3, 4]);
    expect((await s2.changedSince(after.highestModseq!, 4)).changed).toEqual([]);
    // Nothing fetched yet: nothing to ask about.
    expect((await s2.changedSince(before.highestModseq!, 0)).changed).toEqual([]);
  });

  it('downloads byte-exact (CRLF, 8-bit, large streamed), one by one and many at once; expunged ones are absent', async () => {
    const server = makeServer();
    const eight = Buffer.concat([
      Buffer.from('Subject: =?x?= 8bit\r\nContent-Type: text/plain; charset=latin1\r\n\r\n'),
      Buffer.from([0xe4, 0xf6, 0xfc, 0x0d, 0x0a, 0x20, 0x09, 0x0d, 0x0a]),
    ]);
    const line = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n';
    const large = Buffer.from(`Subject: large\r\nContent-Transfer-Encoding: base64\r\n\r\n${line.repeat(Math.ceil((3 << 20) / line.length))}`);
    const tricky = Buffer.from(`Subject: tricky\r\nX-Long: ${'y'.repeat(2500)}\r\n\r\n.\r\n..dots\r\ntab\there  \r\n  trailing spaces  \r\n\r\n\r\n`);
    const sent = [Buffer.from(msg(1, 'd')), eight, large, tricky, Buffer.from(msg(5, 'd'))];
    await server.append('INBOX', sent);
    await server.expunge('INBOX', 5);
    const s = await connected(server);
    await s.open('INBOX');
    const metas = await s.messagesAfter(0);
    expect(uids(metas)).toEqual([1, 2, 3, 4]);
    for (const m of metas) expect(m.size).toBe(sent[m.uid - 1].length);

    const many: [number, string][] = [];
    for await (const d of s.downloadMany([4, 1, 2, 3, 5])) many.push([d.uid, sha(d.content)]);
    expect(many).toEqual([1, 2, 3, 4].map((u) => [u, sha(sent[u - 1])]));
    for (const u of [1, 2, 3, 4]) {
      const r = await s.download(u);
      expect(r).not.toBeNull();
      expect(sha(await bytes(r!))).toBe(sha(sent[u - 1]));
    }
    expect(await s.download(5)).toBeNull();
    expect(await s.download(99)).toBeNull();
    const none: number[] = [];
    for await (const d of s.downloadMany([])) none.push(d.uid);
    expect(none).toEqual([]);
  });

  it('refuses any other call while downloadMany is being iterated (instead of deadlocking)', async () => {
    const server = makeServer();
    await server.append('INBOX', [msg(1, 'b'), msg(2, 'b'), msg(3, 'b')]);
    const s = await connected(server);
    await s.open('INBOX');
    const seen: number[] = [];
    let refused: MailSourceError | null = null;
    for await (const d of s.downloadMany([1, 2, 3])) {
      seen.push(d.uid);
      if (d.uid === 1) refused = await rejection(s.messagesAfter(0));
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(refused?.kind).toBe('busy');
    // Usable again afterwards, also after an abandoned iteration.
    expect(uids(await s.messagesAfter(0))).toEqual([1, 2, 3]);
    for await (const d of s.downloadMany([1, 2, 3])) if (d.uid === 1) break;
    expect(uids(await s.messagesAfter(1))).toEqual([2, 3]);
  });

  it('a UIDVALIDITY reset shows in STATUS and SELECT', async () => {
    const server = makeServer();
    await server.append('INBOX', [msg(1, 'r'), msg(2, 'r')]);
    const s1 = await connected(server);
    const before = await s1.open('INBOX');
    await s1.close();
    await server.resetUidValidity('INBOX', 4242);
    const s2 = await connected(server);
    const st = (await s2.list()).find((f) => f.path === 'INBOX')!.status!;
    const after = await s2.open('INBOX');
    expect(before.uidValidity).not.toBe('4242');
    expect(after.uidValidity).toBe('4242');
    expect(st.uidValidity).toBe('4242');
    expect(after.exists).toBe(2);
  });

  it('typed failures: wrong password → auth, no server → unreachable, dropped connection → lost', async () => {
    const server = makeServer();
    await server.append('INBOX', [msg(1, 'f')]);
    const bad = server.source('wrong-password-zz');
    open.push(bad);
    const auth = await rejection(bad.connect());
    expect(auth.kind).toBe('auth');
    expect(auth.message).not.toContain('wrong-password-zz');

    const gone = await server.unreachableSource();
    open.push(gone);
    expect((await rejection(gone.connect())).kind).toBe('unreachable');

    const s = await connected(server);
    await s.open('INBOX');
    await server.dropConnections();
    // The server may need a moment to cut the socket: poll with a harmless command.
    let err: unknown = null;
    for (let i = 0; i < 100 && err === null; i++) {
      err = await s.messagesAfter(0).then(
        () => null,
        (e: unknown) => e,
      );
      if (err === null) await new Promise((r) => setTimeout(r, 100));
    }
    expect(err).toBeInstanceOf(MailSourceError);
    expect((err as MailSourceError).kind).toBe('lost');
    await s.close(); // never rejects, also when lost
    await s.close();
  });
});

describe.each(impls)('MailSource contract, two-way calls: %s', (_name, makeServer) => {
  it('flag scan, UID list and metadata of chosen UIDs see exactly what the folder holds', async () => {
    const server = makeServer();
    await server.append('INBOX', [msg(1, 's'), msg(2, 's'), msg(3, 's')], { flags: ['\\Seen'] });
    await server.addFlags('INBOX', 3, ['\\Flagged']);
    await server.expunge('INBOX', 2);
    const s = await connected(server);
    await s.open('INBOX');
    expect(await s.flagsUpTo(10)).toEqual([
      { uid: 1, flags: ['\\Seen'] },
      { uid: 3, flags: ['\\Flagged', '\\Seen'] },
    ]);
    expect(await s.flagsUpTo(2)).toEqual([{ uid: 1, flags: ['\\Seen'] }]);
    expect(await s.uids()).toEqual([1, 3]);
    const metas = await s.metasOf([3, 2, 1]);
    expect(uids(metas)).toEqual([1, 3]);
    expect(metas[1].size).toBe(Buffer.byteLength(msg(3, 's')));
    expect(await s.searchMessageId('<s.3@example.org>')).toEqual([3]);
    expect(await s.searchMessageId('<nobody@example.org>')).toEqual([]);
  });

  it('writes: refused read-only; STORE per flag, APPEND with APPENDUID, MOVE with new UIDs, expunge of exactly the UIDs given', async () => {
    const server = makeServer();
    await server.append('INBOX', [msg(1, 'w'), msg(2, 'w'), msg(3, 'w')]);
    await server.create('Archive');
    const s = await connected(server);
    await s.open('INBOX');
    expect((await rejection(s.storeFlags([1], ['\\Seen'], 'add'))).kind).toBe('server');
    const opened = await s.open('INBOX', { write: true });
    // The server's answer per changed message: its flags, and a MODSEQ above the folder's at SELECT, rising.
    const first = await s.storeFlags([1, 2], ['\\Seen'], 'add');
    expect(first.map((a) => [a.uid, a.flags])).toEqual([
      [1, ['\\Seen']],
      [2, ['\\Seen']],
    ]);
    expect(BigInt(first[0].modseq!)).toBeGreaterThan(BigInt(opened.highestModseq!));
    const second = await s.storeFlags([2, 3], ['\\Seen'], 'remove'); // 3 has no \Seen: unchanged, not answered
    expect(second.map((a) => [a.uid, a.flags])).toEqual([[2, []]]);
    expect(BigInt(second[0].modseq!)).toBeGreaterThan(BigInt(first[1].modseq!));
    await s.storeFlags([3], ['$Forwarded'], 'add');
    expect(await s.flagsUpTo(3)).toEqual([
      { uid: 1, flags: ['\\Seen'] },
      { uid: 2, flags: [] },
      { uid: 3, flags: ['$Forwarded'] },
    ]);
    const date = new Date('2024-02-03T04:05:06Z');
    const a = await s.append('INBOX', Buffer.from(msg(4, 'w')), ['\\Draft'], date);
    expect(a.uid).toBe(4);
    expect(a.uidValidity).toMatch(DIGITS);
    const moved = await s.move([1, 3], 'Archive');
    expect([...moved.keys()].sort()).toEqual([1, 3]);
    await s.expunge([2]);
    await s.open('INBOX', { write: true });
    const left = await s.messagesAfter(0);
    expect(left.map((m) => [m.uid, m.flags, m.internalDate?.toISOString()])).toEqual([[4, ['\\Draft'], date.toISOString()]]);
    await s.open('Archive');
    const arch = await s.messagesAfter(0);
    expect(uids(arch).sort()).toEqual([...moved.values()].sort());
    expect(arch.map((m) => m.flags).sort()).toEqual([['$Forwarded'], ['\\Seen']]);
  });
});

describe('fetch.ts talks to servers only through MailSource', () => {
  it('imports no imapflow', () => {
    const text = readFileSync(resolve(__dirname, '../../src/fetch/fetch.ts'), 'utf8');
    expect(text).not.toMatch(/from 'imapflow'/);
  });
});
