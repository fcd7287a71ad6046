/**
 * The small interface through which sync reads and writes history: trees, blobs and
 * commits. One implementation drives git plumbing (`gitCommitStore.ts`); one keeps
 * everything in memory (`test/doubles/memoryCommitStore.ts`) for fast, exhaustive tests of the
 * sync-level merge. Both pass the same contract test.
 */
import type { Stamp } from '../maildir/snapshot.js';
import type { PathChange } from '../git/diff.js';
import type { TreeEdit } from '../git/tree.js';
import type { HistoryCommit } from '../merge/lastChange.js';

export type { HistoryCommit } from '../merge/lastChange.js';
export type { PathChange } from '../git/diff.js';
export type { TreeEdit } from '../git/tree.js';

/** Trees, blobs and commits of one repository. */
export interface CommitStore {
  /** Paths that differ between two commits or trees; `null` is the empty tree. */
  diff(from: string | null, to: string): Promise<PathChange[]>;
  /** True when commit `a` is an ancestor of (or equal to) commit `b`. */
  isAncestor(a: string, b: string): Promise<boolean>;
  /** The best common ancestors of two commits (several in criss-cross histories). */
  mergeBases(a: string, b: string): Promise<string[]>;
  /**
   * The clock and replica name a commit carries, with `commit` set. A commit without
   * mailgit's trailers has replica "" and the clock of its nearest ancestors that carry one
   * (`clockBehind`), so it never resets a clock.
   */
  stamp(commit: string): Promise<Stamp>;
  /**
   * The commits reachable from `head` and from none of `exclude` (any order), each with its
   * stamp, committer time and, per parent, which of `keys` it changed: the names a path
   * falls under are its key (last component up to the first `:`) and, for a message file,
   * `key\0folder` (`changeNamesOf`). For finding who last changed a message.
   */
  history(head: string, exclude: readonly string[], keys: readonly string[]): Promise<HistoryCommit[]>;
  /** The tree of a commit. */
  treeOf(commit: string): Promise<string>;
  /** Applies edits to the tree of `base` (a commit or tree; `null`: empty) and returns the new tree. */
  editTree(base: string | null, edits: TreeEdit[]): Promise<string>;
  /** Stores a blob and returns its id (git's blob id in every implementation). */
  writeBlob(content: string | Uint8Array): Promise<string>;
  /** Reads a blob. */
  readBlob(oid: string): Promise<Buffer>;
  /** The sizes of blobs, `null` for a missing one. */
  blobSizes(oids: string[]): Promise<(number | null)[]>;
  /**
   * Writes a commit with the mailgit trailers (none when `stamp` is null, as a user's plain
   * `git commit`) and returns its id (no ref moves). `time` is the commit time in ms
   * (default: now).
   */
  commit(tree: string, parents: string[], subject: string, body: string, stamp: Stamp | null, time?: number): Promise<string>;
}
