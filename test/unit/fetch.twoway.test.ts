/**
 * Two-way fetch (src/fetch/twoway.ts) against the in-memory source, in real temporary
 * repos: each direction, the safety rules, exactly-once upload. The same against a real
 * Dovecot, with replicas synced through git, is in test/e2e/fetch-twoway.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initRepo } from '../../src/repo/init.js';
import { withRepoLock } from '../../src/repo/lock.js';
import type { Repo } from '../../src/repo/repo.js';
import type { Account } from '../../src/fetch/account.js';
import { fetchAccount, type AccountResult, type FetchOptions } from '../../src/fetch/fetch.js';
import { MemoryMailServer } from '../doubles/memorySource.js';
import { gitOut, tempDir } from '../helpers/cli.js';
import { diskMessages, headMessages, sha } from '../helpers/messages.js';

const PASSWORD = 'mem-pw-2way';
const BOTH: Account = { name: 'work', host: 'imap.example.invalid', port: 143, security: 'none', user: 'me', sync: 'both' };

async function newRepo(name = 'laptop'): Promise<Repo> {
  return (await initRepo(join(tempDir('mailgit-2way-'), 'mail'), { name })).repo;
}

function run(repo: Repo, server: MemoryMailServer, opts: FetchOptions = {}, account: Account = BOTH): Promise<AccountResult> {
  return withRepoLock(repo, { what: 'fetch work' }, (locked) =>
    fetchAccount(locked, { account, password: PASSWORD }, { source: (_a, pw) => server.source(pw), ...opts }),
  );
}

async function ok(repo: Repo, server: MemoryMailServer, opts: FetchOptions = {}, account: Account = BOTH): Promise<AccountResult> {
  const r = await run(repo, server, opts, account);
  expect(r.error).toBeUndefined();
  return r;
}

function gen(i: number, tag: string): string {
  return `From: s${i}@example.org\r\nSubject: ${tag} ${i}\r\nMessage-ID: <${tag}.${i}@example.org>\r\n\r\nbody of ${tag} ${i}\r\n`;
}

/** The repo path of the message with this content (throws if absent). */
function pathOf(repo: Repo, content: string): string {
  const hit = diskMessages(repo.root).find((p) => sha(readFileSync(join(repo.root, p))) === sha(content));
  if (!hit) throw new Error('message not on disk');
  return hit;
}

const has = (repo: Repo, content: string): boolean => diskMessages(repo.root).some((p) => sha(readFileSync(join(repo.root, p))) === sha(content));

/** The server's flags of a message. */
function flagsOf(server: MemoryMailServer, folder: string, uid: number): string[] {
  return [...server.folder(folder).messages.get(uid)!.flags].sort();
}

function setLocalFlags(repo: Repo, content: string, letters: string): void {
  const p = pathOf(repo, content);
  const key = p.slice(p.lastIndexOf('/') + 1).split(':')[0];
  const folder = p.slice(0, p.lastIndexOf('/', p.lastIndexOf('/') - 1));
  renameSync(join(repo.root, p), join(repo.root, folder, 'cur', `${key}:2,${letters}`));
}

/** Another IMAP client moves messages on the server; returns old UID → new UID. */
async function serverMove(server: MemoryMailServer, from: string, uids: number[], to: string): Promise<Map<number, number>> {
  const src = server.source(PASSWORD);
  await src.connect();
  await src.open(from, { write: true });
  const map = await src.move(uids, to);
  await src.close();
  return map;
}

/** A mail client moves the message with this content to another folder of the repo. */
function moveLocal(repo: Repo, content: string, to: string): void {
  const p = pathOf(repo, content);
  renameSync(join(repo.root, p), join(repo.root, to, p.slice(p.indexOf('/') + 1)));
}

const head = (repo: Repo) => gitOut(repo.root, ['rev-parse', 'HEAD']).trim();
const calls = (server: MemoryMailServer) => server.connections.at(-1)!.calls;

