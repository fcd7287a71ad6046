/**
 * The fetch logic (src/fetch/fetch.ts) against the in-memory mail source, in real temporary
 * mail repos: fast, and able to fail exactly where a test wants. The same behaviours
 * against a real Dovecot are in test/e2e/fetch.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { initRepo } from '../../src/repo/init.js';
import { withRepoLock } from '../../src/repo/lock.js';
import { record } from '../../src/repo/record.js';
import type { Repo } from '../../src/repo/repo.js';
import type { Account } from '../../src/fetch/account.js';
import { fetchAccount, type AccountResult, type FetchOptions } from '../../src/fetch/fetch.js';
import { MemoryMailServer } from '../doubles/memorySource.js';
import { gitOut, tempDir } from '../helpers/cli.js';
import { diskMessages, headMessages, keyOf, sha } from '../helpers/messages.js';

const PASSWORD = 'mem-pw-0815';
const ACCOUNT: Account = { name: 'work', host: 'imap.example.invalid', port: 143, security: 'none', user: 'me', sync: 'pull' };

async function newRepo(name = 'laptop'): Promise<Repo> {
  return (await initRepo(join(tempDir('mailgit-fetchmem-'), 'mail'), { name })).repo;
}

function run(repo: Repo, server: MemoryMailServer, opts: FetchOptions = {}, password = PASSWORD): Promise<AccountResult> {
  return withRepoLock(repo, { what: 'fetch work' }, (locked) =>
    fetchAccount(locked, { account: ACCOUNT, password }, { source: (_a, pw) => server.source(pw), ...opts }),
  );
}

function gen(i: number, tag: string, lines = 3): string {
  const body = Array.from({ length: lines }, (_, j) => `line ${j} of ${tag} ${i}`).join('\r\n');
  return `From: s${i}@example.org\r\nSubject: ${tag} ${i}\r\nMessage-ID: <${tag}.${i}@example.org>\r\n\r\n${body}\r\n`;
}

function checkpoint(repo: Repo, rev = 'HEAD'): Record<string, { uidValidity: string; uid: number; modseq?: string }> {
  return JSON.parse(gitOut(repo.root, ['show', `${rev}:.mailgit/checkpoints/work.json`]));
}

const head = (repo: Repo) => gitOut(repo.root, ['rev-parse', 'HEAD']).trim();

/** The on-disk path of the message with this content. */
function pathOf(repo: Repo, content: string | Buffer): string {
  const want = sha(content);
  const hit = diskMessages(repo.root).find((p) => sha(readFileSync(join(repo.root, p))) === want);
  if (!hit) throw new Error('message not on disk');
  return hit;
}

