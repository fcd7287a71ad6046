/**
 * Merging two heads at the history level: validate what comes in, fast-forward when
 * possible, else run the pure merge on diff-built snapshots against the merge base
 * (a virtual base for criss-cross histories, built the way git's recursive strategy
 * does) and write the result as trees and a merge commit. History is reached only
 * through a {@link HistoryStore}.
 */
import type { HistoryStore, PathChange, TreeEdit } from '../store/commitStore.js';
import { BEFORE_HISTORY, compareStamps, lastChanges, merge, nextClock } from '../merge/index.js';
import type { Decision, MergeResult } from '../merge/index.js';
import type { Stamp } from '../maildir/snapshot.js';
import { partialSnapshots, snapshotPaths } from './partial.js';
import type { PartialSnapshots } from './partial.js';
import { refuseRootFileRemovals, validateIncoming } from './validate.js';
import type { Layout } from '../maildir/layout.js';
import { isKeywordTable } from '../maildir/keywords.js';

/** How two heads came together. */
export interface MergeOutcome {
  kind: 'up-to-date' | 'fast-forward' | 'merge';
  /** The commit to move to (ours when up to date). */
  commit: string;
  decisions: Decision[];
  /** The paths that differ from ours to {@link commit}, when the merge read them (a fast-forward). */
  changes?: PathChange[];
}

/** The text of the files the merge reads: `.mailgit/` files and folders' keyword tables (rule 2c). */
async function readContents(store: HistoryStore, diffs: PathChange[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const c of diffs) {
    if (!c.path.startsWith('.mailgit/') && !isKeywordTable(c.path)) continue;
    for (const oid of [c.oldOid, c.newOid]) if (oid && !out.has(oid)) out.set(oid, (await store.readBlob(oid)).toString('utf8'));
  }
  return out;
}

/** Two commits to merge and their base (null: nothing in common). */
interface Heads {
  base: string | null;
  ours: string;
  theirs: string;
}

/** How many times a merge may ask history for the changes of keys it had not asked about before. */
const CHANGE_ROUNDS = 3;

/**
 * Runs the pure merge of `ours` and `theirs` over `base`, giving it for every message in
 * conflict the stamps of the changes that made each side's version (`lastChanges`). The
 * first run uses none; only when it met a conflict is history read, once per side for all
 * the conflicting keys together, and the merge run again: the common case costs nothing.
 */
async function mergeWithChanges(
  store: HistoryStore,
  { base, ours, theirs }: Heads,
  { parts, layout }: { parts: PartialSnapshots; layout?: Layout },
): Promise<MergeResult> {
  const [so, st] = [await store.stamp(ours), await store.stamp(theirs)];
  const known = [new Map<string, Stamp>(), new Map<string, Stamp>()] as const;
  let asked = new Set<string>();
  for (let round = 0; ; round++) {
    const wanted = new Set<string>();
    const look = (m: Map<string, Stamp>) => (name: string) => {
      // lastChanges answers every name it was asked (BEFORE_HISTORY for a version older than the base).
      if (asked.has(name)) return m.get(name) ?? BEFORE_HISTORY;
      wanted.add(name);
      return undefined;
    };
    const result = merge(
      {
        base: parts.base,
        ours: { snapshot: parts.ours, stamp: so, changes: look(known[0]) },
        theirs: { snapshot: parts.theirs, stamp: st, changes: look(known[1]) },
      },
      layout,
    );
    if (wanted.size === 0 || round === CHANGE_ROUNDS) return result;
    asked = new Set([...asked, ...wanted]);
    const keys = [...asked].sort();
    const exclude = base === null ? [] : [base];
    for (const [i, head] of [ours, theirs].entries()) {
      const found = lastChanges(head, keys, await store.history(head, exclude, keys));
      for (const [k, v] of found) known[i]!.set(k, v);
    }
  }
}

/**
 * Merges the trees of commits `ours` and `theirs` over `base` (a commit, or null: nothing in
 * common); the decisions name folders as `layout` does (by directory without one).
 */
