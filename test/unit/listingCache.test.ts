/**
 * The in-memory listings `mailgit watch` keeps between records: valid for one commit only,
 * moved forward by exactly the edits a record committed.
 */
import { describe, expect, it } from 'vitest';
import { ListingCache } from '../../src/repo/listingCache.js';
import type { TreeIndex } from '../../src/git/treeio.js';

const index = (entries: [string, string, boolean?][]): TreeIndex => ({
  names: entries.map((e) => e[0]),
  isBlob: entries.map((e) => e[2] ?? true),
  oidAt: (i) => entries[i]![1],
});
const asObject = (ix: TreeIndex | undefined) => (ix ? Object.fromEntries(ix.names.map((n, i) => [n, ix.oidAt(i)])) : undefined);

describe('ListingCache', () => {
  it('answers only for the commit it holds, and keeps files, not subtrees', () => {
    const c = new ListingCache();
    c.put(
      'h1',
      'INBOX/cur',
      index([
        ['a:2,S', 'o1'],
        ['b:2,', 'o2'],
        ['sub', 't1', false],
      ]),
    );
    expect(asObject(c.get('h1', 'INBOX/cur'))).toEqual({ 'a:2,S': 'o1', 'b:2,': 'o2' });
    expect(c.get('h2', 'INBOX/cur')).toBeUndefined();
    expect(c.get('h1', 'Archive/cur')).toBeUndefined();
  });

  it("moves forward by a record's edits (rename, delivery, deletion), other directories untouched", () => {
    const c = new ListingCache();
    c.put(
      'h1',
      'INBOX/cur',
      index([
        ['a:2,S', 'o1'],
        ['b:2,', 'o2'],
      ]),
    );
    c.put('h1', 'Archive/cur', index([['z:2,S', 'o9']]));
    c.advance('h1', 'h2', [
      { path: 'INBOX/cur/a:2,S', oid: null },
      { path: 'INBOX/cur/a:2,FS', oid: 'o1' },
      { path: 'INBOX/cur/c:2,', oid: 'o3' },
      { path: 'INBOX/cur/b:2,', oid: null },
      { path: 'Sent/cur/s:2,S', oid: 'o4' },
    ]);
    expect(c.get('h1', 'INBOX/cur')).toBeUndefined();
    expect(asObject(c.get('h2', 'INBOX/cur'))).toEqual({ 'a:2,FS': 'o1', 'c:2,': 'o3' });
    expect(asObject(c.get('h2', 'Archive/cur'))).toEqual({ 'z:2,S': 'o9' });
    expect(c.get('h2', 'Sent/cur')).toBeUndefined();
  });

  it('forgets everything when HEAD moved some other way (a sync applied a merge)', () => {
    const c = new ListingCache();
    c.put('h1', 'INBOX/cur', index([['a:2,S', 'o1']]));
    c.advance('h-other', 'h3', [{ path: 'INBOX/cur/x:2,', oid: 'o5' }]);
    expect(c.get('h3', 'INBOX/cur')).toBeUndefined();
    c.put('h4', 'INBOX/cur', index([['q:2,', 'o6']]));
    expect(c.get('h3', 'INBOX/cur')).toBeUndefined();
    expect(asObject(c.get('h4', 'INBOX/cur'))).toEqual({ 'q:2,': 'o6' });
  });
});
