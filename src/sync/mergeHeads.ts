/**
 * Merging two heads at the git level: validate what comes in, fast-forward when
 * possible, else run the pure merge on diff-built snapshots against the merge base
 * (a virtual base for criss-cross histories, built the way git's recursive strategy
 * does) and write the result as trees and a merge commit.
 */
import { git, gitText } from '../git/run.js';
import { CatFile } from '../git/catfile.js';
import { diffTrees } from '../git/diff.js';
import type { PathChange } from '../git/diff.js';
import { EMPTY_TREE, editTree } from '../git/tree.js';
import type { TreeEdit } from '../git/tree.js';
import { commitTree, formatMessage, readClock, readReplica, treeOf } from '../git/commit.js';
import { merge } from '../merge/index.js';
import type { Decision } from '../merge/index.js';
import type { Stamp } from '../maildir/snapshot.js';
import { partialSnapshots, snapshotPaths } from './partial.js';
import { validateIncoming } from './validate.js';

/** How two heads came together. */
export interface MergeOutcome {
  kind: 'up-to-date' | 'fast-forward' | 'merge';
  /** The commit to move to (ours when up to date). */
  commit: string;
  decisions: Decision[];
}

async function isAncestor(cwd: string, a: string, b: string): Promise<boolean> {
  const r = await git(['merge-base', '--is-ancestor', a, b], { cwd, okCodes: [1] });
  return r.code === 0;
}

async function mergeBases(cwd: string, a: string, b: string): Promise<string[]> {
  const r = await git(['merge-base', '--all', a, b], { cwd, okCodes: [1] });
  return r.stdout.toString('utf8').split('\n').filter(Boolean);
}

async function stampOf(cwd: string, commit: string): Promise<Stamp> {
  return { clock: await readClock(cwd, commit), replica: await readReplica(cwd, commit) };
}

async function readContents(cwd: string, diffs: PathChange[]): Promise<Map<string, string>> {
  const oids = new Set<string>();
  for (const c of diffs) {
    if (!c.path.startsWith('.mailgit/')) continue;
    if (c.oldOid) oids.add(c.oldOid);
    if (c.newOid) oids.add(c.newOid);
  }
  const out = new Map<string, string>();
  if (oids.size === 0) return out;
  const cat = new CatFile(cwd);
  try {
    for (const oid of oids) out.set(oid, (await cat.read(oid)).toString('utf8'));
  } finally {
    cat.close();
  }
  return out;
}

/** Merges the trees of `ours` and `theirs` over `baseTree`; returns the tree and decisions. */
async function mergeTrees(cwd: string, baseTree: string, ours: string, theirs: string): Promise<{ tree: string; decisions: Decision[] }> {
  const [dOurs, dTheirs] = await Promise.all([diffTrees(cwd, baseTree, ours), diffTrees(cwd, baseTree, theirs)]);
  const contents = await readContents(cwd, [...dOurs, ...dTheirs]);
  const parts = partialSnapshots(dOurs, dTheirs, contents);
  const result = merge(parts.base, { snapshot: parts.ours, stamp: await stampOf(cwd, ours) }, { snapshot: parts.theirs, stamp: await stampOf(cwd, theirs) });
  const wanted = snapshotPaths(result.snapshot);
  const edits: TreeEdit[] = [];
  for (const p of parts.oursPaths.keys()) if (!wanted.has(p)) edits.push({ path: p, oid: null });
  for (const [p, f] of wanted) {
    let oid = f.blob;
    if (oid === '' && f.content !== undefined) oid = await gitText(['hash-object', '-w', '--stdin'], { cwd, input: f.content });
    if (parts.oursPaths.get(p) !== oid) edits.push({ path: p, oid });
  }
  return { tree: edits.length === 0 ? await treeOf(cwd, ours) : await editTree(cwd, ours, edits), decisions: result.decisions };
}

/** Returns a single base commit for `a` and `b`, folding several bases into a virtual one. */
async function baseCommit(cwd: string, a: string, b: string): Promise<string | null> {
  const bases = await mergeBases(cwd, a, b);
  if (bases.length === 0) return null;
  let v = bases[0]!;
  for (const other of bases.slice(1)) {
    const inner = await baseCommit(cwd, v, other);
    const { tree } = await mergeTrees(cwd, inner ? await treeOf(cwd, inner) : EMPTY_TREE, v, other);
    const clock = Math.max(await readClock(cwd, v), await readClock(cwd, other));
    v = await commitTree(cwd, tree, [v, other], formatMessage('virtual merge base', '', { replica: 'virtual', clock }));
  }
  return v;
}

/**
 * Brings `theirs` (fetched from `origin`, untrusted) together with `ours`. Refuses, with
 * nothing written to the work tree or branch, a remote tree with unsafe paths.
 * `describe` turns a list of changes into the lines of the merge commit's body.
 */
export async function mergeHeads(cwd: string, ours: string | null, theirs: string, origin: string, replica: string, describe: (c: PathChange[]) => string[]): Promise<MergeOutcome> {
  if (ours === theirs) return { kind: 'up-to-date', commit: theirs, decisions: [] };
  if (ours && (await isAncestor(cwd, theirs, ours))) return { kind: 'up-to-date', commit: ours, decisions: [] };
  const base = ours ? await baseCommit(cwd, ours, theirs) : null;
  const incoming = await diffTrees(cwd, base ? await treeOf(cwd, base) : EMPTY_TREE, theirs);
  await validateIncoming(
    cwd,
    incoming.filter((c) => c.newOid !== null).map((c) => ({ path: c.path, mode: c.newMode!, oid: c.newOid!, type: c.newMode === '160000' ? 'commit' : c.newMode === '040000' ? 'tree' : 'blob' })),
    `changes from ${origin}`,
  );
  if (!ours || (await isAncestor(cwd, ours, theirs))) return { kind: 'fast-forward', commit: theirs, decisions: [] };
  const { tree, decisions } = await mergeTrees(cwd, base ? await treeOf(cwd, base) : EMPTY_TREE, ours, theirs);
  const lines = describe(await diffTrees(cwd, ours, tree));
  const body = [...lines, ...decisions.map((d) => `conflict: ${d.text}`)].join('\n');
  const clock = Math.max(await readClock(cwd, ours), await readClock(cwd, theirs)) + 1;
  const commit = await commitTree(cwd, tree, [ours, theirs], formatMessage(`sync: merge ${origin}`, body, { replica, clock }));
  return { kind: 'merge', commit, decisions };
}
