/**
 * The pure merge of mailgit: no file system, no git, no clock.
 */
export { merge } from './merge.js';
export type { Decision, DecisionKind, MergeResult, MergeSide, Winner } from './types.js';
export { flagsOf, sortFlags } from '../maildir/name.js';
export { mergeFlags } from './flags.js';
export { compareStamps, maxStamp } from './stamp.js';
export { emptySnapshot } from './emptySnapshot.js';
export { duplicateKey } from './duplicateKeys.js';
export {
  formatCheckpoints,
  isCheckpointPath,
  parseCheckpoints,
} from './checkpoints.js';
export type { Checkpoints, FolderCheckpoint } from './checkpoints.js';
export { HLC_START, MAX_CLOCK_LEAD, clockBehind, describeClock, nextClock } from './clock.js';
export type { ClockRecord } from './clock.js';
export { BEFORE_HISTORY, lastChanges } from './lastChange.js';
export type { HistoryCommit } from './lastChange.js';
export { changeName, changeNamesOf, identifyCopies, messageMap } from './identity.js';
