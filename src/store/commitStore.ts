/**
 * The small interface through which sync reads and writes history: trees, blobs and
 * commits. One implementation drives git plumbing (`gitCommitStore.ts`); one keeps
 * everything in memory (`memoryCommitStore.ts`) for fast, exhaustive tests of the
 * sync-level merge. Both pass the same contract test.
 */
import type { Stamp } from '../maildir/snapshot.js';
import type { PathChange } from '../git/diff.js';
import type { TreeEdit } from '../git/tree.js';

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
  /** The Lamport clock and replica name a commit carries. */
  stamp(commit: string): Promise<Stamp>;
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
  /** Writes a commit with the mailgit trailers and returns its id (no ref moves). */
  commit(tree: string, parents: string[], subject: string, body: string, stamp: Stamp): Promise<string>;
}
