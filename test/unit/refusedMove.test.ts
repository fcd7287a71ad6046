/**
 * Which paths of a refused move's diff (C → HEAD) are put back (src/repo/refusedMove.ts:
 * standing), as a table: a path counts where the index still differs from HEAD, and with
 * it every other path of the same message, so that git's rename back is undone as one move.
 * test/e2e/plaingit.test.ts runs a refused `git reset --hard HEAD~1` for real.
 */
import { describe, expect, it } from 'vitest';
import type { PathChange } from '../../src/git/diff.js';
import { standing } from '../../src/repo/refusedMove.js';

const A = 'a'.repeat(40);
const change = (path: string, oldOid: string | null, newOid: string | null): PathChange => ({ path, oldOid, newOid }) as PathChange;

// C → HEAD: k1 flagged since C (a rename), k2 arrived since C, k3 deleted since C, a new folder's marker.
const diff = [
  change('INBOX/cur/k1:2,', A, null),
  change('INBOX/cur/k1:2,S', null, A),
  change('INBOX/new/k2', null, A),
  change('INBOX/cur/k3:2,S', A, null),
  change('Work/maildirfolder', null, A),
];

describe('the paths a refused move put back', () => {
  const rows: [string, string[] | null, string[]][] = [
    ['git could not read the index: every path', null, diff.map((c) => c.path)],
    ['the index is HEAD again (reset --merge, checkout -f, stash): none', [], []],
    ['git rewrote all of it: all', ['INBOX/cur/k1:2,S', 'INBOX/cur/k1:2,', 'INBOX/new/k2', 'INBOX/cur/k3:2,S', 'Work/maildirfolder'], diff.map((c) => c.path)],
    ['only one name of k1 still differs (a person staged the other): both of k1', ['INBOX/cur/k1:2,S'], ['INBOX/cur/k1:2,', 'INBOX/cur/k1:2,S']],
    ['a path outside the diff (a git add) brings nothing in', ['INBOX/new/k9'], []],
    ['a marker alone', ['Work/maildirfolder'], ['Work/maildirfolder']],
  ];
  it.each(rows)('%s', (_what, staged, want) => {
    expect(standing(diff, staged === null ? null : new Set(staged)).map((c) => c.path)).toEqual(want);
  });
});
