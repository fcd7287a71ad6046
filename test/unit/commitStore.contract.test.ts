/**
 * One contract for both implementations of the history port: the git one and the
 * in-memory one must answer every question about the same history the same way, move refs
 * the same way, and fetch and push between repositories with the same answers.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { BEFORE_HISTORY, lastChanges } from '../../src/merge/lastChange.js';
import { MAIN } from '../../src/store/commitStore.js';
import type { CommitStore } from '../../src/store/commitStore.js';
import { commitStores, storeWorlds } from '../helpers/commitStores.js';

describe.each(commitStores)('CommitStore contract: %s', (_name, make) => {
  it('stores blobs under git blob ids and reports their sizes', async () => {
    const s = make();
    const a = await s.writeBlob('Subject: a\r\n\r\nbody\r\n');
    expect(a).toBe(execFileSync('git', ['hash-object', '--stdin'], { input: 'Subject: a\r\n\r\nbody\r\n' }).toString().trim());
    expect(a).toMatch(/^[0-9a-f]{40}$/);
    expect(await s.writeBlob('')).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
    expect((await s.readBlob(a)).toString()).toBe('Subject: a\r\n\r\nbody\r\n');
    expect(await s.blobSizes([a, 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'])).toEqual([20, 0]);
  });

  it('edits trees, diffs them, and walks ancestry like git', async () => {
    const s = make();
    const b1 = await s.writeBlob('one');
    const b2 = await s.writeBlob('two');
    const t1 = await s.editTree(null, [
      { path: 'INBOX/cur/k1:2,S', oid: b1 },
      { path: 'INBOX/maildirfolder', oid: await s.writeBlob('') },
    ]);
    const c1 = await s.commit({ tree: t1, parents: [], subject: 'one', stamp: { clock: 1, replica: 'a' } });
    const t2 = await s.editTree(c1, [
      { path: 'INBOX/cur/k1:2,S', oid: null },
      { path: 'INBOX/cur/k1:2,FS', oid: b1 },
      { path: 'Archive/cur/k2:2,', oid: b2 },
    ]);
    const c2 = await s.commit({ tree: t2, parents: [c1], subject: 'two', stamp: { clock: 2, replica: 'a' } });
    const c3 = await s.commit({
      tree: await s.editTree(c1, [{ path: 'INBOX/new/k3', oid: b2 }]),
      parents: [c1],
      subject: 'three',
      stamp: { clock: 2, replica: 'b' },
    });

    expect(await s.diff(c1, c2)).toEqual([
      { path: 'Archive/cur/k2:2,', oldMode: null, oldOid: null, newMode: '100644', newOid: b2 },
      { path: 'INBOX/cur/k1:2,FS', oldMode: null, oldOid: null, newMode: '100644', newOid: b1 },
      { path: 'INBOX/cur/k1:2,S', oldMode: '100644', oldOid: b1, newMode: null, newOid: null },
    ]);
    expect((await s.diff(null, c1)).map((c) => c.path)).toEqual(['INBOX/cur/k1:2,S', 'INBOX/maildirfolder']);
    expect(await s.diff(c2, await s.treeOf(c2))).toEqual([]);
    expect(await s.isAncestor(c1, c2)).toBe(true);
    expect(await s.isAncestor(c2, c1)).toBe(false);
    expect(await s.isAncestor(c2, c2)).toBe(true);
    expect(await s.mergeBases(c2, c3)).toEqual([c1]);
    expect(await s.stamp(c3)).toEqual({ clock: 2, replica: 'b', commit: c3 });

    // Criss-cross: two merges of the same pair in opposite order have two best bases.
    const m1 = await s.commit({ tree: await s.treeOf(c2), parents: [c2, c3], subject: 'm1', stamp: { clock: 3, replica: 'a' } });
    const m2 = await s.commit({ tree: await s.treeOf(c3), parents: [c3, c2], subject: 'm2', stamp: { clock: 3, replica: 'b' } });
    expect((await s.mergeBases(m1, m2)).sort()).toEqual([c2, c3].sort());
    const lone = await s.commit({ tree: await s.editTree(null, []), parents: [], subject: 'lone', stamp: { clock: 1, replica: 'c' } });
    expect(await s.mergeBases(lone, c2)).toEqual([]);
  });

  it('gives a commit without trailers the clock of its nearest ancestors that have one', async () => {
    const s = make();
    const t = await s.editTree(null, [{ path: 'INBOX/new/k1', oid: await s.writeBlob('one') }]);
    const c1 = await s.commit({ tree: t, parents: [], subject: 'one', stamp: { clock: 1_800_000_000_000, replica: 'a' }, time: 1_800_000_000_000 });
    const c2 = await s.commit({ tree: t, parents: [c1], subject: 'two', stamp: { clock: 5, replica: 'b' }, time: 1_800_000_001_000 });
    const plain = await s.commit({ tree: t, parents: [c2], subject: 'plain git commit', stamp: null, time: 1_800_000_002_000 });
    const plain2 = await s.commit({ tree: t, parents: [plain, c1], subject: 'plain merge', stamp: null, time: 1_800_000_003_000 });
    expect(await s.stamp(plain)).toEqual({ clock: 5, replica: '', commit: plain });
    expect(await s.stamp(plain2)).toEqual({ clock: 1_800_000_000_000, replica: '', commit: plain2 });
  });

  it('lists the history after a base with the keys each commit changed against each parent', async () => {
    const s = make();
    const [b1, b2] = [await s.writeBlob('one'), await s.writeBlob('two')];
    const T = 1_800_000_000_000;
    const c1 = await s.commit({
      tree: await s.editTree(null, [
        { path: 'INBOX/cur/k1:2,S', oid: b1 },
        { path: 'INBOX/cur/k2', oid: b2 },
        { path: 'INBOX/maildirfolder', oid: await s.writeBlob('') },
      ]),
      parents: [],
      subject: 'one',
      stamp: { clock: T, replica: 'a' },
      time: T,
    });
    const c2 = await s.commit({
      tree: await s.editTree(c1, [
        { path: 'INBOX/cur/k1:2,S', oid: null },
        { path: 'INBOX/cur/k1:2,FS', oid: b1 },
      ]),
      parents: [c1],
      subject: 'flag',
      stamp: { clock: T + 1000, replica: 'a' },
      time: T + 1000,
    });
    const c3 = await s.commit({
      tree: await s.editTree(c1, [{ path: 'INBOX/cur/k2', oid: null }]),
      parents: [c1],
      subject: 'rm by hand',
      stamp: null,
      time: T + 2000,
    });
    const m = await s.commit({
      tree: await s.editTree(c2, [{ path: 'INBOX/cur/k2', oid: null }]),
      parents: [c2, c3],
      subject: 'merge',
      stamp: { clock: T + 3000, replica: 'b' },
      time: T + 3000,
    });
    const byId = <T extends { commit: string }>(l: T[]) => [...l].sort((x, y) => (x.commit < y.commit ? -1 : 1));
    // Names are keys, and key\0folder for one of several copies of a key.
    const list = await s.history(m, [c1], ['k1', 'k1\0INBOX', 'k1\0Work', 'k2', 'k9']);
    expect(byId(list)).toEqual(
      byId([
        { commit: c2, parents: [c1], stamp: { clock: T + 1000, replica: 'a', commit: c2 }, time: T + 1000, touched: [['k1', 'k1\0INBOX']] },
        { commit: c3, parents: [c1], stamp: { clock: T, replica: '', commit: c3 }, time: T + 2000, touched: [['k2']] },
        { commit: m, parents: [c2, c3], stamp: { clock: T + 3000, replica: 'b', commit: m }, time: T + 3000, touched: [['k2'], ['k1', 'k1\0INBOX']] },
      ]),
    );
    expect((await s.history(c2, [], ['k2', 'k1'])).find((c) => c.commit === c1)?.touched).toEqual([['k1', 'k2']]);
    expect(await s.history(c1, [c1], ['k1'])).toEqual([]);
    // Who made m's version of each message: the merge took each from one parent.
    const found = lastChanges(m, ['k1', 'k2', 'k9'], list);
    expect(found.get('k1')).toEqual({ clock: T + 1000, replica: 'a', commit: c2 });
    expect(found.get('k2')).toEqual({ clock: T, replica: '', commit: c3 });
    expect(found.get('k9')).toBe(BEFORE_HISTORY);
  });
});

/** A commit on `parent` (or a root) that adds one message. */
async function commitOn(s: CommitStore, parent: string | null, key: string): Promise<string> {
  const tree = await s.editTree(parent, [{ path: `INBOX/new/${key}`, oid: await s.writeBlob(`Subject: ${key}\r\n\r\n`) }]);
  return s.commit({ tree, parents: parent ? [parent] : [], subject: key, stamp: { clock: 1, replica: 'a' } });
}