async function mergeTrees(store: HistoryStore, heads: Heads, layout?: Layout): Promise<{ tree: string; decisions: Decision[] }> {
  const { base, ours, theirs } = heads;
  const [dOurs, dTheirs] = await Promise.all([store.diff(base, ours), store.diff(base, theirs)]);
  const parts = partialSnapshots(dOurs, dTheirs, await readContents(store, [...dOurs, ...dTheirs]));
  const result = await mergeWithChanges(store, heads, { parts, layout });
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
async function baseCommit(store: HistoryStore, a: string, b: string): Promise<string | null> {
  const bases = await store.mergeBases(a, b);
  if (bases.length === 0) return null;
  // Fold in (clock, replica, id) order, so that both replicas build the same virtual base.
  const stamps = new Map(await Promise.all(bases.map(async (c) => [c, await store.stamp(c)] as const)));
  bases.sort((x, y) => compareStamps(stamps.get(x)!, stamps.get(y)!) || (x < y ? -1 : x > y ? 1 : 0));
  let v = bases[0]!;
  for (const other of bases.slice(1)) {
    const { tree } = await mergeTrees(store, { base: await baseCommit(store, v, other), ours: v, theirs: other });
    const [sv, so] = [await store.stamp(v), await store.stamp(other)];
    // No wall time here: every replica must build the same virtual base.
    v = await store.commit({
      tree,
      parents: [v, other],
      subject: 'virtual merge base',
      stamp: { replica: 'virtual', clock: Math.max(sv.clock, so.clock) },
      time: 0,
    });
  }
  return v;
}

/** What {@link mergeHeads} brings together, and how it writes the result. */
export interface MergeRequest {
  store: HistoryStore;
  /** Our head (null before the first commit). */
  ours: string | null;
  /** The head to merge, untrusted. */
  theirs: string;
  /** Where `theirs` came from, for refusals and the merge commit's subject. */
  origin: string;
  /** This replica's name, for the merge commit's stamp. */
  replica: string;
  /** Turns the changes the merge brings to ours into the lines of the merge commit's body. */
  describe: (c: PathChange[]) => string[];
  /** The clock the merge commit's time and clock come from (default: `Date.now`). */
  wall?: () => number;
  /** The repo's layout, so that decisions name folders as the user does (default: by directory). */
  layout?: Layout;
}

/**
 * Brings `theirs` together with `ours`. Refuses, before anything is written, a remote tree
 * with unsafe paths; writes objects only (no ref moves).
 */
export async function mergeHeads({ store, ours, theirs, origin, replica, describe, layout, wall = Date.now }: MergeRequest): Promise<MergeOutcome> {
  if (ours === theirs) return { kind: 'up-to-date', commit: theirs, decisions: [] };
  if (ours && (await store.isAncestor(theirs, ours))) return { kind: 'up-to-date', commit: ours, decisions: [] };
  const base = ours ? await baseCommit(store, ours, theirs) : null;
  const changes = await store.diff(base, theirs);
  refuseRootFileRemovals(changes, `changes from ${origin}`);
  const incoming = changes.filter((c) => c.newOid !== null);
  await validateIncoming(
    store,
    incoming.map((c) => ({
      path: c.path,
      mode: c.newMode!,
      oid: c.newOid!,
      type: c.newMode === '160000' ? 'commit' : c.newMode === '040000' ? 'tree' : 'blob',
    })),
    `changes from ${origin}`,
  );
  // A merge base that is ours makes this a fast-forward, and what came in is what changes here.
  if (!ours || base === ours) return { kind: 'fast-forward', commit: theirs, decisions: [], changes };
  if (await store.isAncestor(ours, theirs)) return { kind: 'fast-forward', commit: theirs, decisions: [] };
  const { tree, decisions } = await mergeTrees(store, { base, ours, theirs }, layout);
  const body = [...describe(await store.diff(ours, tree)), ...decisions.map((d) => `conflict: ${d.text}`)].join('\n');
  const now = wall();
  const clock = nextClock(Math.max((await store.stamp(ours)).clock, (await store.stamp(theirs)).clock), now);
  const commit = await store.commit({ tree, parents: [ours, theirs], subject: `sync: merge ${origin}`, body, stamp: { replica, clock }, time: now });
  return { kind: 'merge', commit, decisions };
}
