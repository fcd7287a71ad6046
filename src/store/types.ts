/**
 * The words of the history port (`commitStore.ts`): changed paths, tree entries and edits,
 * refs, remotes and push answers. Types and constants only, importing nothing, so that the git plumbing
 * that implements the port (`src/git/`) and everything that uses it share one definition.
 */

/** One changed path: `old*` null when added, `new*` null when deleted. */
export interface PathChange {
  path: string;
  oldMode: string | null;
  oldOid: string | null;
  newMode: string | null;
  newOid: string | null;
}

/** One entry of a tree listing. */
export interface TreeEntry {
  mode: string;
  type: 'blob' | 'tree' | 'commit';
  oid: string;
  /** Repo-relative path (full path for recursive listings, else the name in `dir`). */
  path: string;
}

/** A change to a tree: set `path` to blob `oid`, or delete it (`oid === null`). */
export interface TreeEdit {
  path: string;
  oid: string | null;
  mode?: string;
}

/** The branch every mail repo uses, which `HEAD` names. */
export const MAIN = 'refs/heads/main';

/** What a ref points to: an object id and that object's type (a commit, unless someone broke it). */
export interface RefTarget {
  oid: string;
  type: string;
}

/** A ref with what it points to, as listed. */
export interface RefEntry extends RefTarget {
  ref: string;
}

/** A configured remote: its name (as in `git remote`) and its URL. */
export interface Remote {
  name: string;
  url: string;
}

/**
 * The answer to a push: taken; rejected because the remote holds work we do not have (fetch
 * and merge first); or refused because the branch is checked out there (push to the
 * replica's incoming ref instead).
 */
export type PushResult = 'pushed' | 'rejected' | 'checked-out';
