/**
 * Merging two heads at the history level: validate what comes in, fast-forward when
 * possible, else run the pure merge on diff-built snapshots against the merge base
 * (a virtual base for criss-cross histories, built the way git's recursive strategy
 * does) and write the result as trees and a merge commit. History is reached only
 * through a {@link CommitStore}.
 */
import type { CommitStore, PathChange, TreeEdit } from '../store/commitStore.js';
import { compareStamps, merge } from '../merge/index.js';
import type { Decision } from '../merge/index.js';
import { partialSnapshots, snapshotPaths } from './partial.js';
import { refuseRootFileRemovals, validateIncoming } from './validate.js';

/** How two heads came together. */
export interface MergeOutcome {
  kind: 'up-to-date' | 'fast-forward' | 'merge';
  /** The commit to move to (ours when up to date). */
  commit: string;
  decisions: Decision[];
}

async function readContents(store: CommitStore, diffs: PathChange[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const c of diffs) {
    if (!c.path.startsWith('.mailgit/')) continue;
    for (const oid of [c.oldOid, c.newOid]) if (oid && !out.has(oid)) out.set(oid, (await store.readBlob(oid)).toString('utf8'));
  }
  return out;
}

/** Merges the trees of commits `ours` and `theirs` over `base` (a commit, or null: nothing in common). */
async function mergeTrees(store: CommitStore, base: string | null, ours: string, theirs: string): Promise<{ tree: string; decisions: Decision[] }> {
  const [dOurs, dTheirs] = await Promise.all([store.diff(base, ours), store.diff(base, theirs)]);
  const parts = partialSnapshots(dOurs, dTheirs, await readContents(store, [...dOurs, ...dTheirs]));
  const result = merge(parts.base, { snapshot: parts.ours, stamp: await store.stamp(ours) }, { snapshot: parts.theirs, stamp: await store.stamp(theirs) });
  const wanted = snapshotPaths(result.snapshot);
  const edits: TreeEdit[] = [];
  for (const p of parts.oursPaths.keys()) if (!wanted.has(p)) edits.push({ path: p, oid: null });
  for (const [p, f] of wanted) {
    const oid = f.blob === '' && f.content !== undefined ? await store.writeBlob(f.content) : f.blob;
    if (parts.oursPaths.get(p) !== oid) edits.push({ path: p, oid });
  }
  return { tree: edits.length === 0 ? await store.treeOf(ours) : await store.editTree(ours, edits), decisions: result.decisions };
}

/** Returns a single base commit for `a` and `b`, folding several bases into a virtual one. */
async function baseCommit(store: CommitStore, a: string, b: string): Promise<string | null> {
  const bases = await store.mergeBases(a, b);
  if (bases.length === 0) return null;
  // Fold in (clock, replica, id) order, so that both replicas build the same virtual base.
  const stamps = new Map(await Promise.all(bases.map(async (c) => [c, await store.stamp(c)] as const)));
  bases.sort((x, y) => compareStamps(stamps.get(x)!, stamps.get(y)!) || (x < y ? -1 : x > y ? 1 : 0));
  let v = bases[0]!;
  for (const other of bases.slice(1)) {
    const { tree } = await mergeTrees(store, await baseCommit(store, v, other), v, other);
    const [sv, so] = [await store.stamp(v), await store.stamp(other)];
    v = await store.commit(tree, [v, other], 'virtual merge base', '', { replica: 'virtual', clock: Math.max(sv.clock, so.clock) });
  }
  return v;
}

/**
 * Brings `theirs` (from `origin`, untrusted) together with `ours`. Refuses, before
 * anything is written, a remote tree with unsafe paths. `describe` turns the changes the
 * merge brings to ours into the lines of the merge commit's body.
 */
export async function mergeHeads(
  store: CommitStore,
  ours: string | null,
  theirs: string,
  origin: string,
  replica: string,
  describe: (c: PathChange[]) => string[],
): Promise<MergeOutcome> {
  if (ours === theirs) return { kind: 'up-to-date', commit: theirs, decisions: [] };
  if (ours && (await store.isAncestor(theirs, ours))) return { kind: 'up-to-date', commit: ours, decisions: [] };
  const base = ours ? await baseCommit(store, ours, theirs) : null;
  const changes = await store.diff(base, theirs);
  refuseRootFileRemovals(changes, `changes from ${origin}`);
  const incoming = changes.filter((c) => c.newOid !== null);
  await validateIncoming(
    store,
    incoming.map((c) => ({ path: c.path, mode: c.newMode!, oid: c.newOid!, type: c.newMode === '160000' ? 'commit' : c.newMode === '040000' ? 'tree' : 'blob' })),
    `changes from ${origin}`,
  );
  if (!ours || (await store.isAncestor(ours, theirs))) return { kind: 'fast-forward', commit: theirs, decisions: [] };
  const { tree, decisions } = await mergeTrees(store, base, ours, theirs);
  const body = [...describe(await store.diff(ours, tree)), ...decisions.map((d) => `conflict: ${d.text}`)].join('\n');
  const clock = Math.max((await store.stamp(ours)).clock, (await store.stamp(theirs)).clock) + 1;
  const commit = await store.commit(tree, [ours, theirs], `sync: merge ${origin}`, body, { replica, clock });
  return { kind: 'merge', commit, decisions };
}
