/**
 * A folder being removed while mailgit records (a client's `rm -rf`, or watch recording
 * while the user deletes a folder): a record must write nothing into the folder, or the
 * removal ends with ENOTEMPTY and a folder left holding only the marker (what the SIGKILL
 * torture of watch met, seed 189834 last). A new folder's `maildirfolder` goes into the
 * tree only; `git status` stays clean; a folder's removal takes its marker out of history,
 * warm and cold.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { addRemote, bareHub, cloneReplica, expectDiskIsHead, initReplica, mg } from '../helpers/replica.js';
import { startRemoval } from '../torture/client.js';
import { hookedFs } from '../helpers/faultyFs.js';
import { withLockedRepo } from '../helpers/locked.js';
import { applyCommit } from '../../src/repo/apply.js';

const tree = (dir: string) => gitOut(dir, ['ls-tree', '-r', '--name-only', 'HEAD']).split('\n').filter(Boolean);
const status = (dir: string) => gitOut(dir, ['status', '--porcelain', '--untracked-files=all']);

function commit(dir: string): void {
  const c = mailgit(['-C', dir, 'commit']);
  expect(c.code, c.stderr).toBe(0);
  expect(status(dir), 'git status after commit').toBe('');
}

function makeFolder(dir: string, folder: string, messages = 0): void {
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, folder, sub), { recursive: true });
  for (let i = 0; i < messages; i++) writeFileSync(join(dir, folder, 'cur', `170000000${i}.M1P1.a:2,S`), `Subject: ${i}\n\nx\n`);
}

describe('folder markers and folders being removed', () => {
  it('a record between the listing and the last rmdir of a removal writes nothing into the folder (new folder, and one in history)', () => {
    const dir = initReplica(join(tempDir(), 'a'), 'a');
    makeFolder(dir, 'Old', 3);
    commit(dir);
    for (const [folder, n] of [
      ['Sent', 2],
      ['Old', 0],
      ['Empty', 0],
    ] as const) {
      if (folder !== 'Old') makeFolder(dir, folder, n);
      const finish = startRemoval(dir, folder);
      commit(dir);
      expect(tree(dir), folder).toContain(`${folder}/maildirfolder`);
      finish();
      expect(existsSync(join(dir, folder)), folder).toBe(false);
      commit(dir);
      expect(
        tree(dir).filter((p) => p.startsWith(`${folder}/`)),
        folder,
      ).toEqual([]);
    }
  });

  it("a peer's marker arriving by sync is not written into a folder already on disk, which a client may be removing", async () => {
    const root = tempDir();
    const a = initReplica(join(root, 'a'), 'a');
    addRemote(a, 'hub', bareHub(join(root, 'hub.git')));
    mg(a, ['sync']);
    const b = cloneReplica(join(root, 'hub.git'), join(root, 'b'), 'b');
    for (const folder of ['Work', 'Kept']) makeFolder(a, folder);
    commit(a);
    mg(a, ['sync']);
    gitOut(b, ['fetch', '-q', 'origin', '+refs/heads/main:refs/remotes/origin/main']);
    const [from, to] = ['HEAD', 'refs/remotes/origin/main'].map((r) => gitOut(b, ['rev-parse', r]).trim()) as [string, string];
    // b's client makes both folders after b's record and before the apply; it is removing Work.
    let finish: (() => void) | undefined;
    const fs = hookedFs(() => {
      if (finish) return;
      for (const folder of ['Work', 'Kept']) makeFolder(b, folder);
      finish = startRemoval(b, 'Work');
    });
    await withLockedRepo(b, (repo) => applyCommit(repo, { from, to, fs, origin: 'hub' }));
    for (const folder of ['Work', 'Kept']) expect(existsSync(join(b, folder, 'maildirfolder')), folder).toBe(false);
    finish!(); // fails with ENOTEMPTY if the apply wrote into Work
    expect(existsSync(join(b, 'Work'))).toBe(false);
    expect(status(b), 'git status after the apply').toBe('');
    commit(b);
    expect(tree(b)).toContain('Kept/maildirfolder');
    expect(tree(b)).not.toContain('Work/maildirfolder');
    expectDiskIsHead(b);
  });

  it('a new folder reaches history at once, its marker in the tree and not on disk; git status stays clean', () => {
    const dir = initReplica(join(tempDir(), 'b'), 'b');
    makeFolder(dir, 'Lists/rust');
    commit(dir);
    expect(tree(dir)).toContain('Lists/rust/maildirfolder');
    expect(existsSync(join(dir, 'Lists/rust/maildirfolder'))).toBe(false);
    // Plain git agrees: nothing deleted, and `git commit -a` would not delete the marker.
    expect(gitOut(dir, ['ls-files', '-t', 'Lists/rust/maildirfolder'])).toBe('S Lists/rust/maildirfolder\n');
    // A record that finds nothing new changes nothing.
    const head = gitOut(dir, ['rev-parse', 'HEAD']);
    commit(dir);
    expect(gitOut(dir, ['rev-parse', 'HEAD'])).toBe(head);
    // A plain `git read-tree HEAD` drops the bit; the next mailgit command gives it back.
    gitOut(dir, ['read-tree', 'HEAD']);
    expect(status(dir)).toBe(' D Lists/rust/maildirfolder\n');
    commit(dir);
    expect(gitOut(dir, ['rev-parse', 'HEAD'])).toBe(head);
  });

  it("a client that deletes only a folder's marker file leaves the folder in history, and git status clean", () => {
    const dir = initReplica(join(tempDir(), 'c'), 'c');
    expect(existsSync(join(dir, 'INBOX/maildirfolder'))).toBe(true); // init writes INBOX's
    unlinkSync(join(dir, 'INBOX/maildirfolder'));
    const head = gitOut(dir, ['rev-parse', 'HEAD']);
    commit(dir);
    expect(gitOut(dir, ['rev-parse', 'HEAD'])).toBe(head);
    expect(tree(dir)).toContain('INBOX/maildirfolder');
  });

  it('the removal of a folder whose marker is only in history is recorded, warm and cold (as after a kill)', () => {
    for (const cold of [false, true]) {
      const dir = initReplica(join(tempDir(), 'd'), 'd');
      makeFolder(dir, 'a/Archive');
      makeFolder(dir, 'Keep', 1);
      commit(dir);
      if (cold) rmSync(join(dir, '.git/mailgit/dirstate.json'));
      rmSync(join(dir, 'a'), { recursive: true });
      commit(dir);
      expect(
        tree(dir).filter((p) => p.startsWith('a/')),
        `cold ${cold}`,
      ).toEqual([]);
      expect(tree(dir), `cold ${cold}`).toContain('Keep/maildirfolder');
    }
  });
});
