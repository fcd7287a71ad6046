/**
 * Pushing to peers whose own git settings would turn a push into a deletion, and replicas
 * that share a name: over a real sshd (test/helpers/sshd.ts) and by path. A push must never
 * move a branch that has a Maildir checked out behind it, whatever the peer's
 * `receive.denyCurrentBranch` says, and no push may overwrite what another replica left on
 * a peer.
 */
import { describe, expect, test, vi } from 'vitest';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { gitOut, tempDir } from '../helpers/cli.js';
import { addRemote, arrive, cloneReplica, expectDiskIsHead, headTree, initReplica, messagesAt, mg } from '../helpers/replica.js';
import { sshdPerSuite, sshdUnavailable } from '../helpers/sshd.js';

vi.setConfig({ testTimeout: 600_000 });

const skip = sshdUnavailable();
const SETTINGS = ['refuse', 'ignore', 'warn', 'updateInstead'] as const;

/**
 * A pushes new mail to a checked-out peer B whose `receive.denyCurrentBranch` is `setting`,
 * reached at `url(b)`; then B and A sync. B's branch must not move under its Maildir, and
 * afterwards both hold every message.
 */
function pushToCheckedOutPeer(setting: string, url: (path: string) => string, env: Record<string, string> = {}): void {
  const dir = tempDir(`mailgit-peer-${setting}-`);
  const a = initReplica(join(dir, 'a'), 'a');
  const old = [arrive(a, 'old1'), arrive(a, 'old2')];
  mg(a, ['commit']);
  const b = cloneReplica(a, join(dir, 'b'), 'b');
  gitOut(b, ['config', 'receive.denyCurrentBranch', setting]);
  const bHead = gitOut(b, ['rev-parse', 'HEAD']).trim();
  addRemote(a, 'b', url(b));
  const fresh = [arrive(a, 'new1'), arrive(a, 'new2')];
  mg(a, ['sync', 'b'], env);
  expect(gitOut(b, ['rev-parse', 'HEAD']).trim(), `${setting}: B's checked-out main moved`).toBe(bHead);
  expectDiskIsHead(b);
  mg(a, ['sync', 'b'], env); // a second sync with nothing new is fine too
  mg(b, ['sync']);
  mg(a, ['sync', 'b'], env);
  for (const r of [a, b]) {
    const have = messagesAt(r);
    for (const k of [...old, ...fresh]) expect(have.has(k), `${setting}: ${k} in ${r}`).toBe(true);
    expectDiskIsHead(r);
  }
  expect(headTree(a)).toBe(headTree(b));
}

describe.skipIf(skip !== null)('pushes to a checked-out peer over ssh', () => {
  const sshd = sshdPerSuite();

  for (const setting of SETTINGS) {
    test(`receive.denyCurrentBranch=${setting} on the peer: its branch never moves, nothing is lost`, () => {
      pushToCheckedOutPeer(setting, (p) => sshd.url(p), sshd.env);
    });
  }
});

describe('pushes to a checked-out peer by path', () => {
  for (const setting of SETTINGS) {
    test(`receive.denyCurrentBranch=${setting} on the peer: its branch never moves, nothing is lost`, () => {
      pushToCheckedOutPeer(setting, (p) => p);
    });
  }
});

/** `git for-each-ref` names under `prefix` in `repo`. */
function refsUnder(repo: string, prefix: string): string[] {
  return gitOut(repo, ['for-each-ref', '--format=%(refname)', prefix]).split('\n').filter(Boolean);
}

