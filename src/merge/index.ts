/**
 * The pure merge of mailgit: no file system, no git, no clock.
 */
export { merge } from './merge.js';
export type { Decision, DecisionKind, MergeResult, MergeSide, Winner } from './types.js';
export { foldBases, mergeBases } from './virtualBase.js';
export type { CommitGraph } from './virtualBase.js';
export { flagsOf, mergeFlags, sortFlags } from './flags.js';
export { compareStamps, maxStamp } from './stamp.js';
export { emptySnapshot } from './emptySnapshot.js';
export { duplicateKey } from './duplicateKeys.js';
export {
  formatCheckpoints,
  isCheckpointPath,
  parseCheckpoints,
} from './checkpoints.js';
export type { Checkpoints, FolderCheckpoint } from './checkpoints.js';
