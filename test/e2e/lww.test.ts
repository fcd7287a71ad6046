/**
 * Who changed a message last, end to end with the real CLI and git: a conflict goes to the
 * later change to that message, not to the replica that made more commits; a plain
 * `git commit` in the repo never resets the clock; copies of one message file in two
 * folders (a user's `cp`) stay two messages through syncs.
 */
import { describe, expect, test, vi } from 'vitest';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { gitOut, tempDir } from '../helpers/cli.js';
import { addFlags, arrive, expectDiskIsHead, findOnDisk, headTree, hubPair as sharedHubPair, initReplica, messagesAt, mg, remove } from '../helpers/replica.js';

vi.setConfig({ testTimeout: 600_000 });

function clockOf(repo: string, rev = 'HEAD'): number {
  return Number(gitOut(repo, ['log', '-1', '--format=%(trailers:key=Mailgit-Clock,valueonly)', rev]).trim());
}

/** A replica A with `n` INBOX messages, synced to a fresh bare hub, and a clone B. */
function hubPair(n: number): { a: string; b: string; keys: string[] } {
  return sharedHubPair(tempDir('mailgit-lww-'), n);
}

describe('last writer wins by the change to the message', () => {
  test('a busy replica gains nothing: a deletion made after a flag wins, however many commits the flagger made', () => {
    const { a, b, keys } = hubPair(1);
    const [m0] = keys as [string];
    addFlags(a, m0, 'F');
    mg(a, ['commit']);
    for (let i = 0; i < 5; i++) {
      arrive(a, `busy${i}`);
      mg(a, ['commit']);
    }
    remove(b, m0);
    mg(b, ['commit']);
    mg(a, ['sync']);
    const r = mg(b, ['sync']);
    mg(a, ['sync']);
    expect(headTree(a)).toBe(headTree(b));
    for (const repo of [a, b]) {
      expect(messagesAt(repo).has(m0), repo).toBe(false);
      expectDiskIsHead(repo);
    }
    expect(r.stdout).toMatch(
      new RegExp(
        `conflict: INBOX/(cur|new)/${m0.replace(/\./g, '\\.')}: deleted here \\(by b, \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\) and re-flagged \\(flags "F"\\) on a \\(by a, .* UTC\\); deleted it: the change here is later`,
      ),
    );
  });

  test('a plain git commit (no mailgit trailers) never resets the clock', () => {
    const dir = tempDir('mailgit-plain-');
    const a = initReplica(join(dir, 'a'), 'a');
    arrive(a, 'one');
    mg(a, ['commit']);
    const before = clockOf(a);
    const env = { ...process.env, GIT_AUTHOR_NAME: 'u', GIT_AUTHOR_EMAIL: 'u@x', GIT_COMMITTER_NAME: 'u', GIT_COMMITTER_EMAIL: 'u@x' };
    // A user who goes past mailgit's guards (hooks off), as `git commit --no-verify` once did.
    for (let i = 0; i < 2; i++)
      execFileSync('git', ['-c', 'core.hooksPath=/dev/null', 'commit', '-q', '--no-verify', '--allow-empty', '-m', `plain ${i}`], { cwd: a, env });
    arrive(a, 'two');
    mg(a, ['commit']);
    expect(gitOut(a, ['log', '-1', '--format=%s', 'HEAD~1']).trim()).toBe('plain 1');
    expect(clockOf(a)).toBeGreaterThan(before);
  });

  test('copies of one message in two folders (cp): deleting one here and the other there deletes both; a flag on one copy does not touch the other', () => {
    const { a, b, keys } = hubPair(2);
    const [m0, m1] = keys as [string, string];
    for (const k of [m0, m1]) {
      const p = findOnDisk(a, k);
      for (const s of ['cur', 'new', 'tmp']) mkdirSync(join(a, 'Work', s), { recursive: true });
      copyFileSync(join(a, p), join(a, 'Work', p.includes('/new/') ? 'new' : 'cur', p.slice(p.lastIndexOf('/') + 1)));
    }
    mg(a, ['sync']);
    mg(b, ['sync']);
    expect(messagesAt(b).get(m0)?.length).toBe(2);
    remove(a, m0); // the INBOX copy (found first)
    const workCopy = messagesAt(b)
      .get(m0)!
      .find((m) => m.folder === 'Work')!;
    execFileSync('rm', [join(b, workCopy.path)]);
    addFlags(b, m1, 'F'); // the INBOX copy of m1
    mg(a, ['sync']);
    mg(b, ['sync']);
    mg(a, ['sync']);
    expect(headTree(a)).toBe(headTree(b));
    for (const repo of [a, b]) {
      expect(messagesAt(repo).get(m0), `${m0} in ${repo}`).toBeUndefined();
      const copies = messagesAt(repo).get(m1)!;
      expect(copies.map((m) => `${m.folder}:${m.flags}`).sort()).toEqual(['INBOX:F', 'Work:']);
      expectDiskIsHead(repo);
    }
  });
});
