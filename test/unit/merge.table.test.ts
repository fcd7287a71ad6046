/**
 * The merge rules as a table: each row is base / ours / theirs → expected, and every row is
 * also run mirrored (ours and theirs swapped), which must give the same snapshot.
 */
import { describe, expect, it } from 'vitest';
import { BEFORE_HISTORY } from '../../src/merge/lastChange.js';
import { merge } from '../../src/merge/merge.js';
import { at, checkMergeRow, cpFile, type MergeRow, side, snap, st, stateFile } from './merge.helpers.js';

const STATE = '.mailgit/imap/work/INBOX/0.state';

const rows: MergeRow[] = [
  // Rule 1: unchanged on one side.
  { name: 'flag on theirs only', base: ['INBOX/cur/k1:2,'], ours: ['INBOX/cur/k1:2,'], theirs: ['INBOX/cur/k1:2,S'], expect: ['INBOX/cur/k1:2,S'] },
  { name: 'move on ours only', base: ['INBOX/cur/k1:2,S'], ours: ['Archive/cur/k1:2,S'], theirs: ['INBOX/cur/k1:2,S'], expect: ['Archive/cur/k1:2,S'] },
  {
    name: 'unchanged entry with odd info stays verbatim',
    base: ['INBOX/cur/k1'],
    ours: ['INBOX/cur/k1'],
    theirs: ['INBOX/cur/k1', 'INBOX/new/k2'],
    expect: ['INBOX/cur/k1', 'INBOX/new/k2'],
  },

  // Rule 2: flags, letter by letter.
  {
    name: 'read here + flagged there = both',
    base: ['INBOX/cur/k1:2,'],
    ours: ['INBOX/cur/k1:2,S'],
    theirs: ['INBOX/cur/k1:2,F'],
    expect: ['INBOX/cur/k1:2,FS'],
  },
  { name: 'clear one flag + set another', base: ['INBOX/cur/k1:2,S'], ours: ['INBOX/cur/k1:2,'], theirs: ['INBOX/cur/k1:2,FS'], expect: ['INBOX/cur/k1:2,F'] },
  {
    name: 'keyword letters like standard ones, sorted ASCII',
    base: ['INBOX/cur/k1:2,Sa'],
    ours: ['INBOX/cur/k1:2,Sab'],
    theirs: ['INBOX/cur/k1:2,RS'],
    expect: ['INBOX/cur/k1:2,RSb'],
  },
  { name: 'same flag set on both sides', base: ['INBOX/cur/k1:2,'], ours: ['INBOX/cur/k1:2,T'], theirs: ['INBOX/cur/k1:2,T'], expect: ['INBOX/cur/k1:2,T'] },
  {
    name: 'merged flags equal one side: its info kept verbatim',
    base: ['INBOX/cur/k1:2,'],
    ours: ['INBOX/cur/k1:2,SF'],
    theirs: ['Archive/cur/k1:2,'],
    expect: ['Archive/cur/k1:2,SF'],
  },
  {
    name: 'seen here (new→cur) + moved there while unseen',
    base: ['INBOX/new/k1'],
    ours: ['INBOX/cur/k1:2,S'],
    theirs: ['Archive/new/k1'],
    expect: ['Archive/cur/k1:2,S'],
  },
  {
    name: 'landing in cur with empty info gets ":2,"',
    base: ['INBOX/new/k1'],
    ours: ['INBOX/cur/k1'],
    theirs: ['Archive/new/k1'],
    expect: ['Archive/cur/k1:2,'],
  },
  {
    name: 'flags here + move there: no conflict',
    base: ['INBOX/cur/k1:2,'],
    ours: ['INBOX/cur/k1:2,RS'],
    theirs: ['Lists/rust/cur/k1:2,'],
    expect: ['Lists/rust/cur/k1:2,RS'],
    decisions: [],
  },
  {
    name: 'flags on both sides + move on one',
    base: ['INBOX/cur/k1:2,S'],
    ours: ['Trash/cur/k1:2,ST'],
    theirs: ['INBOX/cur/k1:2,FS'],
    expect: ['Trash/cur/k1:2,FST'],
  },

  // Rule 2b: in a two-way IMAP folder, flags merge against what each side agreed with the
  // server (its state entry, stamped with the server's MODSEQ), not only the common commit.
  {
    // Seed 110966: a pulled R (b's older change, sent at 23); b removed R and sent that at 29.
    name: 'two-way: a flag one side pulled and the other later removed on the server stays removed',
    base: ['INBOX/cur/k1:2,'],
    ours: ['INBOX/cur/k1:2,'],
    theirs: ['INBOX/cur/k1:2,R'],
    expect: ['INBOX/cur/k1:2,'],
    baseFiles: { [STATE]: stateFile('s0', ['1 k1 : 15']) },
    oursFiles: { [STATE]: stateFile('s1', ['1 k1 : 29']) },
    theirsFiles: { [STATE]: stateFile('s2', ['1 k1 :R 24']) },
    expectFiles: { [STATE]: stateFile('s1', ['1 k1 : 29']) },
    decisions: [],
  },
  {
    name: "two-way: a person's change not yet sent wins over the other side's later agreement",
    base: ['INBOX/cur/k1:2,'],
    ours: ['INBOX/cur/k1:2,R'],
    theirs: ['INBOX/cur/k1:2,F'],
    expect: ['INBOX/cur/k1:2,FR'],
    baseFiles: { [STATE]: stateFile('s0', ['1 k1 : 15']) },
    theirsFiles: { [STATE]: stateFile('s2', ['1 k1 :F 29']) },
    expectFiles: { [STATE]: stateFile('s2', ['1 k1 :F 29']) },
    decisions: [],
  },
  {
    name: 'two-way: a flag set again after the later agreement removed it stays (both files have it)',
    base: ['INBOX/cur/k1:2,'],
    ours: ['INBOX/cur/k1:2,R'],
    theirs: ['INBOX/cur/k1:2,R'],
    expect: ['INBOX/cur/k1:2,R'],
    baseFiles: { [STATE]: stateFile('s0', ['1 k1 : 15']) },
    oursFiles: { [STATE]: stateFile('s1', ['1 k1 : 29']) },
    theirsFiles: { [STATE]: stateFile('s2', ['1 k1 :R 24']) },
    expectFiles: { [STATE]: stateFile('s1', ['1 k1 : 29']) },
    decisions: [],
  },
  {
    name: 'two-way: a flag a person set again after both sides pulled its removal stays (the common commit had it too)',
    base: ['INBOX/cur/k1:2,R'],
    ours: ['INBOX/cur/k1:2,R'],
    theirs: ['INBOX/cur/k1:2,'],
    expect: ['INBOX/cur/k1:2,R'],
    baseFiles: { [STATE]: stateFile('s0', ['1 k1 :R 15']) },
    oursFiles: { [STATE]: stateFile('s1', ['1 k1 : 29']) },
    theirsFiles: { [STATE]: stateFile('s2', ['1 k1 : 30']) },
    expectFiles: { [STATE]: stateFile('s2', ['1 k1 : 30']) },
    decisions: [],
  },
  {
    name: 'two-way: a side that changed neither file nor entry takes the other side (a change from the base undone there)',
    base: ['INBOX/cur/k1:2,R'],
    ours: ['INBOX/cur/k1:2,R'],
    theirs: ['INBOX/cur/k1:2,'],
    expect: ['INBOX/cur/k1:2,'],
    baseFiles: { [STATE]: stateFile('s0', ['1 k1 : 15']) },
    theirsFiles: { [STATE]: stateFile('s2', ['1 k1 : 20']) },
    expectFiles: { [STATE]: stateFile('s2', ['1 k1 : 20']) },
    decisions: [],
  },
  {
    name: 'two-way: a letter no side agreed with the server (a keyword without a letter there) merges as plain three-way',
    base: ['INBOX/cur/k1:2,a'],
    ours: ['INBOX/cur/k1:2,'],
    theirs: ['INBOX/cur/k1:2,Ra'],
    expect: ['INBOX/cur/k1:2,'],
    baseFiles: { [STATE]: stateFile('s0', ['1 k1 : 15']) },
    oursFiles: { [STATE]: stateFile('s1', ['1 k1 : 29']) },
    theirsFiles: { [STATE]: stateFile('s2', ['1 k1 :R 24']) },
    expectFiles: { [STATE]: stateFile('s1', ['1 k1 : 29']) },
    decisions: [],
  },
  {
    name: 'two-way: the state of another folder says nothing about this one',
    base: ['Archive/cur/k1:2,'],
    ours: ['Archive/cur/k1:2,'],
    theirs: ['Archive/cur/k1:2,R'],
    expect: ['Archive/cur/k1:2,R'],
    baseFiles: { [STATE]: stateFile('s0', ['1 k1 : 15']) },
    oursFiles: { [STATE]: stateFile('s1', ['1 k1 : 29']) },
    theirsFiles: { [STATE]: stateFile('s2', ['1 k1 :R 24']) },
    expectFiles: { [STATE]: stateFile('s1', ['1 k1 : 29']) },
    decisions: [],
  },

  // Rule 2c: keyword letters merge by keyword when both sides changed a folder's table.
  {
    name: 'keywords: one letter given to different keywords on the two sides → the smaller name keeps it, the other moves, on every message',
    base: ['INBOX/cur/k1:2,a', 'INBOX/cur/k2:2,S', 'INBOX/cur/k3:2,'],
    ours: ['INBOX/cur/k1:2,a', 'INBOX/cur/k2:2,Sb', 'INBOX/cur/k3:2,'],
    theirs: ['INBOX/cur/k1:2,ab', 'INBOX/cur/k2:2,Sb', 'INBOX/cur/k3:2,b'],
    expect: ['INBOX/cur/k1:2,ac', 'INBOX/cur/k2:2,Sbc', 'INBOX/cur/k3:2,c'],
    baseFiles: { 'INBOX/dovecot-keywords': { blob: 'kw0', content: '0 $Junk\n' } },
    oursFiles: { 'INBOX/dovecot-keywords': { blob: 'kw1', content: '0 $Junk\n1 $Label1\n' } },
    theirsFiles: { 'INBOX/dovecot-keywords': { blob: 'kw2', content: '0 $Junk\n1 $Work\n' } },
    expectFiles: { 'INBOX/dovecot-keywords': { blob: '', content: '0 $Junk\n1 $Label1\n2 $Work\n' } },
    decisions: [],
  },
  {
    name: "keywords: one keyword under two letters → the smaller letter; the other side's two-way state is re-lettered too",
    base: ['INBOX/cur/k1:2,'],
    ours: ['INBOX/cur/k1:2,c'],
    theirs: ['INBOX/cur/k1:2,b'],
    expect: ['INBOX/cur/k1:2,b'],
    baseFiles: { 'INBOX/dovecot-keywords': { blob: 'kw0', content: '0 $Junk\n' }, [STATE]: stateFile('s0', ['1 k1 : 15']) },
    oursFiles: { 'INBOX/dovecot-keywords': { blob: 'kw1', content: '0 $Junk\n2 $Work\n' }, [STATE]: stateFile('s1', ['1 k1 :c 29']) },
    theirsFiles: { 'INBOX/dovecot-keywords': { blob: 'kw2', content: '0 $Junk\n1 $Work\n' }, [STATE]: stateFile('s2', ['1 k1 :b 24']) },
    expectFiles: {
      'INBOX/dovecot-keywords': { blob: '', content: '0 $Junk\n1 $Work\n' },
      [STATE]: { blob: '', content: stateFile('', ['1 k1 :b 29']).content },
    },
    decisions: [],
  },
  {
    name: 'keywords: a table changed on one side only is taken as it is (no re-lettering)',
    base: ['INBOX/cur/k1:2,'],
    ours: ['INBOX/cur/k1:2,'],
    theirs: ['INBOX/cur/k1:2,b'],
    expect: ['INBOX/cur/k1:2,b'],
    baseFiles: { 'INBOX/dovecot-keywords': { blob: 'kw0', content: '0 $Junk\n' } },
    theirsFiles: { 'INBOX/dovecot-keywords': { blob: 'kw2', content: '0 $Junk\n1 $Work\n' } },
    expectFiles: { 'INBOX/dovecot-keywords': { blob: 'kw2', content: '0 $Junk\n1 $Work\n' } },
    decisions: [],
  },
  {
    name: "keywords: a table one side re-lettered (a criss-cross merge settled a clash the other way) → taken, and the other side's messages and two-way state re-lettered to it, so $Junk stays $Junk (seed 39695)",
    base: ['INBOX/cur/k1:2,a', 'INBOX/cur/k2:2,b'],
    ours: ['INBOX/cur/k1:2,a', 'INBOX/cur/k2:2,Sb'],
    theirs: ['INBOX/cur/k1:2,b', 'INBOX/cur/k2:2,a'],
    expect: ['INBOX/cur/k1:2,b', 'INBOX/cur/k2:2,Sa'],
    baseFiles: { 'INBOX/dovecot-keywords': { blob: 'kw0', content: '0 $Junk\n1 proj-x\n' }, [STATE]: stateFile('s0', ['4 k1 :a 3']) },
    oursFiles: { 'INBOX/dovecot-keywords': { blob: 'kw0', content: '0 $Junk\n1 proj-x\n' }, [STATE]: stateFile('s1', ['4 k1 :a 8']) },
    theirsFiles: { 'INBOX/dovecot-keywords': { blob: 'kw2', content: '0 proj-x\n1 $Junk\n' }, [STATE]: stateFile('s2', ['4 k1 :b 7']) },
    expectFiles: {
      'INBOX/dovecot-keywords': { blob: 'kw2', content: '0 proj-x\n1 $Junk\n' },
      [STATE]: { blob: '', content: stateFile('', ['4 k1 :b 8']).content },
    },
    decisions: [],
  },
  {
    name: 'keywords: both sides re-lettered the table alike → the base is re-lettered too, so a keyword one side took off stays off (found by the keyword-name property)',
    base: ['INBOX/cur/k1:2,a', 'INBOX/cur/k2:2,a'],
    ours: ['INBOX/cur/k1:2,b', 'INBOX/cur/k2:2,Sb'],
    theirs: ['INBOX/cur/k1:2,', 'INBOX/cur/k2:2,b'],
    expect: ['INBOX/cur/k1:2,', 'INBOX/cur/k2:2,Sb'],
    baseFiles: { 'INBOX/dovecot-keywords': { blob: 'kw0', content: '0 $Label1\n' } },
    oursFiles: { 'INBOX/dovecot-keywords': { blob: 'kw1', content: '1 $Label1\n' } },
    theirsFiles: { 'INBOX/dovecot-keywords': { blob: 'kw1', content: '1 $Label1\n' } },
    expectFiles: { 'INBOX/dovecot-keywords': { blob: 'kw1', content: '1 $Label1\n' } },
    decisions: [],
  },

  // Rule 3: new on either side.
  {
    name: 'new on each side: union',
    base: ['INBOX/cur/k0:2,S'],
    ours: ['INBOX/cur/k0:2,S', 'INBOX/new/k1'],
    theirs: ['INBOX/cur/k0:2,S', 'INBOX/new/k2'],
    expect: ['INBOX/cur/k0:2,S', 'INBOX/new/k1', 'INBOX/new/k2'],
  },
  {
    name: 'empty base: both sides kept',
    base: [],
    ours: ['INBOX/cur/a:2,S', 'cur/r1:2,'],
    theirs: ['Lists/x/new/b'],
    expect: ['INBOX/cur/a:2,S', 'Lists/x/new/b', 'cur/r1:2,'],
  },
  {
    name: 'same mail fetched twice: one copy, seen wins, flags union',
    base: [],
    ours: ['INBOX/new/k1@b1'],
    theirs: ['INBOX/cur/k1:2,S@b1'],
    expect: ['INBOX/cur/k1:2,S@b1'],
  },
  {
    name: 'same mail fetched twice, both flagged differently',
    base: [],
    ours: ['INBOX/cur/k1:2,F@b1'],
    theirs: ['INBOX/cur/k1:2,S@b1'],
    expect: ['INBOX/cur/k1:2,FS@b1'],
  },
  {
    // One key and content new in two folders, and neither side ever had it in the other's
    // folder: two files (one message in two server folders, or two cps whose original a
    // sync's partial snapshots leave out as unchanged). Keeping one lost the other.
    name: 'same mail new in two folders, neither side had the other folder: both kept',
    base: [],
    ours: ['INBOX/cur/k1:2,S@b1'],
    theirs: ['Lists/cur/k1:2,F@b1'],
    expect: ['INBOX/cur/k1:2,S@b1', 'Lists/cur/k1:2,F@b1'],
    decisions: [],
  },
  {
    // Convergence fuzz (issue 10, seed 13001): deleted on one replica, moved out of INBOX to
    // Archive on a second and to Trash on a third; both moves won against the deletion, which
    // is the base. Both sides moved it out of INBOX, where no map holds it: one message.
    name: 'same mail new in two folders, both moved it out of a third since the base: one message, the later move',
    base: ['INBOX/cur/k9:2,S@b9'],
    ours: ['Archive/cur/i2:2,S@b2', 'INBOX/cur/k9:2,S@b9'],
    theirs: ['INBOX/cur/k9:2,S@b9', 'Trash/cur/i2:2,S@b2'],
    expect: ['INBOX/cur/k9:2,S@b9', 'Trash/cur/i2:2,S@b2'],
    changes: [
      { i2: st(6, 'desktop'), 'i2\0INBOX': st(6, 'desktop'), 'i2\0Archive': st(6, 'desktop'), 'i2\0Trash': BEFORE_HISTORY },
      { i2: st(7, 'laptop'), 'i2\0INBOX': st(7, 'laptop'), 'i2\0Trash': st(7, 'laptop'), 'i2\0Archive': BEFORE_HISTORY },
    ],
    decisions: ['move-conflict i2 theirs'],
  },
  {
    // Convergence fuzz (issue 10, seed 14004): another replica's k0 (other content) took this
    // one's k0 in Trash, so this merge renames theirs to k0.mgS2 (rule 6); it is the original
    // they moved out of INBOX, where this side renamed it to k0.mgS2 earlier. A key the merge
    // made has no history of its own: one message, not two cps.
    name: 'a rule-6 rename this merge makes meets the same rename here in another folder: one message',
    base: ['INBOX/new/k0@S2'],
    ours: ['INBOX/new/k0.mgS2@S2', 'Trash/new/k0@S1'],
    theirs: ['Lists/rust/new/k0@S2', 'Trash/new/k0@S2'],
    expect: ['Lists/rust/new/k0@S2', 'Trash/new/k0.mgS2@S2', 'Trash/new/k0@S1'],
  },
  {
    // Convergence fuzz (issue 10, seed 15004): the same mv to Lists/rust on both sides, and a
    // cp into Archive here. The cp was read as this side's move and the other's removal of
    // INBOX as a deletion that won; later merges then dropped both files (a message lost).
    name: 'the same move on both sides and a cp here: the moved message once, the cp kept',
    base: ['INBOX/new/i1@I1'],
    ours: ['Archive/new/i1@I1', 'Lists/rust/new/i1@I1'],
    theirs: ['Lists/rust/new/i1@I1'],
    expect: ['Archive/new/i1@I1', 'Lists/rust/new/i1@I1'],
    decisions: [],
  },
  {
    // The same when a side moved it out of the other's folder since the base (fetched into
    // INBOX on both, moved to Lists on one): one message, in the later folder.
    name: 'same mail fetched on both, moved out of INBOX there: one message, newer folder',
    base: [],
    ours: ['INBOX/cur/k1:2,S@b1'],
    theirs: ['Lists/cur/k1:2,F@b1'],
    expect: ['Lists/cur/k1:2,FS@b1'],
    changes: [{ k1: st(5, 'desktop') }, { k1: st(7, 'laptop'), 'k1\0INBOX': st(7, 'laptop') }],
    decisions: ['move-conflict k1 theirs'],
  },

  // Rule 4: deleted on one side.
  {
    name: 'deleted here, unchanged there',
    base: ['INBOX/cur/k1:2,S', 'INBOX/cur/k2:2,'],
    ours: ['INBOX/cur/k2:2,'],
    theirs: ['INBOX/cur/k1:2,S', 'INBOX/cur/k2:2,'],
    expect: ['INBOX/cur/k2:2,'],
  },
  { name: 'deleted on both sides', base: ['INBOX/cur/k1:2,S'], ours: [], theirs: [], expect: [] },

  // Rule 5: last writer wins on single-valued conflicts.
  {
    name: 'deleted here vs re-flagged there (there newer): kept',
    base: ['INBOX/cur/k1:2,'],
    ours: [],
    theirs: ['INBOX/cur/k1:2,F'],
    expect: ['INBOX/cur/k1:2,F'],
    decisions: ['delete-vs-change k1 theirs'],
  },
  {
    name: 'deleted here vs re-flagged there (here newer): deleted',
    base: ['INBOX/cur/k1:2,'],
    ours: [],
    theirs: ['INBOX/cur/k1:2,F'],
    expect: [],
    decisions: ['delete-vs-change k1 ours'],
    stamps: [st(9, 'desktop'), st(8, 'laptop')],
  },
  {
    name: 'moved here vs deleted there (there newer): deleted',
    base: ['INBOX/cur/k1:2,S'],
    ours: ['Archive/cur/k1:2,S'],
    theirs: [],
    expect: [],
    decisions: ['delete-vs-change k1 theirs'],
  },
  {
    name: 'seen here vs deleted there (here newer): kept',
    base: ['INBOX/new/k1'],
    ours: ['INBOX/cur/k1:2,S'],
    theirs: [],
    expect: ['INBOX/cur/k1:2,S'],
    decisions: ['delete-vs-change k1 ours'],
    stamps: [st(9, 'desktop'), st(8, 'laptop')],
  },
  {
    name: 'moved to two folders (there newer)',
    base: ['INBOX/cur/k1:2,S'],
    ours: ['Archive/cur/k1:2,S'],
    theirs: ['Trash/cur/k1:2,S'],
    expect: ['Trash/cur/k1:2,S'],
    decisions: ['move-conflict k1 theirs'],
  },
  {
    name: 'moved to two folders (here newer), flags merged too',
    base: ['INBOX/cur/k1:2,S'],
    ours: ['Archive/cur/k1:2,FS'],
    theirs: ['Trash/cur/k1:2,ST'],
    expect: ['Archive/cur/k1:2,FST'],
    decisions: ['move-conflict k1 ours'],
    stamps: [st(9, 'desktop'), st(8, 'laptop')],
  },
  {
    name: 'moved to two folders, equal clocks: replica name decides',
    base: ['INBOX/cur/k1:2,'],
    ours: ['Archive/cur/k1:2,'],
    theirs: ['Trash/cur/k1:2,'],
    expect: ['Archive/cur/k1:2,'],
    decisions: ['move-conflict k1 ours'],
    stamps: [st(4, 'zeta'), st(4, 'alpha')],
  },
  {
    name: 'clock beats replica name',
    base: ['INBOX/cur/k1:2,'],
    ours: ['Archive/cur/k1:2,'],
    theirs: ['Trash/cur/k1:2,'],
    expect: ['Trash/cur/k1:2,'],
    decisions: ['move-conflict k1 theirs'],
    stamps: [st(4, 'zeta'), st(10, 'alpha')],
  },
  {
    name: 'clocks compare numerically, not as text',
    base: ['INBOX/cur/k1:2,'],
    ours: ['Archive/cur/k1:2,'],
    theirs: ['Trash/cur/k1:2,'],
    expect: ['Archive/cur/k1:2,'],
    decisions: ['move-conflict k1 ours'],
    stamps: [st(10, 'a'), st(9, 'b')],
  },
  {
    name: 'moved to the same folder on both sides: no conflict',
    base: ['INBOX/cur/k1:2,'],
    ours: ['Archive/cur/k1:2,S'],
    theirs: ['Archive/cur/k1:2,'],
    expect: ['Archive/cur/k1:2,S'],
    decisions: [],
  },

  // Rule 5 goes by the changes to that message, not by the heads.
  {
    name: 'a busy replica gains nothing: the later deletion wins over an earlier flag on the newer head',
    base: ['INBOX/cur/k1:2,'],
    ours: [],
    theirs: ['INBOX/cur/k1:2,F'],
    expect: [],
    stamps: [at('10:00', 'desktop'), at('12:00', 'laptop')],
    changes: [{ k1: at('10:00', 'desktop') }, { k1: at('09:00', 'laptop') }],
    decisions: ['delete-vs-change k1 ours'],
    texts: [
      /^INBOX\/cur\/k1: deleted here \(by desktop, 2026-12-03 10:00:00 UTC\) and re-flagged \(flags "F"\) on laptop \(by laptop, 2026-12-03 09:00:00 UTC\); deleted it: the change here is later$/,
    ],
  },
  {
    name: 'the change is named by who made it, not by whose head brought it',
    base: ['INBOX/cur/k1:2,S'],
    ours: ['Archive/cur/k1:2,S'],
    theirs: ['Trash/cur/k1:2,S'],
    expect: ['Trash/cur/k1:2,S'],
    stamps: [at('12:00', 'desktop'), at('11:00', 'laptop')],
    changes: [{ k1: at('08:00', 'desktop') }, { k1: at('09:30', 'phone') }],
    decisions: ['move-conflict k1 theirs'],
    texts: [
      /moved to Archive here \(by desktop, 2026-12-03 08:00:00 UTC\) and to Trash on laptop \(by phone, 2026-12-03 09:30:00 UTC\); kept Trash: the change on laptop is later$/,
    ],
  },
  {
    name: 'a tie of clocks is called a tie, and the replica name breaks it',
    base: ['INBOX/cur/k1:2,'],
    ours: ['INBOX/cur/k1:2,F'],
    theirs: [],
    expect: ['INBOX/cur/k1:2,F'],
    changes: [{ k1: at('09:00', 'zeta') }, { k1: at('09:00', 'alpha') }],
    decisions: ['delete-vs-change k1 ours'],
    texts: [/kept it: a tie: both changes have the same clock, chosen by a fixed rule$/],
  },
  {
    name: 'two replicas with one name and one clock: the commit id breaks the tie',
    base: ['INBOX/cur/k1:2,'],
    ours: ['Archive/cur/k1:2,'],
    theirs: ['Trash/cur/k1:2,'],
    expect: ['Trash/cur/k1:2,'],
    stamps: [st(3, 'laptop'), st(3, 'laptop')],
    changes: [{ k1: at('09:00', 'laptop', 'aaaa') }, { k1: at('09:00', 'laptop', 'bbbb') }],
    decisions: ['move-conflict k1 theirs'],
    texts: [/a tie/],
  },
  {
    name: 'an old Lamport clock is older than any hybrid clock',
    base: ['INBOX/cur/k1:2,'],
    ours: [],
    theirs: ['INBOX/cur/k1:2,F'],
    expect: ['INBOX/cur/k1:2,F'],
    changes: [{ k1: st(900, 'desktop') }, { k1: at('09:00', 'laptop') }],
    decisions: ['delete-vs-change k1 theirs'],
    texts: [/deleted here \(by desktop, clock 900\)/],
  },
  {
    name: 'copied+deleted here vs deleted there: the later change wins whatever the heads say',
    base: ['INBOX/cur/k1:2,@b1'],
    ours: ['Archive/cur/n1:2,@b1'],
    theirs: [],
    expect: ['Archive/cur/n1:2,@b1'],
    stamps: [at('08:00', 'desktop'), at('12:00', 'laptop')],
    changes: [{ k1: at('11:00', 'desktop'), n1: at('11:00', 'desktop') }, { k1: at('10:00', 'laptop') }],
    decisions: ['delete-vs-change k1 ours'],
  },

  // Copies of one key in two folders (a user's cp) are two messages.
  {
    name: 'copies: one deleted here, the other there → both gone',
    base: ['INBOX/cur/k1:2,S@b1', 'Work/cur/k1:2,S@b1'],
    ours: ['Work/cur/k1:2,S@b1'],
    theirs: ['INBOX/cur/k1:2,S@b1'],
    expect: [],
    decisions: [],
  },
  {
    name: 'copies: one deleted here, the same one flagged there (later) → it is kept, the other copy untouched',
    base: ['INBOX/cur/k1:2,S@b1', 'Work/cur/k1:2,S@b1'],
    ours: ['Work/cur/k1:2,S@b1'],
    theirs: ['INBOX/cur/k1:2,FS@b1', 'Work/cur/k1:2,S@b1'],
    expect: ['INBOX/cur/k1:2,FS@b1', 'Work/cur/k1:2,S@b1'],
    decisions: ['delete-vs-change k1\0INBOX theirs'],
    texts: [/^INBOX\/cur\/k1: deleted here .* and re-flagged \(flags "FS"\) on laptop/],
  },
  {
    name: 'copies: one deleted here (later), the same one flagged there → gone, the other copy stays',
    base: ['INBOX/cur/k1:2,S@b1', 'Work/cur/k1:2,S@b1'],
    ours: ['Work/cur/k1:2,S@b1'],
    theirs: ['INBOX/cur/k1:2,FS@b1', 'Work/cur/k1:2,S@b1'],
    expect: ['Work/cur/k1:2,S@b1'],
    decisions: ['delete-vs-change k1\0INBOX ours'],
    stamps: [st(9, 'desktop'), st(8, 'laptop')],
  },
  {
    name: 'copies: copied here, flagged there → the flag on the original, the copy kept',
    base: ['INBOX/cur/k1:2,S@b1'],
    ours: ['INBOX/cur/k1:2,S@b1', 'Work/cur/k1:2,S@b1'],
    theirs: ['INBOX/cur/k1:2,FS@b1'],
    expect: ['INBOX/cur/k1:2,FS@b1', 'Work/cur/k1:2,S@b1'],
    decisions: [],
  },
  {
    name: 'copies: one moved here, the other flagged there',
    base: ['INBOX/cur/k1:2,S@b1', 'Work/cur/k1:2,S@b1'],
    ours: ['Archive/cur/k1:2,S@b1', 'Work/cur/k1:2,S@b1'],
    theirs: ['INBOX/cur/k1:2,S@b1', 'Work/cur/k1:2,FS@b1'],
    expect: ['Archive/cur/k1:2,S@b1', 'Work/cur/k1:2,FS@b1'],
    decisions: [],
  },
  {
    name: 'copies: each side flags a different copy',
    base: ['INBOX/cur/k1:2,@b1', 'Work/cur/k1:2,@b1'],
    ours: ['INBOX/cur/k1:2,F@b1', 'Work/cur/k1:2,@b1'],
    theirs: ['INBOX/cur/k1:2,@b1', 'Work/cur/k1:2,S@b1'],
    expect: ['INBOX/cur/k1:2,F@b1', 'Work/cur/k1:2,S@b1'],
    decisions: [],
  },
  {
    name: 'copies: the same cp on both sides → one copy',
    base: ['INBOX/cur/k1:2,@b1'],
    ours: ['INBOX/cur/k1:2,@b1', 'Work/cur/k1:2,@b1'],
    theirs: ['INBOX/cur/k1:2,@b1', 'Work/cur/k1:2,@b1'],
    expect: ['INBOX/cur/k1:2,@b1', 'Work/cur/k1:2,@b1'],
    decisions: [],
  },
  {
    name: 'copies: the original deleted here, the copy made there',
    base: ['INBOX/cur/k1:2,@b1'],
    ours: [],
    theirs: ['INBOX/cur/k1:2,@b1', 'Work/cur/k1:2,@b1'],
    expect: ['Work/cur/k1:2,@b1'],
    decisions: [],
  },
  {
    // A virtual base that took a deletion of the original (in one merge base) and keeps only
    // the copy: both sides then hold the original, moved here (out of INBOX, which history
    // says), flagged there, as new.
    name: 'copies: the same key and content new on both sides in two folders, moved out of the other folder here → one message, the later folder',
    base: ['Trash/cur/k1:2,S@b1'],
    ours: ['Archive/cur/k1:2,S@b1', 'Trash/cur/k1:2,S@b1'],
    theirs: ['INBOX/cur/k1:2,FS@b1', 'Trash/cur/k1:2,S@b1'],
    expect: ['Archive/cur/k1:2,FS@b1', 'Trash/cur/k1:2,S@b1'],
    changes: [
      { 'k1\0Archive': st(9, 'desktop'), 'k1\0INBOX': st(9, 'desktop') },
      { 'k1\0INBOX': st(8, 'laptop'), 'k1\0Archive': BEFORE_HISTORY },
    ],
    decisions: ['move-conflict k1\0Archive ours'],
    texts: [/^Archive\/cur\/k1 and INBOX\/cur\/k1: is in Archive here .* and in INBOX on laptop .*; kept Archive: the change here is later/],
  },
  {
    // Convergence fuzz (issue 10, s12): two users' cp of one message into two folders before
    // the replicas synced. Neither side ever had the key in the other's folder, so these are
    // two copies, not one original seen twice; pairing them lost one, and a deletion of the
    // lost one elsewhere came back through a later merge whose base still held it.
    name: "copies: cp into Work here, into Archive there → both copies (neither side had the other's folder)",
    base: ['INBOX/cur/k1:2,S@b1'],
    ours: ['INBOX/cur/k1:2,S@b1', 'Work/cur/k1:2,S@b1'],
    theirs: ['Archive/cur/k1:2,S@b1', 'INBOX/cur/k1:2,S@b1'],
    expect: ['Archive/cur/k1:2,S@b1', 'INBOX/cur/k1:2,S@b1', 'Work/cur/k1:2,S@b1'],
    changes: [
      { 'k1\0Work': st(6, 'desktop'), 'k1\0Archive': BEFORE_HISTORY },
      { 'k1\0Archive': st(6, 'laptop'), 'k1\0Work': BEFORE_HISTORY },
    ],
    decisions: [],
  },
  {
    // The same when a side cannot say what its history did: nothing is paired without a
    // sign that one side moved the message out of the other's folder (both files stay).
    name: 'copies: two cps into two folders, no history → both copies',
    base: ['INBOX/cur/k1:2,S@b1'],
    ours: ['INBOX/cur/k1:2,S@b1', 'Work/cur/k1:2,S@b1'],
    theirs: ['Archive/cur/k1:2,S@b1', 'INBOX/cur/k1:2,S@b1'],
    expect: ['Archive/cur/k1:2,S@b1', 'INBOX/cur/k1:2,S@b1', 'Work/cur/k1:2,S@b1'],
    decisions: [],
  },
  {
    // The later merge of that story: a replica that held the Work copy deleted it; the other
    // side is the two-cp merge. The deletion stays, the Archive copy stays.
    name: 'copies: the Work copy deleted here, the Archive copy made there → Work gone, Archive kept',
    base: ['INBOX/cur/k1:2,S@b1', 'Work/cur/k1:2,S@b1'],
    ours: ['INBOX/cur/k1:2,S@b1'],
    theirs: ['Archive/cur/k1:2,S@b1', 'INBOX/cur/k1:2,S@b1', 'Work/cur/k1:2,S@b1'],
    expect: ['Archive/cur/k1:2,S@b1', 'INBOX/cur/k1:2,S@b1'],
    decisions: [],
  },
  {
    // Convergence fuzz (issue 10): i3 deleted on one replica, moved to Archive on another,
    // flagged and cp'd into the root folder on a third; both won against the deletion, and
    // the base is that deletion. The Archive file is the original (this side moved it out of
    // INBOX), not the cp it was paired with by position before.
    name: "copies: in no base, moved out of INBOX here, flagged in INBOX and cp'd there → the original once, the cp kept",
    base: [],
    ours: ['Archive/new/i3@b3'],
    theirs: ['INBOX/cur/i3:2,F@b3', 'cur/i3:2,F@b3'],
    expect: ['Archive/cur/i3:2,F@b3', 'cur/i3:2,F@b3'],
    changes: [
      { 'i3\0Archive': st(6, 'desktop'), 'i3\0INBOX': st(6, 'desktop'), 'i3\0': BEFORE_HISTORY },
      { 'i3\0INBOX': st(4, 'laptop'), 'i3\0': st(4, 'laptop'), 'i3\0Archive': BEFORE_HISTORY },
    ],
    decisions: ['move-conflict i3\0Archive ours'],
  },
  {
    name: 'copies: moved here, copied there → both files (a side that removed a copy moved it)',
    base: ['INBOX/cur/k1:2,S@b1'],
    ours: ['Work/cur/k1:2,S@b1'],
    theirs: ['INBOX/cur/k1:2,S@b1', 'Archive/cur/k1:2,S@b1'],
    expect: ['Archive/cur/k1:2,S@b1', 'Work/cur/k1:2,S@b1'],
    decisions: [],
  },

  // Rule 6: same key, different content.
  {
    name: 'same key, different blobs, both new: keep both',
    base: [],
    ours: ['INBOX/new/k1@b2'],
    theirs: ['INBOX/new/k1@b1'],
    expect: ['INBOX/new/k1.mgb2@b2', 'INBOX/new/k1@b1'],
    decisions: ['duplicate-key k1 both'],
  },
  {
    name: 'same key, different blobs, base had a third',
    base: ['INBOX/cur/k1:2,@b0'],
    ours: ['INBOX/cur/k1:2,S@aaaaaaaaaaaa'],
    theirs: ['INBOX/cur/k1:2,@b9'],
    expect: ['INBOX/cur/k1.mgb9:2,@b9', 'INBOX/cur/k1:2,S@aaaaaaaaaaaa'],
    decisions: ['duplicate-key k1 both'],
  },
  {
    // A replica that deleted k1 and then got another replica's k1 (another message) holds
    // other content under the id: that is no change of the message deleted there.
    name: 'another message under the key here, the base one deleted there (later): the new one stays, no contest',
    base: ['INBOX/new/k1@b1'],
    ours: ['INBOX/new/k1@b2'],
    theirs: [],
    expect: ['INBOX/new/k1@b2'],
    decisions: [],
  },
  {
    name: 'duplicate key renamed with the first 8 characters of the blob',
    base: [],
    ours: ['INBOX/new/k1@0123456789abcdef'],
    theirs: ['INBOX/new/k1@ffff'],
    expect: ['INBOX/new/k1@0123456789abcdef', 'INBOX/new/k1.mgffff@ffff'],
    decisions: ['duplicate-key k1 both'],
  },
  {
    name: 'a replica that already renamed meets one that did not',
    base: [],
    ours: ['INBOX/new/k1@b1', 'INBOX/new/k1.mgb2@b2'],
    theirs: ['INBOX/cur/k1:2,S@b2'],
    expect: ['INBOX/cur/k1.mgb2:2,S@b2', 'INBOX/new/k1@b1'],
    decisions: ['duplicate-key k1 both'],
  },
  {
    name: 'deleted here; there the message was deleted too and another message took its key: the newcomer is kept',
    base: ['Lists/rust/cur/k1:2,FS@b1'],
    ours: [],
    theirs: ['INBOX/new/k1@b2'],
    expect: ['INBOX/new/k1@b2'],
    stamps: [st(9, 'desktop'), st(8, 'laptop')],
  },
  {
    name: 'renamed away there, its folder removed here: the removal follows the rename, the newcomer stays',
    base: ['Work/new/k1@b2'],
    ours: [],
    theirs: ['INBOX/new/k1@b1', 'Work/new/k1.mgb2@b2'],
    expect: ['INBOX/new/k1@b1'],
    decisions: [],
  },
  {
    name: 'renamed away there, flagged here: the flag follows the rename',
    base: ['Work/new/k1@b2'],
    ours: ['Work/cur/k1:2,F@b2'],
    theirs: ['INBOX/new/k1@b1', 'Work/new/k1.mgb2@b2'],
    expect: ['INBOX/new/k1@b1', 'Work/cur/k1.mgb2:2,F@b2'],
    decisions: [],
  },
  {
    name: 'renamed in the base only, the newcomer deleted there and the renamed one flagged here: one copy, flagged',
    base: ['INBOX/new/k1@b1', 'INBOX/new/k1.mgb2@b2'],
    ours: ['INBOX/new/k1@b1', 'INBOX/cur/k1.mgb2:2,F@b2'],
    theirs: ['INBOX/new/k1@b2'],
    expect: ['INBOX/cur/k1.mgb2:2,F@b2'],
    decisions: [],
  },

  {
    // A virtual base of two replicas that each added k1 renamed one; both were deleted since,
    // one on each side, and that side took the other replica's k1 (unrenamed) before.
    name: 'renamed in the base only, the newcomer deleted there and the renamed one deleted here: both gone',
    base: ['INBOX/new/k1@b1', 'INBOX/new/k1.mgb2@b2'],
    ours: ['INBOX/new/k1@b1'],
    theirs: ['INBOX/new/k1@b2'],
    expect: [],
    decisions: [],
  },

  // Rule 7: moves recognised by blob (copy + delete under a new key).
  {
    // There a user copied k1 into Archive, then renamed the INBOX original to n1 by copy +
    // delete: k1 is left only in Archive, which looks like a move of k1.
    name: 'copied into Archive and the original renamed there, marked seen here: seen follows the original, the copy untouched',
    base: ['INBOX/new/k1@b1'],
    ours: ['INBOX/cur/k1:2,S@b1'],
    theirs: ['Archive/new/k1@b1', 'INBOX/cur/n1:2,@b1'],
    expect: ['Archive/new/k1@b1', 'INBOX/cur/n1:2,S@b1'],
  },
  {
    name: 'copied into Archive and the original renamed there, deleted here (later): the original goes, the copy stays',
    base: ['INBOX/new/k1@b1'],
    ours: [],
    theirs: ['Archive/new/k1@b1', 'INBOX/cur/n1:2,@b1'],
    expect: ['Archive/new/k1@b1'],
    decisions: ['delete-vs-change k1 ours'],
    stamps: [st(9, 'desktop'), st(8, 'laptop')],
  },
  {
    // Convergence fuzz (issue 10): a cp of INBOX/k1 into Archive (the key kept) merged with a
    // client's move of the original into Archive (a new key, c1). The flag there went to the
    // copy, which another replica had deleted meanwhile, and the flag's contest brought it back.
    name: 'copied into Archive and the original moved there by a client (new key), flagged here: the flag follows the original',
    base: ['INBOX/cur/k1:2,S@b1'],
    ours: ['INBOX/cur/k1:2,FS@b1'],
    theirs: ['Archive/cur/c1:2,S@b1', 'Archive/cur/k1:2,S@b1'],
    expect: ['Archive/cur/c1:2,FS@b1', 'Archive/cur/k1:2,S@b1'],
  },
  {
    name: 'copied into Archive and the original moved to Work by a client (a key after the copy), deleted here (later): the original goes, the copy stays',
    base: ['INBOX/cur/k1:2,S@b1'],
    ours: [],
    theirs: ['Archive/cur/k1:2,S@b1', 'Work/cur/z1:2,S@b1'],
    expect: ['Archive/cur/k1:2,S@b1'],
    stamps: [st(9, 'desktop'), st(8, 'laptop')],
    decisions: ['delete-vs-change k1 ours'],
  },
  {
    name: 'copied+deleted here, re-flagged there: flags follow the copy',
    base: ['INBOX/cur/k1:2,S@b1'],
    ours: ['Archive/cur/n1:2,S@b1'],
    theirs: ['INBOX/cur/k1:2,FS@b1'],
    expect: ['Archive/cur/n1:2,FS@b1'],
    decisions: ['flag-vs-move k1 both'],
  },
  {
    name: 'copied+deleted there, seen here',
    base: ['INBOX/new/k1@b1'],
    ours: ['INBOX/cur/k1:2,S@b1'],
    theirs: ['Archive/cur/n1:2,@b1'],
    expect: ['Archive/cur/n1:2,S@b1'],
    decisions: ['flag-vs-move k1 both'],
  },
  {
    name: 'copied+deleted here vs moved there (there newer)',
    base: ['INBOX/cur/k1:2,@b1'],
    ours: ['Archive/cur/n1:2,@b1'],
    theirs: ['Trash/cur/k1:2,@b1'],
    expect: ['Trash/cur/n1:2,@b1'],
    decisions: ['move-conflict k1 theirs'],
  },
  {
    name: 'copied+deleted here vs moved there (here newer)',
    base: ['INBOX/cur/k1:2,@b1'],
    ours: ['Archive/cur/n1:2,@b1'],
    theirs: ['Trash/cur/k1:2,S@b1'],
    expect: ['Archive/cur/n1:2,S@b1'],
    decisions: ['move-conflict k1 ours'],
    stamps: [st(9, 'desktop'), st(8, 'laptop')],
  },
  {
    name: 'copied+deleted here vs deleted there (there newer): gone',
    base: ['INBOX/cur/k1:2,@b1'],
    ours: ['Archive/cur/n1:2,@b1'],
    theirs: [],
    expect: [],
    decisions: ['delete-vs-change k1 theirs'],
  },
  {
    name: 'copied+deleted here vs deleted there (here newer): kept',
    base: ['INBOX/cur/k1:2,@b1'],
    ours: ['Archive/cur/n1:2,@b1'],
    theirs: [],
    expect: ['Archive/cur/n1:2,@b1'],
    decisions: ['delete-vs-change k1 ours'],
    stamps: [st(9, 'desktop'), st(8, 'laptop')],
  },
  {
    name: 'copied+deleted on both sides under two names: one survives',
    base: ['INBOX/cur/k1:2,@b1'],
    ours: ['Archive/cur/n1:2,S@b1'],
    theirs: ['Trash/cur/n2:2,F@b1'],
    expect: ['Trash/cur/n2:2,FS@b1'],
    decisions: ['move-conflict k1 theirs'],
  },
  {
    name: 'fetched on both, moved by copy+delete on one before syncing: one copy',
    base: [],
    ours: ['INBOX/new/t1@x'],
    theirs: ['Archive/cur/c1:2,S@x'],
    expect: ['Archive/cur/c1:2,S@x'],
    decisions: ['move-conflict c1 theirs'],
  },
  {
    name: 'fetched on both, renamed on one in the same folder: one copy, no decision',
    base: [],
    ours: ['INBOX/new/t1@x'],
    theirs: ['INBOX/cur/c1:2,S@x'],
    expect: ['INBOX/cur/t1:2,S@x'],
    decisions: [],
    stamps: [st(9, 'desktop'), st(8, 'laptop')],
  },
  {
    // Two cps into two folders of a message both replicas fetched (in no base): two copies.
    name: 'fetched on both, cp into Work here and into Archive there → both copies',
    base: [],
    ours: ['INBOX/new/t1@x', 'Work/new/t1@x'],
    theirs: ['Archive/new/t1@x', 'INBOX/new/t1@x'],
    expect: ['Archive/new/t1@x', 'INBOX/new/t1@x', 'Work/new/t1@x'],
    decisions: [],
  },
  {
    // A side that holds the content under one key holds one message (and its cps): it is
    // one of the other side's files, paired by folder first; the other file stays.
    name: 'same content new under two ids here, one there: the one there is paired with one here, the other kept',
    base: [],
    ours: ['INBOX/new/t1@x', 'Lists/new/t2@x'],
    theirs: ['INBOX/cur/c1:2,S@x'],
    expect: ['INBOX/cur/c1:2,S@x', 'Lists/new/t2@x'],
    decisions: [],
  },
  {
    // Convergence fuzz (issue 10): i3 was cp'd into Trash and the original renamed to c5 on
    // one replica, moved to Archive as c1 (later deleted, then moved back to INBOX and kept)
    // on another; the merge base is after that deletion, so it holds none of them. c1 and
    // c5 are the one original: two keys on one side no longer keep it from being paired.
    name: 'the original renamed on both sides under two keys, a cp of it on one, none in the base: one original and the cp',
    base: [],
    ours: ['INBOX/cur/c1:2,@b3'],
    theirs: ['INBOX/cur/c5:2,@b3', 'Trash/new/i3@b3'],
    expect: ['INBOX/cur/c5:2,@b3', 'Trash/new/i3@b3'],
    decisions: [],
  },
  {
    name: 'copied+deleted here, untouched there: plain 3-way',
    base: ['INBOX/cur/k1:2,@b1'],
    ours: ['Archive/cur/n1:2,@b1'],
    theirs: ['INBOX/cur/k1:2,@b1'],
    expect: ['Archive/cur/n1:2,@b1'],
    decisions: [],
  },

  // Rule 8: files.
  {
    name: 'file changed on one side',
    baseFiles: { '.mailgit/accounts.json': 'f0' },
    oursFiles: { '.mailgit/accounts.json': 'f0' },
    theirsFiles: { '.mailgit/accounts.json': 'f1' },
    expect: [],
    expectFiles: { '.mailgit/accounts.json': 'f1' },
  },
  {
    name: 'file deleted on one side, unchanged on the other',
    baseFiles: { 'dovecot-keywords': 'f0', x: 'f' },
    oursFiles: { x: 'f' },
    theirsFiles: { 'dovecot-keywords': 'f0', x: 'f' },
    expect: [],
    expectFiles: { x: 'f' },
  },
  {
    name: 'file changed on both sides: newer wins',
    baseFiles: { '.mailgit/accounts.json': 'f0' },
    oursFiles: { '.mailgit/accounts.json': 'f1' },
    theirsFiles: { '.mailgit/accounts.json': 'f2' },
    expect: [],
    expectFiles: { '.mailgit/accounts.json': 'f2' },
    decisions: ['file-conflict .mailgit/accounts.json theirs'],
  },
  {
    name: 'file deleted here, changed there (here newer): deleted',
    baseFiles: { 'dovecot-keywords': 'f0' },
    oursFiles: {},
    theirsFiles: { 'dovecot-keywords': 'f1' },
    expect: [],
    expectFiles: {},
    decisions: ['file-conflict dovecot-keywords ours'],
    stamps: [st(9, 'desktop'), st(8, 'laptop')],
  },
  {
    name: 'file added on both sides differently: newer wins',
    oursFiles: { 'Lists/.keep': 'f1' },
    theirsFiles: { 'Lists/.keep': 'f2' },
    expect: [],
    expectFiles: { 'Lists/.keep': 'f1' },
    decisions: ['file-conflict Lists/.keep ours'],
    stamps: [st(9, 'desktop'), st(8, 'laptop')],
  },
  {
    name: 'checkpoints: same uidValidity → max uid and max modseq (as integers)',
    baseFiles: { '.mailgit/checkpoints/work.json': cpFile('c0', { INBOX: { uidValidity: '7', uid: 10, modseq: '9' } }) },
    oursFiles: { '.mailgit/checkpoints/work.json': cpFile('c1', { INBOX: { uidValidity: '7', uid: 20, modseq: '9' } }) },
    theirsFiles: { '.mailgit/checkpoints/work.json': cpFile('c2', { INBOX: { uidValidity: '7', uid: 15, modseq: '10' } }) },
    expect: [],
    expectFiles: {
      '.mailgit/checkpoints/work.json': { blob: '', content: '{\n  "INBOX": {\n    "uidValidity": "7",\n    "uid": 20,\n    "modseq": "10"\n  }\n}\n' },
    },
    decisions: [],
  },
  {
    name: 'checkpoints: result equal to one side keeps that side',
    baseFiles: { '.mailgit/checkpoints/work.json': cpFile('c0', { INBOX: { uidValidity: '7', uid: 10 } }) },
    oursFiles: { '.mailgit/checkpoints/work.json': cpFile('c1', { INBOX: { uidValidity: '7', uid: 20 } }) },
    theirsFiles: { '.mailgit/checkpoints/work.json': cpFile('c2', { INBOX: { uidValidity: '7', uid: 15 } }) },
    expect: [],
    expectFiles: { '.mailgit/checkpoints/work.json': cpFile('c1', { INBOX: { uidValidity: '7', uid: 20 } }) },
  },
  {
    name: 'checkpoints: uidValidity changed → newer side for that folder, max for the others',
    baseFiles: { '.mailgit/checkpoints/work.json': cpFile('c0', { INBOX: { uidValidity: '7', uid: 10 }, Sent: { uidValidity: '3', uid: 1 } }) },
    oursFiles: { '.mailgit/checkpoints/work.json': cpFile('c1', { INBOX: { uidValidity: '7', uid: 50 }, Sent: { uidValidity: '3', uid: 4 } }) },
    theirsFiles: { '.mailgit/checkpoints/work.json': cpFile('c2', { INBOX: { uidValidity: '8', uid: 2 }, Sent: { uidValidity: '3', uid: 2 } }) },
    expect: [],
    expectFiles: {
      '.mailgit/checkpoints/work.json': {
        blob: '',
        content: '{\n  "INBOX": {\n    "uidValidity": "8",\n    "uid": 2\n  },\n  "Sent": {\n    "uidValidity": "3",\n    "uid": 4\n  }\n}\n',
      },
    },
  },
  {
    name: 'checkpoints: a folder new on one side is added',
    oursFiles: { '.mailgit/checkpoints/a.json': cpFile('c1', { INBOX: { uidValidity: '1', uid: 5 } }) },
    theirsFiles: { '.mailgit/checkpoints/a.json': cpFile('c2', { Sent: { uidValidity: '1', uid: 6 } }) },
    expect: [],
    expectFiles: {
      '.mailgit/checkpoints/a.json': {
        blob: '',
        content: '{\n  "INBOX": {\n    "uidValidity": "1",\n    "uid": 5\n  },\n  "Sent": {\n    "uidValidity": "1",\n    "uid": 6\n  }\n}\n',
      },
    },
  },
  {
    name: 'checkpoints: deleted on one side, unchanged on the other',
    baseFiles: { '.mailgit/checkpoints/a.json': cpFile('c1', { INBOX: { uidValidity: '1', uid: 5 } }) },
    oursFiles: {},
    theirsFiles: { '.mailgit/checkpoints/a.json': cpFile('c1', { INBOX: { uidValidity: '1', uid: 5 } }) },
    expect: [],
    expectFiles: {},
  },
  {
    name: 'checkpoints: unreadable content falls back to last writer wins',
    oursFiles: { '.mailgit/checkpoints/a.json': { blob: 'c1', content: 'not json' } },
    theirsFiles: { '.mailgit/checkpoints/a.json': cpFile('c2', { INBOX: { uidValidity: '1', uid: 5 } }) },
    expect: [],
    expectFiles: { '.mailgit/checkpoints/a.json': cpFile('c2', { INBOX: { uidValidity: '1', uid: 5 } }) },
    decisions: ['file-conflict .mailgit/checkpoints/a.json theirs'],
  },

  // Rule 9 in small: idempotence and the unchanged side.
  {
    name: 'merge({ base: b, ours: x, theirs: x }) = x',
    base: ['INBOX/cur/k1:2,'],
    ours: ['Archive/cur/k1:2,S', 'INBOX/new/k2'],
    theirs: ['Archive/cur/k1:2,S', 'INBOX/new/k2'],
    expect: ['Archive/cur/k1:2,S', 'INBOX/new/k2'],
    decisions: [],
  },
  {
    name: 'merge({ base: b, ours: b, theirs: x }) = x even with a new blob under an old key',
    base: ['INBOX/cur/k1:2,@b1'],
    ours: ['INBOX/cur/k1:2,@b1'],
    theirs: ['INBOX/cur/k1:2,@b2'],
    expect: ['INBOX/cur/k1:2,@b2'],
    decisions: [],
  },
];