describe.each(storeWorlds)('history port contract, refs and remotes: %s', (_name, world) => {
  it('reads, compares-and-swaps, lists and deletes refs', async () => {
    const s = world().repo('checked-out');
    expect(await s.readRef('HEAD')).toBeNull();
    const c1 = await commitOn(s, null, 'k1');
    const c2 = await commitOn(s, c1, 'k2');
    expect(await s.updateRef(MAIN, c1, null)).toBe(true);
    expect(await s.updateRef(MAIN, c2, null)).toBe(false);
    expect(await s.updateRef(MAIN, c2, c2)).toBe(false);
    expect(await s.readRef('HEAD')).toEqual({ oid: c1, type: 'commit' });
    expect(await s.updateRef(MAIN, c2, c1)).toBe(true);
    expect(await s.readRef(MAIN)).toEqual({ oid: c2, type: 'commit' });
    const blob = await s.writeBlob('not a commit');
    expect(await s.updateRef('refs/mailgit/incoming/id2/b', blob)).toBe(true);
    expect(await s.updateRef('refs/mailgit/incoming/id1/a', c1)).toBe(true);
    expect(await s.updateRef('refs/remotes/o/main', c1)).toBe(true);
    expect(await s.listRefs('refs/mailgit/incoming/')).toEqual([
      { ref: 'refs/mailgit/incoming/id1/a', oid: c1, type: 'commit' },
      { ref: 'refs/mailgit/incoming/id2/b', oid: blob, type: 'blob' },
    ]);
    expect((await s.listRefs('refs/mailgit/incoming/', 'refs/remotes/o/main')).map((r) => r.ref)).toEqual([
      'refs/mailgit/incoming/id1/a',
      'refs/mailgit/incoming/id2/b',
      'refs/remotes/o/main',
    ]);
    expect(await s.deleteRef('refs/mailgit/incoming/id1/a', c2)).toBe(false);
    expect(await s.deleteRef('refs/mailgit/incoming/id1/a', c1)).toBe(true);
    expect(await s.deleteRef('refs/mailgit/incoming/id1/a', c1)).toBe(false);
    expect(await s.readRef('refs/mailgit/incoming/id1/a')).toBeNull();
  });

  it('fetches by refspec (prefixes pruned), pushes never forced, and tells a checked-out branch apart', async () => {
    const w = world();
    const [hub, a, b] = [w.repo('bare'), w.repo('checked-out'), w.repo('checked-out')];
    const [aHub, bHub, aB, bA] = [w.remote(a, 'hub', hub), w.remote(b, 'hub', hub), w.remote(a, 'b', b), w.remote(b, 'a', a)];
    expect(await b.fetch(bHub, ['+refs/heads/main:refs/f/main'])).toBe(false);
    const c1 = await commitOn(a, null, 'k1');
    await a.updateRef(MAIN, c1);
    expect(await a.push(aHub, MAIN)).toBe('pushed');
    expect(await b.fetch(bHub, ['+refs/heads/main:refs/f/main'])).toBe(true);
    expect(await b.readRef('refs/f/main')).toEqual({ oid: c1, type: 'commit' });

    await b.updateRef(MAIN, c1, null);
    const c2 = await commitOn(a, c1, 'k2');
    await a.updateRef(MAIN, c2, c1);
    expect(await a.push(aHub, MAIN)).toBe('pushed');
    expect(await a.push(aB, MAIN)).toBe('checked-out');
    const c3 = await commitOn(b, c1, 'k3');
    await b.updateRef(MAIN, c3, c1);
    expect(await b.push(bHub, MAIN)).toBe('rejected');
    expect(await a.push(aB, 'refs/mailgit/incoming/id/a')).toBe('pushed');
    expect(await b.readRef('refs/mailgit/incoming/id/a')).toEqual({ oid: c2, type: 'commit' });

    await a.updateRef('refs/mailgit/worktree', await a.writeBlob(''));
    const specs = ['+refs/heads/main:refs/f/a/main', '+refs/mailgit/worktree*:refs/f/a/worktree*'];
    expect(await b.fetch(bA, specs)).toBe(true);
    expect((await b.listRefs('refs/f/a/')).map((r) => r.ref)).toEqual(['refs/f/a/main', 'refs/f/a/worktree']);
    expect(await a.deleteRef('refs/mailgit/worktree', (await a.readRef('refs/mailgit/worktree'))!.oid)).toBe(true);
    expect(await b.fetch(bA, specs)).toBe(true);
    expect((await b.listRefs('refs/f/a/')).map((r) => r.ref)).toEqual(['refs/f/a/main']);
  });
});
