/**
 * The messages of one commit's tree, by key and by blob: what restore, undo and show
 * look things up in. One `ls-tree` of the tree (a folder restore streams its own: restoreFolder.ts).
 */
import { lsTreeRecursive } from '../git/tree.js';
import { parseMessagePath } from '../maildir/name.js';
import type { MessagePath } from '../maildir/name.js';
import type { Repo } from './repo.js';
import { folderDir, folderNameProblem } from '../maildir/layout.js';
import { UsageError } from '../util/errors.js';

/** A message file of a tree. */
export interface StoredMessage extends MessagePath {
  path: string;
  oid: string;
}

/** A tree's message files, looked up by key and by blob. */
export interface TreeMessages {
  byKey: Map<string, StoredMessage[]>;
  /** A message file per blob (the first listed). */
  byOid: Map<string, StoredMessage>;
  /** Every path of the tree (messages or not) with its blob. */
  files: Map<string, string>;
}

/** Reads the message files of `treeish`. */
export async function readTreeMessages(repo: Repo, treeish: string): Promise<TreeMessages> {
  const out: TreeMessages = { byKey: new Map(), byOid: new Map(), files: new Map() };
  for (const e of await lsTreeRecursive(repo.root, treeish)) {
    if (e.type !== 'blob') continue;
    out.files.set(e.path, e.oid);
    const m = parseMessagePath(e.path);
    if (!m) continue;
    const stored = { ...m, path: e.path, oid: e.oid };
    out.byKey.set(m.key, [...(out.byKey.get(m.key) ?? []), stored]);
    if (!out.byOid.has(e.oid)) out.byOid.set(e.oid, stored);
  }
  return out;
}

/** The message of the tree with this key or this content (under any name), if any. */
export function holding(tree: TreeMessages, key: string, oid: string): StoredMessage | undefined {
  return tree.byKey.get(key)?.[0] ?? tree.byOid.get(oid);
}

/** The directory of folder `folder` (a name the user gave); a {@link UsageError} for a name that is not a plain relative path. */
export function folderDirOf(repo: Repo, folder: string): string {
  const bad = folderNameProblem(repo.layout, folder, { existing: true });
  if (bad) throw new UsageError(`invalid folder name ${JSON.stringify(folder)}: ${bad}`);
  return folderDir(repo.layout, folder);
}

/** Whole-tree listings by commit, read once each (several names looked up in one tree). */
export class TreeCache {
  private readonly trees = new Map<string, Promise<TreeMessages>>();

  /** Makes a cache for `repo`. */
  constructor(private readonly repo: Repo) {}

  /** The messages of `commit`'s whole tree. */
  get(commit: string): Promise<TreeMessages> {
    let t = this.trees.get(commit);
    if (!t) this.trees.set(commit, (t = readTreeMessages(this.repo, commit)));
    return t;
  }
}