describe('two-way fetch against the in-memory source', () => {
  it('flags both ways, per flag three-way: a change on each side to different flags keeps both; nothing ping-pongs', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    const m = [gen(1, 'f'), gen(2, 'f'), gen(3, 'f')];
    server.append('INBOX', m);
    const repo = await newRepo();
    await ok(repo, server);
    // Repo: 1 read, 2 flagged. Server (another client): 2 read, 3 answered.
    setLocalFlags(repo, m[0], 'S');
    setLocalFlags(repo, m[1], 'F');
    server.addFlags('INBOX', 2, ['\\Seen']);
    server.addFlags('INBOX', 3, ['\\Answered']);
    const r = await ok(repo, server);
    expect(r.folders[0].twoWay).toMatchObject({ flagsPushed: 2, flagsPulled: 2 });
    expect(flagsOf(server, 'INBOX', 1)).toEqual(['\\Seen']);
    expect(flagsOf(server, 'INBOX', 2)).toEqual(['\\Flagged', '\\Seen']);
    expect(flagsOf(server, 'INBOX', 3)).toEqual(['\\Answered']);
    expect(pathOf(repo, m[0])).toMatch(/:2,S$/);
    expect(pathOf(repo, m[1])).toMatch(/:2,FS$/);
    expect(pathOf(repo, m[2])).toMatch(/:2,R$/);
    expect(headMessages(repo.root).has(pathOf(repo, m[1]))).toBe(true);
    // Removing on each side: the repo un-reads 1, the server un-flags 2.
    setLocalFlags(repo, m[0], '');
    server.removeFlags('INBOX', 2, ['\\Flagged']);
    await ok(repo, server);
    expect(flagsOf(server, 'INBOX', 1)).toEqual([]);
    expect(pathOf(repo, m[1])).toMatch(/:2,S$/);
    // Settled: the next runs store nothing and commit nothing.
    await ok(repo, server);
    const before = head(repo);
    await ok(repo, server);
    expect(calls(server).filter((c) => c.startsWith('storeFlags'))).toEqual([]);
    expect(head(repo)).toBe(before);
  });

  it('no CONDSTORE: flags come from a UID FETCH 1:n (FLAGS) scan, both ways', async () => {
    const server = new MemoryMailServer({ password: PASSWORD, condstore: false, listStatus: false });
    const m = [gen(1, 'nc'), gen(2, 'nc')];
    server.append('INBOX', m);
    const repo = await newRepo();
    await ok(repo, server);
    server.addFlags('INBOX', 1, ['\\Flagged']);
    setLocalFlags(repo, m[1], 'S');
    await ok(repo, server);
    expect(calls(server)).toContain('flagsUpTo 2');
    expect(calls(server).some((c) => c.startsWith('changedSince'))).toBe(false);
    expect(pathOf(repo, m[0])).toMatch(/:2,F$/);
    expect(flagsOf(server, 'INBOX', 2)).toEqual(['\\Seen']);
    expect(JSON.parse(readFileSync(join(repo.root, '.mailgit/checkpoints/work.json'), 'utf8')).INBOX.modseq).toBeUndefined();
  });

  it('server expunges: deleted in a two-way repo (restorable from history), kept in a pull repo', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    const m = [gen(1, 'x'), gen(2, 'x'), gen(3, 'x')];
    server.append('INBOX', m);
    const both = await newRepo('both');
    const pull = await newRepo('pull');
    await ok(both, server);
    await ok(pull, server, {}, { ...BOTH, sync: 'pull' });
    server.expunge('INBOX', [2]);
    const r = await ok(both, server);
    expect(r.folders[0].twoWay?.deletedHere).toBe(1);
    expect(has(both, m[1])).toBe(false);
    expect(headMessages(both.root).size).toBe(2);
    expect(gitOut(both.root, ['log', '--diff-filter=D', '--name-only', '--format=']).trim()).toMatch(/^INBOX\/new\//);
    await ok(pull, server, {}, { ...BOTH, sync: 'pull' });
    expect(has(pull, m[1])).toBe(true);
    expect(headMessages(pull.root).size).toBe(3);
  });

  it('a mass disappearance on the server is suspect: kept and said; --accept-vanished makes it real', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    server.append(
      'INBOX',
      Array.from({ length: 12 }, (_, i) => gen(i, 'mass')),
    );
    const repo = await newRepo();
    await ok(repo, server);
    server.expunge('INBOX', [...server.contents('INBOX').keys()]);
    const r = await ok(repo, server);
    expect(r.warnings.join('\n')).toMatch(/INBOX: 12 of 12 messages vanished from the server at once; kept here \(suspect\)/);
    expect(headMessages(repo.root).size).toBe(12);
    expect(diskMessages(repo.root).length).toBe(12);
    const again = await ok(repo, server);
    expect(again.warnings.length).toBe(1); // still said, still kept
    await ok(repo, server, { acceptVanished: true });
    expect(headMessages(repo.root).size).toBe(0);
  });

  it('a crash after a big MOVE (server and repo moved, state not yet written) is not a suspect disappearance: no warning, nothing deleted or duplicated', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    const m = Array.from({ length: 12 }, (_, i) => gen(i, 'bigmove'));
    server.append('INBOX', m);
    server.create('Archive');
    const repo = await newRepo();
    await ok(repo, server);
    // What a killed run leaves: the MOVE done on the server, the files moved here, the old state.
    await serverMove(server, 'INBOX', [...server.contents('INBOX').keys()], 'Archive');
    for (const x of m) moveLocal(repo, x, 'Archive');
    const r = await ok(repo, server);
    expect(r.warnings).toEqual([]);
    expect(calls(server).filter((c) => /^(storeFlags|move|append|expunge)/.test(c))).toEqual([]);
    expect(server.contents('Archive').size).toBe(12);
    expect(diskMessages(repo.root).filter((p) => p.startsWith('Archive/')).length).toBe(12);
    expect(headMessages(repo.root).size).toBe(12);
  });

  it('a message moved away and back on the server (a new UID, the same file) is not deleted here (found by the convergence test)', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    const m = gen(1, 'boomerang');
    server.append('INBOX', [m, gen(2, 'boomerang')]);
    server.create('Archive');
    const repo = await newRepo();
    await ok(repo, server);
    const [[, inArchive]] = [...(await serverMove(server, 'INBOX', [1], 'Archive'))];
    await serverMove(server, 'Archive', [inArchive], 'INBOX');
    const r = await ok(repo, server);
    expect(r.folders[0].twoWay?.deletedHere).toBe(0);
    expect(has(repo, m)).toBe(true);
    expect(headMessages(repo.root).has(pathOf(repo, m))).toBe(true);
    await ok(repo, server);
    expect(has(repo, m)).toBe(true);
  });

  it('two replicas move one message to different folders before they sync: the server keeps one copy (the later move wins there), nothing is uploaded', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    const m = gen(1, 'twomoves');
    server.append('INBOX', [m]);
    server.create('Archive');
    server.create('Sent');
    const a = await newRepo('a');
    const b = await newRepo('b');
    await ok(a, server);
    await ok(b, server);
    moveLocal(a, m, 'Archive');
    moveLocal(b, m, 'Sent');
    await ok(a, server);
    const rb = await ok(b, server);
    await ok(b, server);
    expect(rb.folders.reduce((n, f) => n + (f.twoWay?.uploaded ?? 0), 0)).toBe(0);
    const copies = ['INBOX', 'Archive', 'Sent'].flatMap((f) => [...server.contents(f).values()].filter((c) => sha(c) === sha(m)).map(() => f));
    expect(copies).toEqual(['Sent']);
    expect(
      diskMessages(b.root)
        .filter((p) => sha(readFileSync(join(b.root, p))) === sha(m))
        .map((p) => p.split('/')[0]),
    ).toEqual(['Sent']);
  });

  it('a local deletion → \\Deleted on the server (expunged only with expunge); never downloaded again', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    const m = [gen(1, 'd'), gen(2, 'd')];
    server.append('INBOX', m);
    const repo = await newRepo();
    await ok(repo, server);
    unlinkSync(join(repo.root, pathOf(repo, m[0])));
    const r = await ok(repo, server);
    expect(r.folders[0].twoWay?.deletedOnServer).toBe(1);
    expect(flagsOf(server, 'INBOX', 1)).toEqual(['\\Deleted']);
    expect(server.contents('INBOX').size).toBe(2);
    const downloads = server.downloads;
    await ok(repo, server, { rescan: true });
    expect(server.downloads).toBe(downloads);
    expect(has(repo, m[0])).toBe(false);
    // The file comes back (restored, or kept by a merge against a concurrent change): undeleted on the server.
    const gone = gitOut(repo.root, ['log', '--diff-filter=D', '--name-only', '--format=']).trim();
    writeFileSync(join(repo.root, gone), m[0]);
    await ok(repo, server);
    expect(flagsOf(server, 'INBOX', 1)).toEqual([]);
    setLocalFlags(repo, m[0], 'F');
    await ok(repo, server);
    expect(flagsOf(server, 'INBOX', 1)).toEqual(['\\Flagged']);
    unlinkSync(join(repo.root, pathOf(repo, m[0])));
    await ok(repo, server);
    expect(flagsOf(server, 'INBOX', 1)).toEqual(['\\Deleted', '\\Flagged']);
    // With expunge the account removes it for good.
    unlinkSync(join(repo.root, pathOf(repo, m[1])));
    await ok(repo, server, {}, { ...BOTH, expunge: true });
    expect([...server.contents('INBOX').keys()]).toEqual([1]);
    await ok(repo, server);
    expect(headMessages(repo.root).size).toBe(0);
  });

  it('a local move → MOVE on the server; nothing downloaded again, nothing duplicated', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    const m = gen(1, 'mv');
    server.append('INBOX', [m], { flags: ['\\Seen'] });
    server.create('Archive');
    const repo = await newRepo();
    await ok(repo, server);
    const p = pathOf(repo, m);
    moveLocal(repo, m, 'Archive');
    const downloads = server.downloads;
    const r = await ok(repo, server);
    expect(r.folders.find((f) => f.folder === 'INBOX')?.twoWay?.movedOnServer).toBe(1);
    expect(server.contents('INBOX').size).toBe(0);
    expect([...server.contents('Archive').values()].map((c) => sha(c))).toEqual([sha(m)]);
    await ok(repo, server);
    expect(server.downloads).toBe(downloads);
    expect(diskMessages(repo.root)).toEqual([p.replace(/^INBOX\//, 'Archive/')]);
    expect(calls(server).filter((c) => /^(storeFlags|move|append)/.test(c))).toEqual([]);
  });

  it('a new message in the repo → APPEND exactly once, renamed to its fetch name; a crash after the APPEND does not upload it twice', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    server.append('INBOX', [gen(1, 'a')]);
    server.create('Sent', { specialUse: '\\Sent' });
    const repo = await newRepo();
    await ok(repo, server);
    const sent = gen(2, 'sent');
    writeFileSync(join(repo.root, 'Sent', 'cur', '1704067200.M1P2.laptop:2,S'), sent);
    const r = await ok(repo, server);
    expect(r.folders.find((f) => f.folder === 'Sent')?.twoWay?.uploaded).toBe(1);
    const onServer = [...server.contents('Sent').values()];
    expect(onServer.map((c) => sha(c))).toEqual([sha(sent)]);
    expect(flagsOf(server, 'Sent', 1)).toEqual(['\\Seen']);
    expect(pathOf(repo, sent)).toBe(`Sent/cur/1704067200.mg${sha(sent).slice(0, 16)}.mailgit:2,S`);
    const downloads = server.downloads;
    await ok(repo, server);
    expect(server.connections.at(-1)!.calls.filter((c) => c.startsWith('append'))).toEqual([]);
    expect(server.downloads).toBe(downloads); // APPENDUID went into the state: not downloaded back

    // A crash right after an APPEND: the file was renamed, the server has it, the state line never reached the disk.
    const draft = gen(3, 'draft');
    writeFileSync(join(repo.root, 'Sent', 'new', '1704067300.M9P9.laptop'), draft);
    await ok(repo, server);
    const statePath = join(repo.root, '.mailgit/imap/work/Sent/0.state');
    const lines = readFileSync(statePath, 'utf8').split('\n');
    const draftKey = `1704067300.mg${sha(draft).slice(0, 16)}.mailgit`;
    expect(lines.some((l) => l.includes(draftKey))).toBe(true);
    writeFileSync(statePath, lines.filter((l) => !l.includes(draftKey)).join('\n'));
    await ok(repo, server);
    await ok(repo, server);
    expect([...server.contents('Sent').values()].map((c) => sha(c)).sort()).toEqual([sha(sent), sha(draft)].sort());
    expect(diskMessages(repo.root).filter((p) => p.startsWith('Sent/')).length).toBe(2);
    expect(readFileSync(statePath, 'utf8')).toContain(draftKey);
  });

  it('two replicas (synced through git) upload a new message once: the second finds it on the server and drops its old-named copy', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    server.create('Sent');
    const a = await newRepo('a');
    const b = await newRepo('b');
    await ok(a, server);
    await ok(b, server);
    // The same sent message reaches both repos under a client's name (as after a sync).
    const sent = gen(7, 'twice');
    for (const r of [a, b]) writeFileSync(join(r.root, 'Sent', 'cur', '1704067200.M7P7.client:2,S'), sent);
    await ok(a, server);
    await ok(b, server);
    await ok(b, server);
    expect(server.contents('Sent').size).toBe(1);
    for (const r of [a, b])
      expect(diskMessages(r.root).filter((p) => p.startsWith('Sent/'))).toEqual([`Sent/cur/1704067200.mg${sha(sent).slice(0, 16)}.mailgit:2,S`]);
  });

  it('first two-way run on a repo fetched one-way, and a UIDVALIDITY change: local-only mail is held, never uploaded, nothing deleted', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    const m = [gen(1, 'h'), gen(2, 'h'), gen(3, 'h')];
    server.append('INBOX', m);
    const repo = await newRepo();
    await ok(repo, server, {}, { ...BOTH, sync: 'pull' });
    server.expunge('INBOX', [1]); // gone on the server while the repo was one-way: stays here
    const r = await ok(repo, server);
    expect(r.folders[0].twoWay).toMatchObject({ held: 1, uploaded: 0, deletedHere: 0 });
    await ok(repo, server);
    expect(server.contents('INBOX').size).toBe(2);
    expect(has(repo, m[0])).toBe(true);
    // The server renumbers the folder (UIDVALIDITY change) and loses message 2.
    server.expunge('INBOX', [2]);
    server.resetUidValidity('INBOX', 9999, { renumber: true });
    const r2 = await ok(repo, server);
    expect(r2.folders[0].uidValidityReset).toBe(true);
    expect(r2.folders[0].twoWay).toMatchObject({ uploaded: 0, deletedHere: 0, deletedOnServer: 0 });
    await ok(repo, server);
    expect(server.contents('INBOX').size).toBe(1);
    expect(headMessages(repo.root).size).toBe(3);
    expect(existsSync(join(repo.root, '.mailgit/imap/work/INBOX/0.state'))).toBe(true);
    expect(readdirSync(join(repo.root, 'INBOX', 'tmp'))).toEqual([]);
  });
});
