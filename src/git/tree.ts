/**
 * Reading and writing git trees with plumbing, never a process per file: listings of
 * whole trees with `ls-tree`, and edits that read and rewrite only the changed
 * directories through one `cat-file --batch` and one `mktree --batch` (treeio.ts).
 */
import { git, gitRecords, splitZ } from './run.js';
import { mktreeInput, TreeIO } from './treeio.js';
import type { TreeEdit, TreeEntry } from '../store/types.js';

export type { TreeEdit, TreeEntry } from '../store/types.js';

/** The id of the empty tree. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

function parseEntries(out: Buffer): TreeEntry[] {
  return parseRecords(splitZ(out));
}

function parseRecords(records: string[]): TreeEntry[] {
  return records.map((rec) => {
    const tab = rec.indexOf('\t');
    const [mode, type, oid] = rec.slice(0, tab).split(' ');
    return { mode: mode!, type: type as TreeEntry['type'], oid: oid!, path: rec.slice(tab + 1) };
  });
}

/**
 * Lists every entry below `treeish` recursively (blobs, symlinks and submodules; trees
 * with `withTrees`), or only below the directories `paths` when given.
 */
export async function lsTreeRecursive(
  cwd: string,
  treeish: string,
  { withTrees = false, paths = [] }: { withTrees?: boolean; paths?: string[] } = {},
): Promise<TreeEntry[]> {
  const args = ['ls-tree', '-r', '-z', '--full-tree', ...(withTrees ? ['-t'] : []), treeish, ...(paths.length ? ['--', ...paths] : [])];
  return parseEntries((await git(args, { cwd })).stdout);
}

/**
 * Lists the blobs (and symlinks, submodules) below `treeish`, or below the directories
 * `paths`, like {@link lsTreeRecursive} but in batches while git writes them: a tree of
 * 100,000 messages is never held whole. Stopping early ends git.
 */
export async function* lsTreeBatches(cwd: string, treeish: string, paths: string[] = []): AsyncGenerator<TreeEntry[]> {
  for await (const records of gitRecords(['ls-tree', '-r', '-z', '--full-tree', treeish, ...(paths.length ? ['--', ...paths] : [])], { cwd })) {
    yield parseRecords(records);
  }
}

/** Lists every directory (tree entry) below `treeish`, recursively. */
export async function lsTreeDirs(cwd: string, treeish: string): Promise<TreeEntry[]> {
  return parseEntries((await git(['ls-tree', '-r', '-d', '-z', '--full-tree', treeish], { cwd })).stdout);
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Applies file edits to the tree of `baseTreeish` (or the empty tree when null) and
 * returns the new root tree id. Only directories that contain an edit are read and
 * rewritten, deepest first; directories left empty disappear, as in git. Used where
 * a tree is built without a commit of its own (the merge) and for the trees of a bulk
 * commit (fastCommit.ts `BULK_EDITS`); other records edit through `fast-import`.
 */
export async function editTree(cwd: string, baseTreeish: string | null, edits: TreeEdit[]): Promise<string> {
  // Directory → (name → entry|null). Directory entries are filled in bottom-up.
  const changes = new Map<string, Map<string, { mode: string; type: string; oid: string } | null>>();
  const touch = (dir: string) => {
    let m = changes.get(dir);
    if (!m) {
      m = new Map();
      changes.set(dir, m);
      if (dir !== '') touch(parentOf(dir));
    }
    return m;
  };
  for (const e of edits) {
    touch(parentOf(e.path)).set(baseName(e.path), e.oid === null ? null : { mode: e.mode ?? '100644', type: 'blob', oid: e.oid });
  }
  const dirs = [...changes.keys()].sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : 1));
  let root = EMPTY_TREE;
  const io = new TreeIO(cwd);
  try {
    for (const dir of dirs) {
      const existing = baseTreeish === null ? null : await io.read(dir === '' ? `${baseTreeish}^{tree}` : `${baseTreeish}:${dir}`);
      const edits = new Map([...changes.get(dir)!].map(([name, e]) => [name, e && { ...e, name }]));
      const { input, count } = mktreeInput(existing?.type === 'tree' ? existing.data : null, edits);
      const oid = count === 0 ? null : await io.writeInput(input);
      if (dir === '') root = oid ?? EMPTY_TREE;
      else touch(parentOf(dir)).set(baseName(dir), oid === null ? null : { mode: '040000', type: 'tree', oid });
    }
  } finally {
    io.close();
  }
  return root;
}

function depth(dir: string): number {
  return dir === '' ? 0 : dir.split('/').length;
}
