/**
 * One contract for both CommitStore implementations: the git one and the in-memory one
 * must answer every question about the same history the same way.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { lastChanges } from '../../src/merge/lastChange.js';
import { commitStores } from '../helpers/commitStores.js';

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
    const c1 = await s.commit(t1, [], 'one', '', { clock: 1, replica: 'a' });
    const t2 = await s.editTree(c1, [
      { path: 'INBOX/cur/k1:2,S', oid: null },
      { path: 'INBOX/cur/k1:2,FS', oid: b1 },
      { path: 'Archive/cur/k2:2,', oid: b2 },
    ]);
    const c2 = await s.commit(t2, [c1], 'two', '', { clock: 2, replica: 'a' });
    const c3 = await s.commit(await s.editTree(c1, [{ path: 'INBOX/new/k3', oid: b2 }]), [c1], 'three', '', { clock: 2, replica: 'b' });

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
    const m1 = await s.commit(await s.treeOf(c2), [c2, c3], 'm1', '', { clock: 3, replica: 'a' });
    const m2 = await s.commit(await s.treeOf(c3), [c3, c2], 'm2', '', { clock: 3, replica: 'b' });
    expect((await s.mergeBases(m1, m2)).sort()).toEqual([c2, c3].sort());
    const lone = await s.commit(await s.editTree(null, []), [], 'lone', '', { clock: 1, replica: 'c' });
    expect(await s.mergeBases(lone, c2)).toEqual([]);
  });

  it('gives a commit without trailers the clock of its nearest ancestors that have one', async () => {
    const s = make();
    const t = await s.editTree(null, [{ path: 'INBOX/new/k1', oid: await s.writeBlob('one') }]);
    const c1 = await s.commit(t, [], 'one', '', { clock: 1_800_000_000_000, replica: 'a' }, 1_800_000_000_000);
    const c2 = await s.commit(t, [c1], 'two', '', { clock: 5, replica: 'b' }, 1_800_000_001_000);
    const plain = await s.commit(t, [c2], 'plain git commit', '', null, 1_800_000_002_000);
    const plain2 = await s.commit(t, [plain, c1], 'plain merge', '', null, 1_800_000_003_000);
    expect(await s.stamp(plain)).toEqual({ clock: 5, replica: '', commit: plain });
    expect(await s.stamp(plain2)).toEqual({ clock: 1_800_000_000_000, replica: '', commit: plain2 });
  });

  it('lists the history after a base with the keys each commit changed against each parent', async () => {
    const s = make();
    const [b1, b2] = [await s.writeBlob('one'), await s.writeBlob('two')];
    const T = 1_800_000_000_000;
    const c1 = await s.commit(
      await s.editTree(null, [
        { path: 'INBOX/cur/k1:2,S', oid: b1 },
        { path: 'INBOX/cur/k2', oid: b2 },
        { path: 'INBOX/maildirfolder', oid: await s.writeBlob('') },
      ]),
      [],
      'one',
      '',
      { clock: T, replica: 'a' },
      T,
    );
    const c2 = await s.commit(
      await s.editTree(c1, [
        { path: 'INBOX/cur/k1:2,S', oid: null },
        { path: 'INBOX/cur/k1:2,FS', oid: b1 },
      ]),
      [c1],
      'flag',
      '',
      { clock: T + 1000, replica: 'a' },
      T + 1000,
    );
    const c3 = await s.commit(await s.editTree(c1, [{ path: 'INBOX/cur/k2', oid: null }]), [c1], 'rm by hand', '', null, T + 2000);
    const m = await s.commit(await s.editTree(c2, [{ path: 'INBOX/cur/k2', oid: null }]), [c2, c3], 'merge', '', { clock: T + 3000, replica: 'b' }, T + 3000);
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
    expect(found.has('k9')).toBe(false);
  });
});
