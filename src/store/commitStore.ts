/**
 * The history port: the small interfaces through which sync reads and writes history
 * (trees, blobs, commits), moves refs and talks to remotes, split by role so that each
 * caller names only the role it needs (the merge needs {@link HistoryStore}; the sync loop
 * all of {@link CommitStore}). One implementation drives git (`gitCommitStore.ts`); one
 * keeps everything in memory (`test/doubles/memoryCommitStore.ts`) for fast, exhaustive
 * tests of the merge and of the whole sync loop. Both pass one contract test
 * (`test/unit/commitStore.contract.test.ts`).
 */
import type { Stamp } from '../maildir/snapshot.js';
import type { HistoryCommit } from '../merge/lastChange.js';
import type { PathChange, PushResult, RefEntry, RefTarget, Remote, TreeEdit } from './types.js';

export type { HistoryCommit } from '../merge/lastChange.js';
export type { PathChange, PushResult, RefEntry, RefTarget, Remote, TreeEdit, TreeEntry } from './types.js';
export { MAIN } from './types.js';

/** A commit to write. */
export interface NewCommit {
  tree: string;
  parents: string[];
  subject: string;
  /** The paragraphs after the subject (default none). */
  body?: string;
  /** The mailgit trailers; null for none, as a user's plain `git commit` has. */
  stamp: Stamp | null;
  /** The commit time in ms (default: now). */
  time?: number;
}

/** Trees, blobs and commits of one repository. */
export interface HistoryStore {
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
  /** Writes a commit (see {@link NewCommit}) and returns its id; no ref moves. */
  commit(c: NewCommit): Promise<string>;
}

/** The refs of one repository. */
export interface RefStore {
  /** What `ref` points to (`HEAD`: the commit of {@link MAIN}), or null when it does not exist. */
  readRef(ref: string): Promise<RefTarget | null>;
  /**
   * Points `ref` at `oid`. With `expected` (an id, or null: the ref must not exist) this is a
   * compare-and-swap: false, and nothing changed, when the ref is elsewhere.
   */
  updateRef(ref: string, oid: string, expected?: string | null): Promise<boolean>;
  /** The refs under each of `prefixes` (a path ending in `/`, or one full ref name), sorted by name. */
  listRefs(...prefixes: string[]): Promise<RefEntry[]>;
  /** Deletes `ref` if it still points to `expected`; false when it moved or is gone. */
  deleteRef(ref: string, expected: string): Promise<boolean>;
}

/** Talking to other repositories: fetch refs from them, push our `main` to them. */
export interface RemoteRole {
  /**
   * Fetches from `remote` by `refspecs` (`+SRC:DST`, a trailing `*` on both matching a
   * prefix), each replacing what DST held, and dropping the DST refs of a `*` spec that the
   * remote no longer has. False, and nothing fetched, when the remote lacks the first
   * spec's SRC.
   */
  fetch(remote: Remote, refspecs: string[]): Promise<boolean>;
  /** Pushes our {@link MAIN} to `ref` on `remote`, never forced. */
  push(remote: Remote, ref: string): Promise<PushResult>;
}

/** Everything sync needs of one repository: its history, its refs, and its remotes. */
export interface CommitStore extends HistoryStore, RefStore, RemoteRole {}
