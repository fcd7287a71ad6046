/**
 * Merge rows for names near the file-system limit (a merged name is never longer than the
 * 255 bytes a file name may have, and every replica computes the same shorter one) and for
 * a folder removed on one side while mail came into it on the other (the folder stays, with
 * its marker). Each row also runs mirrored, which must give the same snapshot. Plus the
 * three-way merge of a client's rename with the name an apply wants (clientName.ts).
 */
import { describe, expect, it } from 'vitest';
import { utf8Length } from '../../src/maildir/limits.js';
import { parseMessagePath } from '../../src/maildir/name.js';
import { mergeClientName } from '../../src/merge/clientName.js';
import { merge } from '../../src/merge/merge.js';
import { fitName } from '../../src/merge/nameLimits.js';
import { checkMergeRow, type MergeRow, side, st } from './merge.helpers.js';

const BLOB = `a1b2c3d4${'0'.repeat(32)}`;
const OTHER = `f9e8d7c6${'0'.repeat(32)}`;
/** A key that leaves room for `:2,` plus one flag in 255 bytes. */
const K = 'k'.repeat(251);
/** 126 two-byte characters: 252 bytes. */
const WIDE = 'é'.repeat(126);
const MARKER = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391';

const rows: MergeRow[] = [
  {
    name: 'flags united past 255 bytes: the key is cut and tagged with the blob',
    base: [`INBOX/cur/${K}:2,@${BLOB}`],
    ours: [`INBOX/cur/${K}:2,S@${BLOB}`],
    theirs: [`INBOX/cur/${K}:2,F@${BLOB}`],
    expect: [`INBOX/cur/${'k'.repeat(239)}.mga1b2c3d4:2,FS@${BLOB}`],
    decisions: [`name-too-long ${K} both`],
  },
  {
    name: 'a name of exactly 255 bytes stays as it is',
    base: [`INBOX/cur/${'k'.repeat(250)}:2,@${BLOB}`],
    ours: [`INBOX/cur/${'k'.repeat(250)}:2,S@${BLOB}`],
    theirs: [`INBOX/cur/${'k'.repeat(250)}:2,F@${BLOB}`],
    expect: [`INBOX/cur/${'k'.repeat(250)}:2,FS@${BLOB}`],
    decisions: [],
  },
  {
    name: 'two-byte characters are cut whole, counted in bytes',
    base: [`INBOX/cur/${WIDE}:2,@${BLOB}`],
    ours: [`INBOX/cur/${WIDE}:2,S@${BLOB}`],
    theirs: [`INBOX/cur/${WIDE}:2,F@${BLOB}`],
    expect: [`INBOX/cur/${'é'.repeat(119)}.mga1b2c3d4:2,FS@${BLOB}`],
    decisions: [`name-too-long ${WIDE} both`],
  },
  {
    name: 'keep-both rename of a long key: the renamed copy is cut to fit',
    base: [],
    ours: [`INBOX/new/${'k'.repeat(250)}@${OTHER}`],
    theirs: [`INBOX/new/${'k'.repeat(250)}@${BLOB}`],
    expect: [`INBOX/new/${'k'.repeat(244)}.mgf9e8d7c6@${OTHER}`, `INBOX/new/${'k'.repeat(250)}@${BLOB}`],
    decisions: [`duplicate-key ${'k'.repeat(250)} both`, `name-too-long ${'k'.repeat(250)}.mgf9e8d7c6 both`],
  },
  {
    name: 'a cut name met by a replica that changed the old one: flags follow, cut again alike',
    base: [`INBOX/cur/${K}:2,@${BLOB}`],
    ours: [`INBOX/cur/${'k'.repeat(239)}.mga1b2c3d4:2,FS@${BLOB}`],
    theirs: [`INBOX/cur/${K}:2,T@${BLOB}`],
    expect: [`INBOX/cur/${'k'.repeat(238)}.mga1b2c3d4:2,FST@${BLOB}`],
  },
  {
    name: 'folder removed here, mail delivered to it there: folder and new mail kept',
    base: ['Lists/cur/m1:2,S'],
    ours: [],
    theirs: ['Lists/cur/m1:2,S', 'Lists/new/m2'],
    baseFiles: { 'Lists/maildirfolder': MARKER },
    oursFiles: {},
    theirsFiles: { 'Lists/maildirfolder': MARKER },
    expect: ['Lists/new/m2'],
    expectFiles: { 'Lists/maildirfolder': MARKER },
    decisions: ['file-conflict Lists/maildirfolder theirs'],
  },
  {
    name: 'folder removed here, a message in it flagged there (there newer): both kept',
    base: ['Lists/cur/m1:2,'],
    ours: [],
    theirs: ['Lists/cur/m1:2,F'],
    baseFiles: { 'Lists/maildirfolder': MARKER },
    oursFiles: {},
    theirsFiles: { 'Lists/maildirfolder': MARKER },
    expect: ['Lists/cur/m1:2,F'],
    expectFiles: { 'Lists/maildirfolder': MARKER },
    decisions: ['file-conflict Lists/maildirfolder theirs', 'delete-vs-change m1 theirs'],
  },
  {
    name: 'folder removed here (here newer), a message in it flagged there: all gone',
    base: ['Lists/cur/m1:2,'],
    ours: [],
    theirs: ['Lists/cur/m1:2,F'],
    baseFiles: { 'Lists/maildirfolder': MARKER },
    oursFiles: {},
    theirsFiles: { 'Lists/maildirfolder': MARKER },
    expect: [],
    expectFiles: {},
    decisions: ['delete-vs-change m1 ours'],
    stamps: [st(9, 'desktop'), st(8, 'laptop')],
  },
  {
    name: 'folder removed here, its mail moved out there (there newer): the folder goes, the mail stays',
    base: ['Lists/cur/m1:2,'],
    ours: [],
    theirs: ['INBOX/cur/m1:2,'],
    baseFiles: { 'Lists/maildirfolder': MARKER },
    oursFiles: {},
    theirsFiles: { 'Lists/maildirfolder': MARKER },
    expect: ['INBOX/cur/m1:2,'],
    expectFiles: {},
    decisions: ['delete-vs-change m1 theirs'],
  },
  {
    name: 'folder removed on both sides while one delivered into it: nothing to keep it by',
    base: ['Lists/cur/m1:2,'],
    ours: [],
    theirs: ['Lists/new/m2'],
    baseFiles: { 'Lists/maildirfolder': MARKER },
    oursFiles: {},
    theirsFiles: {},
    expect: ['Lists/new/m2'],
    expectFiles: {},
    decisions: [],
  },
];

