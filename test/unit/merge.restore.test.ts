/**
 * What the merge makes of a restore (or an undo of a deletion), as table rows in the form
 * of merge.table.test.ts, each also run mirrored. A restore re-adds the message under
 * the key, blob and name it had: against a base from before the deletion the restoring
 * side is therefore unchanged for it, against a base after the deletion it is new there.
 * No new rule is needed; these rows pin down that the existing ones give the right answer.
 */
import { describe, expect, it } from 'vitest';
import { merge } from '../../src/merge/merge.js';
import { brief, mirror, show, side, snap, st } from './merge.helpers.js';

interface Row {
  name: string;
  base: string[];
  ours: string[];
  theirs: string[];
  expect: string[];
  decisions: string[];
}

const rows: Row[] = [
  {
    name: 'restored here, base before the deletion, untouched there: kept',
    base: ['INBOX/cur/k1:2,S'],
    ours: ['INBOX/cur/k1:2,S'],
    theirs: ['INBOX/cur/k1:2,S'],
    expect: ['INBOX/cur/k1:2,S'],
    decisions: [],
  },
  {
    name: 'restored here, base before the deletion, flagged there meanwhile: kept with its flag',
    base: ['INBOX/cur/k1:2,S'],
    ours: ['INBOX/cur/k1:2,S'],
    theirs: ['INBOX/cur/k1:2,FS'],
    expect: ['INBOX/cur/k1:2,FS'],
    decisions: [],
  },
  {
    name: 'restored here, base before the deletion, moved there meanwhile: kept where it moved',
    base: ['INBOX/cur/k1:2,S'],
    ours: ['INBOX/cur/k1:2,S'],
    theirs: ['Archive/cur/k1:2,S'],
    expect: ['Archive/cur/k1:2,S'],
    decisions: [],
  },
  {
    name: 'restored here, base after the deletion, the other side saw the deletion: kept',
    base: [],
    ours: ['INBOX/cur/k1:2,S@b1'],
    theirs: [],
    expect: ['INBOX/cur/k1:2,S@b1'],
    decisions: [],
  },
  {
    name: 'restored here as it was earlier (fewer flags), base before the deletion: the older flags',
    base: ['INBOX/cur/k1:2,FS'],
    ours: ['INBOX/cur/k1:2,S'],
    theirs: ['INBOX/cur/k1:2,FS'],
    expect: ['INBOX/cur/k1:2,S'],
    decisions: [],
  },
  {
    name: 'restored on both replicas independently: one copy, flags together',
    base: [],
    ours: ['INBOX/cur/k1:2,S@b1'],
    theirs: ['INBOX/cur/k1:2,F@b1'],
    expect: ['INBOX/cur/k1:2,FS@b1'],
    decisions: [],
  },
  {
    name: 'restored here while the other side deleted it itself (base before): its deletion stands',
    base: ['INBOX/cur/k1:2,S'],
    ours: ['INBOX/cur/k1:2,S'],
    theirs: [],
    expect: [],
    decisions: [],
  },
];

describe('merge table: restores', () => {
  for (const row of rows) {
    it(row.name, () => {
      const base = snap(row.base);
      const ours = side(snap(row.ours), st(5, 'desktop'));
      const theirs = side(snap(row.theirs), st(7, 'laptop'));
      const r = merge({ base, ours, theirs });
      expect(show(r.snapshot)).toEqual(show(snap(row.expect)));
      expect(brief(r.decisions)).toEqual(row.decisions);
      const m = merge({ base, ours: theirs, theirs: ours });
      expect(m.snapshot).toEqual(r.snapshot);
      expect(mirror(m.decisions)).toEqual(brief(r.decisions));
    });
  }
});
