/**
 * Two names of one key in one folder (src/repo/sameKey.ts): which name is kept.
 */
import { describe, expect, it } from 'vitest';
import { resolveSameKey } from '../../src/repo/sameKey.js';

describe('resolveSameKey', () => {
  it("the client's new name wins over the name HEAD has, for the same bytes", () => {
    const r = resolveSameKey(
      [{ path: 'INBOX/cur/k:2,FS', oid: 'a' }],
      [
        { path: 'INBOX/cur/k:2,S', oid: 'a' },
        { path: 'INBOX/new/k', oid: 'a' },
      ],
    );
    expect(r.added).toEqual([{ path: 'INBOX/cur/k:2,FS', oid: 'a' }]);
    expect(r.removed.map((x) => x.path).sort()).toEqual(['INBOX/cur/k:2,S', 'INBOX/new/k']);
    expect(r.stale.sort()).toEqual(['INBOX/cur/k:2,S', 'INBOX/new/k']);
  });

  it('among new names: cur/ over new/, then more flags; different bytes are all kept', () => {
    const r = resolveSameKey(
      [
        { path: 'A/new/k', oid: 'a' },
        { path: 'A/cur/k:2,S', oid: 'a' },
        { path: 'A/cur/k:2,RS', oid: 'a' },
        { path: 'A/cur/k:2,T', oid: 'b' },
      ],
      [{ path: 'A/cur/k:2,', oid: 'c' }],
    );
    expect(r.added.map((x) => x.path).sort()).toEqual(['A/cur/k:2,RS', 'A/cur/k:2,T']);
    expect(r.stale.sort()).toEqual(['A/cur/k:2,S', 'A/new/k']);
    expect(r.removed).toEqual([]);
  });

  it('the same key in two folders is two messages', () => {
    const r = resolveSameKey([{ path: 'A/cur/k:2,S', oid: 'a' }], [{ path: 'B/cur/k:2,S', oid: 'a' }]);
    expect(r.added).toHaveLength(1);
    expect(r.stale).toEqual([]);
  });
});