describe('fetch against the in-memory source', () => {
  it('first fetch: byte-exact, deterministic names, checkpoint committed; incremental fetch asks only for new UIDs; nothing new → no commit, no SELECT', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    const date = new Date('2024-01-01T00:00:00Z');
    const inbox = Array.from({ length: 5 }, (_, i) => gen(i, 'in'));
    server.append('INBOX', inbox.slice(0, 3), { internalDate: date });
    server.append('INBOX', inbox.slice(3), { flags: ['\\Seen', '\\Answered'], internalDate: date });
    server.append('Lists/rust', [gen(1, 'rust'), gen(2, 'rust')], { internalDate: date });
    const repo = await newRepo();

    const r = await run(repo, server);
    expect(r.error).toBeUndefined();
    expect(r.fetched).toBe(7);
    expect(r.folders.map((f) => [f.folder, f.fetched])).toEqual([
      ['INBOX', 5],
      ['Lists/rust', 2],
    ]);
    const files = headMessages(repo.root);
    expect(files.size).toBe(7);
    for (const m of inbox) {
      const p = pathOf(repo, m);
      expect(files.has(p)).toBe(true);
      expect(keyOf(p)).toBe(`${date.getTime() / 1000}.mg${sha(m).slice(0, 16)}.mailgit`);
    }
    expect(pathOf(repo, inbox[0])).toMatch(/^INBOX\/new\/[^:]+$/);
    expect(pathOf(repo, inbox[4])).toMatch(/^INBOX\/cur\/[^:]+:2,RS$/);
    expect(pathOf(repo, gen(1, 'rust'))).toMatch(/^Lists\/rust\/new\//);
    const cp = checkpoint(repo);
    expect(Object.keys(cp)).toEqual(['INBOX', 'Lists/rust']);
    expect(cp.INBOX).toMatchObject({ uid: 5, uidValidity: expect.stringMatching(/^\d+$/), modseq: expect.stringMatching(/^\d+$/) });
    expect(cp['Lists/rust'].uid).toBe(2);
    expect(gitOut(repo.root, ['log', '--format=%s'])).toMatch(/^fetch work: INBOX \+5, Lists\/rust \+2$/m);

    // Incremental: only UIDs above the checkpoint are listed and downloaded.
    server.append('INBOX', [gen(6, 'in'), gen(7, 'in')]);
    const downloadsBefore = server.downloads;
    const r2 = await run(repo, server);
    expect(r2.error).toBeUndefined();
    expect(r2.fetched).toBe(2);
    expect(server.downloads - downloadsBefore).toBe(2);
    const calls = server.connections.at(-1)!.calls;
    expect(calls).toContain('messagesAfter 5');
    expect(calls.some((c) => c.startsWith('open Lists/rust'))).toBe(false); // LIST-STATUS said unchanged
    expect(headMessages(repo.root).size).toBe(9);
    expect(checkpoint(repo).INBOX.uid).toBe(7);

    // Nothing new: no folder is opened, no commit is made.
    const before = head(repo);
    const r3 = await run(repo, server);
    expect(r3.error).toBeUndefined();
    expect(server.connections.at(-1)!.calls.filter((c) => c.startsWith('open'))).toEqual([]);
    expect(head(repo)).toBe(before);
  });

  it('maps server flags to Maildir letters (keywords to dovecot-keywords letters); CONDSTORE changes rename files three-way, also for messages this machine did not map', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    server.append('INBOX', [gen(0, 'all')], { flags: ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft', '$Forwarded', '$Junk', 'custom'] });
    const m = [gen(1, 'f'), gen(2, 'f'), gen(3, 'f'), gen(4, 'f')];
    server.append('INBOX', m, { flags: ['\\Seen'] });
    const repo = await newRepo();
    expect((await run(repo, server)).error).toBeUndefined();
    expect(pathOf(repo, gen(0, 'all'))).toMatch(/:2,DFPRSTab$/);
    expect(readFileSync(join(repo.root, 'INBOX/dovecot-keywords'), 'utf8')).toBe('0 $Junk\n1 custom\n');
    for (const x of m) expect(pathOf(repo, x)).toMatch(/\/cur\/[^/]+:2,S$/);

    // A local change the server does not know about: message 3 passed (P) locally.
    const p3 = pathOf(repo, m[2]);
    renameSync(join(repo.root, p3), join(repo.root, p3.replace(/:2,S$/, ':2,PS')));
    await withRepoLock(repo, { what: 'commit' }, (locked) => record(locked, { message: 'local flag' }));

    server.addFlags('INBOX', 2, ['\\Flagged']);
    server.removeFlags('INBOX', 3, ['\\Seen']);
    server.addFlags('INBOX', 4, ['\\Answered']);
    const r = await run(repo, server);
    expect(r.error).toBeUndefined();
    expect(r.folders[0].flagsUpdated).toBe(3);
    expect(r.fetched).toBe(0);
    expect(server.connections.at(-1)!.calls.some((c) => c.startsWith('changedSince '))).toBe(true);
    expect(pathOf(repo, m[0])).toMatch(/:2,FS$/);
    expect(pathOf(repo, m[1])).toMatch(/\/cur\/[^:]+:2,$/);
    expect(pathOf(repo, m[2])).toMatch(/:2,PRS$/);
    const files = headMessages(repo.root);
    expect(files.size).toBe(5);
    for (const p of diskMessages(repo.root)) expect(files.has(p)).toBe(true);
    expect(gitOut(repo.root, ['log', '-1', '--format=%s'])).toBe('fetch work: INBOX +0 (3 flag changes)\n');

    // The UID map is lost (or the messages came through sync): a flag change still finds
    // its file, by downloading the message once to learn its key — and stores nothing new.
    rmSync(join(repo.gitDir, 'mailgit', 'fetch'), { recursive: true, force: true });
    server.addFlags('INBOX', 5, ['\\Flagged']);
    const r2 = await run(repo, server);
    expect(r2.error).toBeUndefined();
    expect(r2.folders[0].flagsUpdated).toBe(1);
    expect(pathOf(repo, m[3])).toMatch(/:2,FS$/);
    expect(headMessages(repo.root).size).toBe(5);
    expect(readdirSync(join(repo.root, 'INBOX', 'tmp'))).toEqual([]);
  });

  it('UIDVALIDITY reset (UIDs renumbered) re-reads the folder without duplicating or deleting anything', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    server.append('INBOX', [gen(1, 'r'), gen(2, 'r'), gen(3, 'r')]);
    const repo = await newRepo();
    expect((await run(repo, server)).error).toBeUndefined();
    const head1 = headMessages(repo.root);
    expect(head1.size).toBe(3);

    server.expunge('INBOX', [1]); // gone on the server: stays here
    server.resetUidValidity('INBOX', 4242, { renumber: true });
    server.append('INBOX', [gen(4, 'r')]);
    const r = await run(repo, server);
    expect(r.error).toBeUndefined();
    const f = r.folders[0];
    expect(f.uidValidityReset).toBe(true);
    expect(f.fetched).toBe(1);
    expect(f.existing).toBe(2);
    const head2 = headMessages(repo.root);
    expect(head2.size).toBe(4);
    for (const [p, b] of head1) expect(head2.get(p)).toBe(b);
    expect(checkpoint(repo).INBOX).toMatchObject({ uidValidity: '4242', uid: 3 });

    // And a later incremental run continues from the new numbering.
    server.append('INBOX', [gen(5, 'r')]);
    const r2 = await run(repo, server);
    expect(r2.folders[0]).toMatchObject({ fetched: 1, uidValidityReset: false });
    expect(server.connections.at(-1)!.calls).toContain('messagesAfter 3');
    expect(headMessages(repo.root).size).toBe(5);
  });

  for (const [how, streamThreshold] of [
    ['small messages (one round trip per chunk)', undefined],
    ['streamed messages (one download each)', 0],
  ] as const) {
    it(`connection lost mid-folder, ${how}: exit 69, what arrived is committed, the rerun downloads only the rest`, async () => {
      const N = 50;
      const server = new MemoryMailServer({ password: PASSWORD });
      server.append(
        'INBOX',
        Array.from({ length: N }, (_, i) => gen(i, 'drop', 20)),
      );
      const repo = await newRepo();
      server.dropAfterDownloads(23);
      const opts: FetchOptions = { chunkMessages: 10, commitMessages: 10, ...(streamThreshold !== undefined ? { streamThreshold } : {}) };
      const r = await run(repo, server, opts);
      expect(r.error?.exitCode).toBe(69);
      expect(r.error?.message).toMatch(/connection to imap\.example\.invalid:143 lost .*what arrived is committed/);
      // 23 messages arrived whole: all committed; the checkpoint stops at the last full chunk.
      expect(headMessages(repo.root).size).toBe(23);
      expect(diskMessages(repo.root).length).toBe(23);
      expect(checkpoint(repo).INBOX.uid).toBe(20);
      expect(readdirSync(join(repo.root, 'INBOX', 'tmp'))).toEqual([]);

      const before = server.downloads;
      const again = await run(repo, server, opts);
      expect(again.error).toBeUndefined();
      expect(server.downloads - before).toBe(N - 23); // 21–23 are known from the UID map
      expect(again.folders[0].existing).toBe(3);
      const files = headMessages(repo.root);
      expect(files.size).toBe(N);
      expect(new Set([...files.keys()].map(keyOf)).size).toBe(N);
      for (const [, content] of server.contents('INBOX')) expect(files.has(pathOf(repo, content))).toBe(true);
      expect(checkpoint(repo).INBOX.uid).toBe(N);
    });
  }

  it('two repos fetching the same server (different order and chunking) write identical trees', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    const date = new Date('2023-06-01T10:00:00Z');
    server.append(
      'INBOX',
      Array.from({ length: 30 }, (_, i) => gen(i, 'twin')),
      { flags: ['\\Seen'], internalDate: date },
    );
    server.append(
      'Lists/rust',
      Array.from({ length: 10 }, (_, i) => gen(i, 'rust')),
      { internalDate: date },
    );
    server.append('Archive/2023', [gen(1, 'arch', 40)], { flags: ['\\Flagged'], internalDate: date });
    const a = await newRepo('laptop');
    const b = await newRepo('desktop');
    expect((await run(a, server)).error).toBeUndefined();
    expect((await run(b, server, { newestFirst: true, chunkMessages: 7, commitMessages: 15, streamThreshold: 300 })).error).toBeUndefined();
    const lsTree = (repo: Repo) =>
      gitOut(repo.root, ['ls-tree', '-r', 'HEAD'])
        .split('\n')
        .filter((l) => l && !l.endsWith('\t.mailgit/config.json'));
    const ta = lsTree(a);
    expect(ta.filter((l) => /\/(cur|new)\//.test(l)).length).toBe(41);
    expect(lsTree(b)).toEqual(ta); // same paths, same blobs, same checkpoint
  });

  it('login failures: wrong password → 77 (never echoed), unreachable → 69; nothing committed', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    server.append('INBOX', [gen(1, 'x')]);
    const repo = await newRepo();
    const before = head(repo);
    const wrong = 'Wr0ng-pw-qq';
    const r = await run(repo, server, {}, wrong);
    expect(r.error?.exitCode).toBe(77);
    expect(r.error?.message).toMatch(/login as me on imap\.example\.invalid:143 failed/);
    expect(r.error?.message).not.toContain(wrong);
    server.unreachable = true;
    const u = await run(repo, server);
    expect(u.error?.exitCode).toBe(69);
    expect(u.error?.message).toMatch(/cannot connect to imap\.example\.invalid:143/);
    expect(head(repo)).toBe(before);
  });

  for (const listStatus of [false, true]) {
    it(`a server without CONDSTORE (LIST-STATUS ${listStatus ? 'with' : 'without'} STATUS): no modseq, every folder opened, flags by a UID FETCH 1:n (FLAGS) scan, new mail by UID`, async () => {
      const server = new MemoryMailServer({ password: PASSWORD, condstore: false, listStatus });
      server.append('INBOX', [gen(1, 'plain'), gen(2, 'plain')], { flags: ['\\Seen'] });
      server.append('Other', [gen(3, 'plain')]);
      const repo = await newRepo();
      expect((await run(repo, server)).error).toBeUndefined();
      const cp = checkpoint(repo);
      expect(cp.INBOX.uid).toBe(2);
      expect(cp.INBOX.modseq).toBeUndefined();
      server.append('INBOX', [gen(4, 'plain')]);
      server.addFlags('INBOX', 1, ['\\Flagged']);
      server.addFlags('Other', 1, ['\\Answered']); // no new mail there: only the scan sees it
      const r = await run(repo, server);
      expect(r.error).toBeUndefined();
      expect(r.fetched).toBe(1);
      const calls = server.connections.at(-1)!.calls;
      expect(calls).toEqual(expect.arrayContaining(['open INBOX', 'open Other', 'flagsUpTo 2', 'flagsUpTo 1', 'messagesAfter 2']));
      expect(calls.some((c) => c.startsWith('changedSince'))).toBe(false);
      expect(pathOf(repo, gen(1, 'plain'))).toMatch(/:2,FS$/);
      expect(pathOf(repo, gen(3, 'plain'))).toMatch(/:2,R$/);
      expect(headMessages(repo.root).size).toBe(4);
    });
  }

  it('a message expunged between listing and download is skipped; the checkpoint moves past it', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    server.append('INBOX', [gen(1, 'gone'), gen(2, 'gone'), gen(3, 'gone')]);
    server.append('INBOX', [gen(4, 'gone', 400)]);
    server.onCall = (call) => {
      if (call.startsWith('downloadMany')) server.expunge('INBOX', [2]);
      if (call === 'download 4') server.expunge('INBOX', [4]);
    };
    const repo = await newRepo();
    const r = await run(repo, server, { streamThreshold: 5000 });
    expect(r.error).toBeUndefined();
    expect(r.fetched).toBe(2);
    expect(checkpoint(repo).INBOX.uid).toBe(4);
    expect([...headMessages(repo.root).keys()].map((p) => sha(readFileSync(join(repo.root, p)))).sort()).toEqual(
      [sha(gen(1, 'gone')), sha(gen(3, 'gone'))].sort(),
    );
  });

  it('--max-size skips (checkpoint moves past), --rescan later picks the message up without duplicating', async () => {
    const server = new MemoryMailServer({ password: PASSWORD });
    server.append('INBOX', [gen(1, 'm'), gen(2, 'm', 2000)]);
    const repo = await newRepo();
    const r = await run(repo, server, { maxSize: 10_000 });
    expect(r.folders[0]).toMatchObject({ fetched: 1, tooLarge: 1 });
    expect(checkpoint(repo).INBOX.uid).toBe(2);
    expect(headMessages(repo.root).size).toBe(1);
    const r2 = await run(repo, server, { rescan: true });
    expect(r2.folders[0]).toMatchObject({ fetched: 1, existing: 1 });
    expect(headMessages(repo.root).size).toBe(2);
  });
});
