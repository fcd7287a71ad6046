/**
 * The pure data model of a mail repo at one commit: what the merge reads and returns.
 *
 * A snapshot is layout-agnostic: a folder is the repo-relative directory that holds
 * `cur/` and `new/` (`INBOX`, `Lists/rust`, or `""` and `.Lists.rust` in Maildir++).
 */

/** Which Maildir sub-directory a message file lives in. */
export type Sub = 'cur' | 'new';

/** One message file as it stands in a tree. */
export interface MessageEntry {
  /** Folder directory, repo-relative, no trailing slash; `""` is the root Maildir. */
  folder: string;
  /** `cur` or `new`. */
  sub: Sub;
  /** The Maildir unique part of the file name (everything before `:`). */
  key: string;
  /**
   * The info suffix after the key exactly as written (`""` when the name has none,
   * `":2,FS"` otherwise). Kept verbatim so that a tree round-trips byte-exact.
   */
  info: string;
  /** Git blob id of the content. */
  blob: string;
}

/** A non-message file (`.mailgit/…`, `dovecot-keywords`, folder markers). */
export interface FileEntry {
  /** Git blob id of the content. */
  blob: string;
  /** The content, when the merge needs it (files under `.mailgit/`). */
  content?: string;
}

/** Everything the merge needs to know about one side. */
export interface Snapshot {
  /** Message id → entry. The id is the key, or `key\0path` for a second file with one key. */
  messages: Map<string, MessageEntry>;
  /** Other files by repo-relative path. */
  files: Map<string, FileEntry>;
}

/**
 * Who made a commit and when, for last-writer-wins: the higher (clock, replica, commit) wins.
 * `clock` is the commit's `Mailgit-Clock` (see `src/merge/clock.ts`); `replica` its
 * `Mailgit-Replica` ("" for a commit without mailgit's trailers).
 */
export interface Stamp {
  clock: number;
  replica: string;
  /** The commit's id, when known: the last tie-breaker, unique even when two replicas share a name. */
  commit?: string;
}
