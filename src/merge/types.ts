/**
 * Types shared by the pure merge: the two sides, the decisions it reports and its result.
 */
import type { Snapshot, Stamp } from '../maildir/snapshot.js';

/**
 * The three versions a three-way merge reads: the common base and the two sides, by name
 * so that no call can swap them. `S` types the sides where they differ from the base (a
 * message the base lacks, a side that carries its stamp).
 */
export interface ThreeWay<B, S = B> {
  base: B;
  ours: S;
  theirs: S;
}

/** One side of a merge: the snapshot of a head commit and the stamp of that commit. */
export interface MergeSide {
  /** The tree of the side's head commit. */
  snapshot: Snapshot;
  /** Who made the head commit: it decides file conflicts, and message ones when `changes` cannot. */
  stamp: Stamp;
  /**
   * The stamp of the change that gave this side its version of a message (see
   * `lastChanges`); the later change wins a conflict over that message. `name` is the
   * message's key, or `key\0folder` for one of several copies of a key (`changeName`).
   * Undefined (or no function): the head stamp stands in.
   */
  changes?: (name: string) => Stamp | undefined;
}

/** What kind of conflict (or notable automatic resolution) a decision records. */
export type DecisionKind = 'move-conflict' | 'delete-vs-change' | 'flag-vs-move' | 'duplicate-key' | 'file-conflict' | 'name-too-long';

/** Which side a decision kept: ours, theirs, or both (nothing was dropped). */
export type Winner = 'ours' | 'theirs' | 'both';

/**
 * One decision the merge took on its own, to be shown to the user and kept in the merge
 * commit's message.
 */
export interface Decision {
  /** The kind of conflict. */
  kind: DecisionKind;
  /** The message id (in the base when there is one) or the file path concerned. */
  id: string;
  /** Which side's change was kept. */
  winner: Winner;
  /** One human sentence that says what happened, written from the point of view of ours ("here"). */
  text: string;
}

/** The merged snapshot plus every decision taken to get it. */
export interface MergeResult {
  /** The merged tree; message ids and file paths are in sorted order. */
  snapshot: Snapshot;
  /** The decisions, sorted by id and then kind. */
  decisions: Decision[];
}