describe('merge near the name limit and folder removal against delivery', () => {
  for (const row of rows) {
    it(row.name, () => {
      const { result: r, base, ours, theirs } = checkMergeRow(row);
      for (const m of r.snapshot.messages.values()) expect(utf8Length(m.key + m.info)).toBeLessThanOrEqual(255);
      // Merging the result with itself, or with the base, changes nothing.
      expect(merge({ base, ours: side(r.snapshot, ours.stamp), theirs: side(r.snapshot, theirs.stamp) }).snapshot).toEqual(r.snapshot);
    });
  }

  it('fitName is the identity on names that fit and always fits', () => {
    expect(fitName({ key: 'k1', info: ':2,S', blob: BLOB })).toEqual({ key: 'k1', info: ':2,S' });
    for (const [key, info] of [
      [K, ':2,FRST'],
      ['x', `:2,${'S'.repeat(300)}`],
      ['😀'.repeat(70), ':2,S'],
    ] as const) {
      const f = fitName({ key, info, blob: BLOB });
      expect(utf8Length(f.key + f.info)).toBeLessThanOrEqual(255);
      expect(f.key.endsWith('.mga1b2c3d4')).toBe(true);
      expect(f.key).not.toMatch(/\ufffd/);
    }
  });
});

describe("a client's rename during an apply, merged with the name the apply wants", () => {
  const p = (s: string) => parseMessagePath(s)!;
  const cases: [string, string, string, string][] = [
    // base, client, wanted → merged
    ['INBOX/cur/k:2,S', 'INBOX/cur/k:2,RS', 'INBOX/cur/k:2,FS', 'INBOX/cur/k:2,FRS'],
    ['INBOX/cur/k:2,S', 'INBOX/cur/k:2,', 'INBOX/cur/k:2,FS', 'INBOX/cur/k:2,F'],
    ['INBOX/cur/k:2,S', 'INBOX/cur/k:2,RS', 'Archive/cur/k:2,S', 'Archive/cur/k:2,RS'],
    ['INBOX/new/k', 'INBOX/cur/k:2,S', 'Archive/new/k', 'Archive/cur/k:2,S'],
    ['INBOX/cur/k:2,S', 'INBOX/cur/k:2,T', 'INBOX/cur/k:2,', 'INBOX/cur/k:2,T'],
    [`INBOX/cur/${K}:2,`, `INBOX/cur/${K}:2,S`, `INBOX/cur/${K}:2,F`, `INBOX/cur/${'k'.repeat(239)}.mga1b2c3d4:2,FS`],
  ];
  for (const [b, c, w, want] of cases) {
    it(`${b.slice(0, 40)} / ${c.slice(0, 40)} / ${w.slice(0, 40)}`, () => {
      const merged = mergeClientName({ base: p(b), client: p(c), wanted: p(w) }, BLOB);
      const path = `${merged.folder}/${merged.sub}/${merged.key}${merged.info}`;
      expect(path).toBe(want);
    });
  }
});
