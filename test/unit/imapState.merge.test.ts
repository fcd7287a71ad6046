/**
 * The merge of two-way IMAP state files (src/merge/imapState.ts): entry by entry, the
 * higher stamp wins, a removal on one side against an unchanged entry on the other goes;
 * symmetric, and idempotent; unreadable sides or different UIDVALIDITYs fall back to
 * last-writer-wins (undefined). Also through mergeFiles, as a sync calls it.
 */
import { describe, expect, it } from 'vitest';
import { MergeContext } from '../../src/merge/context.js';
import { formatImapState, isImapStatePath, mergeImapStateFile, parseImapState, type ImapStateLine } from '../../src/merge/imapState.js';
import { mergeFiles } from '../../src/merge/mergeFiles.js';
import { emptySnapshot } from '../../src/merge/emptySnapshot.js';

const PATH = '.mailgit/imap/work/INBOX/0.state';
const side = (clock: number, replica: string) => ({ snapshot: emptySnapshot(), stamp: { clock, replica } });
const ctx = () => new MergeContext(side(5, 'a'), side(7, 'b'));
const file = (lines: ImapStateLine[], uv = '17') => ({ blob: `b${Math.random()}`, content: formatImapState({ uidValidity: uv, lines }) });
const l = (uid: number, key: string, flags: string | null, stamp: string): ImapStateLine => ({ uid, key, flags, stamp });

describe('two-way state files merge by entry', () => {
  it('parses what it formats, canonically sorted; refuses what is not a state file', () => {
    const text = formatImapState({ uidValidity: '17', lines: [l(3, 'k3', 'S', '9'), l(0, 'held key', '', '4'), l(1, 'k1', null, '8')] });
    expect(text).toBe('mailgit-imap-state 1 17\n0 held%20key : 4\n1 k1 - 8\n3 k3 :S 9\n');
    expect(formatImapState(parseImapState(text)!)).toBe(text);
    for (const bad of [
      '{}',
      'mailgit-imap-state 1 x\n',
      'mailgit-imap-state 1 1\n1 k :S\n',
      'mailgit-imap-state 1 1\n1 k S 3\n',
      'mailgit-imap-state 1 1\n-1 k :S 3\n',
    ])
      expect(parseImapState(bad)).toBeUndefined();
    expect(isImapStatePath(PATH)).toBe(true);
    expect(isImapStatePath('.mailgit/imap/work/INBOX/notes.txt')).toBe(false);
  });

  it('the higher stamp wins per entry; one-sided removals of unchanged entries go; one-sided additions stay; symmetric', () => {
    const base = file([l(1, 'k1', '', '10'), l(2, 'k2', '', '10'), l(3, 'k3', 'S', '10')]);
    const ours = file([l(1, 'k1', 'S', '20'), l(2, 'k2', '', '10'), l(3, 'k3', 'S', '10'), l(4, 'k4', '', '20')]); // read 1, fetched 4
    const theirs = file([l(1, 'k1', 'F', '15'), l(3, 'k3', 'S', '10'), l(5, 'k5', 'R', '30')]); // older change to 1, 2 expunged, fetched 5
    const m1 = mergeImapStateFile({ base, ours, theirs }, ctx())!;
    const m2 = mergeImapStateFile({ base, ours: theirs, theirs: ours }, ctx())!;
    expect(m1.content).toBe(m2.content);
    expect(parseImapState(m1.content)!.lines).toEqual([l(1, 'k1', 'S', '20'), l(3, 'k3', 'S', '10'), l(4, 'k4', '', '20'), l(5, 'k5', 'R', '30')]);
    // Idempotent: merging the result with either side again changes nothing.
    expect(mergeImapStateFile({ base: ours, ours: m1, theirs: ours }, ctx())!.content).toBe(m1.content);
    // Equal stamps: a fixed rule (the larger line), the same from both sides.
    const x = file([l(1, 'k1', 'F', '20')]);
    const y = file([l(1, 'k1', 'S', '20')]);
    expect(mergeImapStateFile({ base: undefined, ours: x, theirs: y }, ctx())!.content).toBe(
      mergeImapStateFile({ base: undefined, ours: y, theirs: x }, ctx())!.content,
    );
  });

  it('different UIDVALIDITYs or an unreadable side → undefined (last-writer-wins); through mergeFiles the entries merge', () => {
    expect(mergeImapStateFile({ base: undefined, ours: file([l(1, 'a', '', '1')], '1'), theirs: file([l(1, 'a', '', '1')], '2') }, ctx())).toBeUndefined();
    expect(mergeImapStateFile({ base: undefined, ours: { blob: 'x', content: 'junk' }, theirs: file([]) }, ctx())).toBeUndefined();
    const base = new Map([[PATH, file([l(1, 'k1', '', '1')])]]);
    const ours = new Map([[PATH, file([l(1, 'k1', 'S', '2')])]]);
    const theirs = new Map([[PATH, file([l(1, 'k1', '', '1'), l(2, 'k2', '', '3')])]]);
    const out = mergeFiles({ base, ours, theirs }, ctx());
    expect(parseImapState(out.get(PATH)!.content)!.lines).toEqual([l(1, 'k1', 'S', '2'), l(2, 'k2', '', '3')]);
  });
});
