/**
 * A folder being removed while mailgit records (a client's `rm -rf`, or watch recording
 * while the user deletes a folder): the walk must not write the folder's marker back
 * into it, or the removal ends with ENOTEMPTY and a folder left holding only the marker
 * (what the SIGKILL torture of watch met as files it could not remove).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, rmSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { walkWorktree } from '../../src/repo/walk.js';

const tree = (dir: string) => gitOut(dir, ['ls-tree', '-r', '--name-only', 'HEAD']).split('\n').filter(Boolean);

describe('folder markers and folders being removed', () => {
  it('a folder in history whose marker is gone (its removal under way) is not given one again; the removal completes', () => {
    const dir = join(tempDir(), 'a');
    expect(mailgit(['init', dir, '--name', 'a']).code).toBe(0);
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, 'Lists/x', sub), { recursive: true });
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, 'Lists/x/cur', `170000000${i}.M1P1.a:2,S`), `Subject: ${i}\n\nx\n`);
    expect(mailgit(['-C', dir, 'commit']).code).toBe(0);
    expect(tree(dir)).toContain('Lists/x/maildirfolder');
    // rm -rf has unlinked the marker and some mail, and is still at work when a record runs.
    unlinkSync(join(dir, 'Lists/x/maildirfolder'));
    unlinkSync(join(dir, 'Lists/x/cur/1700000000.M1P1.a:2,S'));
    const c = mailgit(['-C', dir, 'commit']);
    expect(c.code, c.stderr).toBe(0);
    expect(existsSync(join(dir, 'Lists/x/maildirfolder'))).toBe(false);
    rmSync(join(dir, 'Lists'), { recursive: true }); // no ENOTEMPTY: nothing was written into it
    expect(mailgit(['-C', dir, 'commit']).code).toBe(0);
    expect(tree(dir).filter((p) => p.startsWith('Lists/'))).toEqual([]);
  });

  it('an empty folder in history only as its marker, being removed, is not given the marker again (cold scan, as after a kill)', () => {
    const dir = join(tempDir(), 'c');
    expect(mailgit(['init', dir, '--name', 'c']).code).toBe(0);
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, 'a/Archive', sub), { recursive: true });
    expect(mailgit(['-C', dir, 'commit']).code).toBe(0);
    expect(tree(dir).filter((p) => p.startsWith('a/Archive/'))).toEqual(['a/Archive/maildirfolder']);
    // A watch killed before it saved its cache: the next scan trusts nothing but HEAD.
    rmSync(join(dir, '.git/mailgit/dirstate.json'));
    // rm -rf has unlinked the marker and cur/, and is still at work when a record runs.
    unlinkSync(join(dir, 'a/Archive/maildirfolder'));
    rmSync(join(dir, 'a/Archive/cur'), { recursive: true });
    const c = mailgit(['-C', dir, 'commit']);
    expect(c.code, c.stderr).toBe(0);
    expect(existsSync(join(dir, 'a/Archive/maildirfolder'))).toBe(false);
    expect(tree(dir).filter((p) => p.startsWith('a/'))).toEqual([]);
    rmSync(join(dir, 'a'), { recursive: true }); // no ENOTEMPTY: nothing was written into it
    expect(mailgit(['-C', dir, 'commit']).code).toBe(0);
    expect(tree(dir).filter((p) => p.startsWith('a/'))).toEqual([]);
  });

  it('a folder a client just made still gets its marker at once (an empty folder reaches history)', () => {
    const dir = join(tempDir(), 'b');
    expect(mailgit(['init', dir, '--name', 'b']).code).toBe(0);
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, 'Empty', sub), { recursive: true });
    expect(mailgit(['-C', dir, 'commit']).code).toBe(0);
    expect(tree(dir)).toContain('Empty/maildirfolder');
  });

  it('a new folder removed while the walk decides to mark it: no marker is left in it and the removal completes', async () => {
    // The seam of the race the watch torture met: a client's rm -rf of a folder it had just
    // made, between the walk reading the folder and writing its marker.
    for (const leave of [[], ['tmp']]) {
      const root = tempDir();
      for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(root, 'Sent', sub), { recursive: true });
      const walk = await walkWorktree(root, {
        mayMark: (f) => {
          for (const sub of ['cur', 'new', 'tmp']) if (!leave.includes(sub)) rmSync(join(root, f, sub), { recursive: true });
          return true;
        },
      });
      expect(existsSync(join(root, 'Sent/maildirfolder')), `left ${leave}`).toBe(leave.length > 0);
      if (leave.length === 0) rmdirSync(join(root, 'Sent')); // ENOTEMPTY before: the marker was written into it
      expect([...walk.folders]).toEqual(['Sent']);
    }
  });

  it('a folder removed whole while the walk runs is skipped, not an error', async () => {
    const root = tempDir();
    for (const f of ['A', 'B']) for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(root, f, sub), { recursive: true });
    const walk = await walkWorktree(root, {
      mayMark: (f) => {
        rmSync(join(root, f), { recursive: true });
        return true;
      },
    });
    expect(existsSync(join(root, 'A')) || existsSync(join(root, 'B'))).toBe(false);
    expect(walk.files.size).toBe(0);
  });
});