describe('replica identity', () => {
  test('two replicas cloned with one name both reach a checked-out peer: neither push overwrites the other', () => {
    const dir = tempDir('mailgit-samename-');
    const p = initReplica(join(dir, 'p'), 'p');
    arrive(p, 'p0');
    mg(p, ['commit']);
    const x = cloneReplica(p, join(dir, 'x'), 'laptop');
    const y = cloneReplica(p, join(dir, 'y'), 'laptop');
    const idX = gitOut(x, ['config', 'mailgit.id']).trim();
    const idY = gitOut(y, ['config', 'mailgit.id']).trim();
    expect(idX).toMatch(/^[0-9a-f]{16}$/);
    expect(idY).toMatch(/^[0-9a-f]{16}$/);
    expect(idX).not.toBe(idY);
    const x1 = arrive(x, 'x1');
    const y1 = arrive(y, 'y1');
    mg(x, ['sync']);
    mg(y, ['sync']);
    expect(refsUnder(p, 'refs/mailgit/incoming/').sort()).toEqual([`refs/mailgit/incoming/${idX}/laptop`, `refs/mailgit/incoming/${idY}/laptop`].sort());
    const r = mg(p, ['sync', '-v']);
    expect(r.stdout).toMatch(/received {2}laptop: /);
    const have = messagesAt(p);
    expect(have.has(x1), 'x1 reached p').toBe(true);
    expect(have.has(y1), 'y1 reached p').toBe(true);
    expect(refsUnder(p, 'refs/mailgit/incoming/')).toEqual([]);
    expectDiskIsHead(p);
  });

  test('a copy of a replica directory (same id) pushing to the same peer merges what the other left there, never overwrites it', () => {
    const dir = tempDir('mailgit-copy-');
    const p = initReplica(join(dir, 'p'), 'p');
    mg(p, ['commit']);
    const x = cloneReplica(p, join(dir, 'x'), 'x');
    const x2 = join(dir, 'x2');
    execFileSync('cp', ['-a', x, x2]);
    const k1 = arrive(x, 'k1');
    const k2 = arrive(x2, 'k2');
    mg(x, ['sync']);
    mg(x2, ['sync']);
    mg(p, ['sync']);
    const have = messagesAt(p);
    expect(have.has(k1), 'the first push survived').toBe(true);
    expect(have.has(k2), 'the second push arrived').toBe(true);
    expect(messagesAt(x2).has(k1)).toBe(true);
    expectDiskIsHead(p);
    expectDiskIsHead(x2);
  });

  test('a repo made before replica ids gets an id and its worktree marker at its first command, and is then pushed to as a checked-out peer', () => {
    const dir = tempDir('mailgit-oldrepo-');
    const a = initReplica(join(dir, 'a'), 'a');
    mg(a, ['commit']);
    const b = cloneReplica(a, join(dir, 'b'), 'b');
    gitOut(b, ['config', '--unset', 'mailgit.id']);
    gitOut(b, ['update-ref', '-d', 'refs/mailgit/worktree']);
    gitOut(b, ['config', 'receive.denyCurrentBranch', 'ignore']);
    mg(b, ['status']);
    expect(gitOut(b, ['config', 'mailgit.id']).trim()).toMatch(/^[0-9a-f]{16}$/);
    expect(refsUnder(b, 'refs/mailgit/worktree')).toEqual(['refs/mailgit/worktree']);
    const bHead = gitOut(b, ['rev-parse', 'HEAD']).trim();
    addRemote(a, 'b', `file://${b}`);
    const k = arrive(a, 'k');
    mg(a, ['sync', 'b']);
    expect(refsUnder(a, 'refs/mailgit/fetched/b/worktree'), 'a saw b advertise its work tree').toEqual(['refs/mailgit/fetched/b/worktree']);
    expect(gitOut(b, ['rev-parse', 'HEAD']).trim()).toBe(bHead);
    mg(b, ['sync']);
    expect(messagesAt(b).has(k)).toBe(true);
    expectDiskIsHead(b);
  });
});

test('pushes a peer leaves in our incoming refs: an unrelated history waits for --allow-unrelated, a blob is dropped, neither wedges sync', () => {
  const dir = tempDir('mailgit-incoming-hostile-');
  const b = initReplica(join(dir, 'b'), 'b');
  const mine = arrive(b, 'mine');
  mg(b, ['commit']);
  const s = initReplica(join(dir, 's'), 'stranger');
  const theirs = arrive(s, 'theirs');
  mg(s, ['commit']);
  gitOut(s, ['push', '-q', b, 'HEAD:refs/mailgit/incoming/0123456789abcdef/stranger']);
  const blob = gitOut(s, ['rev-parse', 'HEAD:.mailgit/config.json']).trim();
  gitOut(s, ['push', '-q', b, `${blob}:refs/mailgit/incoming/fedcba9876543210/junk`]);
  const head = gitOut(b, ['rev-parse', 'HEAD']).trim();
  const r = mg(b, ['sync']);
  expect(r.stdout).toMatch(/^stranger: refused its push: .*--allow-unrelated/m);
  expect(r.stdout).toMatch(/^junk: dropped a push that is a blob/m);
  expect(gitOut(b, ['rev-parse', 'HEAD']).trim()).toBe(head);
  expect(refsUnder(b, 'refs/mailgit/incoming/')).toEqual(['refs/mailgit/incoming/0123456789abcdef/stranger']);
  mg(b, ['sync', '--allow-unrelated']);
  expect(messagesAt(b).has(mine)).toBe(true);
  expect(messagesAt(b).has(theirs)).toBe(true);
  expect(refsUnder(b, 'refs/mailgit/incoming/')).toEqual([]);
  expectDiskIsHead(b);
});

test.skipIf(skip === null)(`ssh tests skipped: ${skip}`, () => undefined);