describe('merge table', () => {
  for (const row of rows) it(row.name, () => checkMergeRow(row));
});

describe("decisions speak the user's folder names", () => {
  // In a maildir++ tree `.Lists.rust/` is the folder Lists/rust and the root is INBOX, as
  // `log` and `status` say; without a layout the sentences name directories.
  const [so, st2] = [st(5, 'desktop'), st(7, 'laptop')];
  const base = snap(['cur/k1:2,S', '.Lists.rust/cur/k2:2,S']);
  const ours = side(snap(['.Archive/cur/k1:2,S', '.Lists.rust/cur/k2:2,S']), so);
  const theirs = side(snap(['.Lists.rust/cur/k1:2,S', '.Lists.rust/cur/k2:2,ST']), st2);
  it('with the layout: Lists/rust, not .Lists.rust', () => {
    const texts = merge({ base, ours, theirs }, 'maildir++').decisions.map((d) => d.text);
    expect(texts.join('\n')).toMatch(/moved to Archive here .* and to Lists\/rust on laptop .*; kept Lists\/rust:/);
    expect(texts.join('\n')).not.toMatch(/\.Lists\.rust[^/]|\.Archive /);
  });
  it('without: the directories, as before', () => {
    const texts = merge({ base, ours, theirs }).decisions.map((d) => d.text);
    expect(texts.join('\n')).toMatch(/moved to \.Archive here .* and to \.Lists\.rust on laptop .*; kept \.Lists\.rust:/);
  });
});
