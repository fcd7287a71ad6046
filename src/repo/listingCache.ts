/**
 * HEAD's listings of message directories, kept in memory by a long-running process
 * (`mailgit watch`) between records, so that recording a flag change in a 36k-message
 * `cur/` does not read and decode that tree from git again. Valid only for the commit it
 * was built for: a record moves it forward by the edits it committed; anything else that
 * moves HEAD (a sync's apply) makes it stale, and a stale cache is rebuilt from git.
 */
import type { TreeEdit } from '../git/tree.js';
import type { TreeIndex } from '../git/treeio.js';

/** name → blob id of the files of one directory. */
type Listing = Map<string, string>;

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** In-memory listings of message directories as of one commit. */
export class ListingCache {
  private head: string | null = null;
  private readonly dirs = new Map<string, Listing>();

  /** Returns `dir`'s listing as of `head` as a tree index, or undefined when not cached. */
  get(head: string, dir: string): TreeIndex | undefined {
    if (head !== this.head) return undefined;
    const listing = this.dirs.get(dir);
    if (!listing) return undefined;
    const names = [...listing.keys()];
    return { names, isBlob: names.map(() => true), oidAt: (i) => listing.get(names[i]!)! };
  }

  /** Returns `dir`'s name → blob map as of `head`, or undefined when not cached. */
  lookup(head: string, dir: string): ReadonlyMap<string, string> | undefined {
    return head === this.head ? this.dirs.get(dir) : undefined;
  }

  /** Remembers the files of `dir` as of `head` (subtrees are not kept). */
  put(head: string, dir: string, index: TreeIndex): void {
    if (head !== this.head) {
      this.dirs.clear();
      this.head = head;
    }
    const listing: Listing = new Map();
    for (let i = 0; i < index.names.length; i++) if (index.isBlob[i]) listing.set(index.names[i]!, index.oidAt(i));
    this.dirs.set(dir, listing);
  }

  /** Moves the cache from commit `from` to `to`, which differs from it by `edits` only. */
  advance(from: string | null, to: string, edits: readonly TreeEdit[]): void {
    if (from === null || from !== this.head) {
      this.dirs.clear();
      this.head = to;
      return;
    }
    for (const e of edits) {
      const listing = this.dirs.get(parentOf(e.path));
      if (!listing) continue;
      const name = e.path.slice(e.path.lastIndexOf('/') + 1);
      if (e.oid === null) listing.delete(name);
      else listing.set(name, e.oid);
    }
    this.head = to;
  }
}
