/**
 * The Maildir-aware three-way merge: a pure function of three snapshots and two stamps.
 */
import type { Layout } from '../maildir/layout.js';
import type { Snapshot } from '../maildir/snapshot.js';
import { MergeContext } from './context.js';
import { compareStrings } from './entries.js';
import { keepFoldersOfMail, mergeFiles } from './mergeFiles.js';
import { mergeMessages } from './mergeMessages.js';
import { fitNames } from './nameLimits.js';
import { settleKeywordTables } from './keywordTables.js';
import { settleTwoWayFlags } from './twoWayFlags.js';
import type { MergeResult, MergeSide, ThreeWay } from './types.js';

export type { Decision, DecisionKind, MergeResult, MergeSide, ThreeWay, Winner } from './types.js';

/**
 * Merges `ours` and `theirs`, two descendants of `base`, message by message:
 *
 * 0. copies of one key in several folders are told apart by folder (`identifyCopies`);
 * 1. unchanged on one side → the other side's entry;
 * 2. flags merge letter by letter, three-way; a message seen (`new` → `cur`) on either side
 *    ends in `cur`; in a two-way IMAP folder, against what each side agreed with the
 *    server (rule 2b, `twoWayFlags.ts`); keyword letters by keyword when both sides changed
 *    a folder's `dovecot-keywords` (rule 2c, `keywordTables.ts`);
 * 3. new on either side → kept; new on both with the same blob → one copy, flags united;
 * 4. deleted on one side and unchanged on the other → deleted;
 * 5. both changed the same single-valued thing (moved to two folders, deleted against moved
 *    or re-flagged) → the later change to that message wins (by the stamps of the commits
 *    that made the two changes, `MergeSide.changes`), and a decision says who did what when;
 * 6. the same id with different blobs on the two sides → both kept, one renamed;
 * 7. a copy under a new id plus deletion of the old one is recognised as a move by its blob;
 * 8. other files merge three-way with last-writer-wins, fetch checkpoints by maximum; a folder's
 *    marker stays while merged mail is left in the folder;
 * 9. a merged name longer than a file name may be (255 bytes) is kept under a shorter key.
 *
 * The result does not depend on which side is ours (`merge({ base: b, ours: x, theirs: y })` and with x and y swapped
 * give equal snapshots and mirrored decisions), and `merge(b, x, x)` and `merge(b, b, x)`
 * both give `x`. Inputs are never modified; the result may share entry objects with them.
 * With the repo's `layout`, the decisions' sentences name folders as the user does
 * (`Lists/rust`, `INBOX`), as `log` and `status` do; without it, by their directories.
 */
export function merge({ base, ours, theirs }: ThreeWay<Snapshot, MergeSide>, layout?: Layout): MergeResult {
  const ctx = new MergeContext(ours, theirs, layout);
  const s = settleKeywordTables({ base, ours: ours.snapshot, theirs: theirs.snapshot }, layout);
  const plain = mergeMessages({ base: s.base.messages, ours: s.ours.messages, theirs: s.theirs.messages }, ctx);
  const messages = fitNames(settleTwoWayFlags(plain, s, layout), ctx);
  const merged = mergeFiles({ base: s.base.files, ours: s.ours.files, theirs: s.theirs.files }, ctx);
  const files = keepFoldersOfMail({ files: merged, messages, sides: { ours: s.ours.files, theirs: s.theirs.files } }, ctx);
  const decisions = [...ctx.decisions].sort((a, b) => compareStrings(a.id, b.id) || compareStrings(a.kind, b.kind));
  return { snapshot: { messages, files }, decisions };
}
