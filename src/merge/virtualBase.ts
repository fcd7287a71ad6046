/**
 * Criss-cross histories: folding several merge bases into one virtual base.
 */
import type { Snapshot } from '../maildir/snapshot.js';
import { emptySnapshot } from './emptySnapshot.js';
import { merge } from './merge.js';
import { compareStamps, maxStamp } from './stamp.js';
import type { MergeSide } from './types.js';

/**
 * Folds merge bases into one snapshot against a fixed common `ancestor` (the empty snapshot
 * when omitted): an approximation of {@link mergeBases} for callers that have no commit graph. The bases are merged in ascending (clock, replica) order, each step a
 * {@link merge} of the result so far (stamped with the highest stamp folded in) with the
 * next base, three-way against `ancestor`. Without an ancestor this is a union: a message in
 * any base is in the virtual base, so a side that lacks it counts as having deleted it and a
 * deletion is never taken for an addition. But a change made in one base's history and not
 * the other's is then seen as a conflict between the bases, which can lose a message that two
 * replicas moved in a criss-cross history (the convergence test finds such cases); use
 * {@link mergeBases}, which finds the right ancestor at each step as git's recursive
 * strategy does. An empty list gives an empty snapshot (unrelated histories).
 */
export function foldBases(bases: readonly MergeSide[], ancestor?: Snapshot): Snapshot {
  if (bases.length === 0) return emptySnapshot();
  const sorted = [...bases].sort((a, b) => compareStamps(a.stamp, b.stamp));
  const anc = ancestor ?? emptySnapshot();
  let acc = sorted[0]!;
  for (const next of sorted.slice(1)) {
    acc = { snapshot: merge(anc, acc, next).snapshot, stamp: maxStamp(acc.stamp, next.stamp) };
  }
  return acc.snapshot;
}

/** What {@link mergeBases} needs to know about a commit graph; `C` is a commit handle. */
export interface CommitGraph<C> {
  /** A unique name for a commit (its hash), used to remember results. */
  id(commit: C): string;
  /** The commit's snapshot and stamp. */
  side(commit: C): MergeSide;
  /**
   * The best common ancestors of `one` and a hypothetical merge of all of `others`: what
   * `git merge-base --all one others…` prints.
   */
  mergeBases(one: C, others: readonly C[]): readonly C[];
}

/**
 * Builds the virtual base for a merge whose best common ancestors are `bases` (what
 * `git merge-base --all ours theirs` prints), the way git's recursive strategy does: with one base it is that base's snapshot; with several, they are
 * merged one at a time in ascending (clock, replica) order, each step a {@link merge}
 * three-way against the virtual base of the merge bases of the next commit and the commits
 * folded so far (found recursively). A deletion made in one base's history is therefore seen
 * as a deletion against a real ancestor, never undone. An empty list gives an empty snapshot.
 * The result depends only on the set of bases, not on their order, so both replicas of a
 * merge compute the same virtual base.
 *
 * With git, `graph.id` is the commit hash, `graph.side` reads the commit's tree and its
 * `Mailgit-Clock` / `Mailgit-Replica` trailers, and `graph.mergeBases(one, others)` runs
 * `git merge-base --all one others…`.
 */
export function mergeBases<C>(bases: readonly C[], graph: CommitGraph<C>): Snapshot {
  const memo = new Map<string, Snapshot>();
  const fold = (commits: readonly C[]): Snapshot => {
    if (commits.length === 0) return emptySnapshot();
    if (commits.length === 1) return graph.side(commits[0]!).snapshot;
    const sorted = [...commits].sort((a, b) => {
      const c = compareStamps(graph.side(a).stamp, graph.side(b).stamp);
      if (c !== 0) return c;
      const x = graph.id(a);
      const y = graph.id(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const key = sorted.map((c) => graph.id(c)).join(' ');
    const known = memo.get(key);
    if (known !== undefined) return known;
    let acc: MergeSide = graph.side(sorted[0]!);
    const folded: C[] = [sorted[0]!];
    for (const next of sorted.slice(1)) {
      const side = graph.side(next);
      const anc = fold(graph.mergeBases(next, folded));
      acc = { snapshot: merge(anc, acc, side).snapshot, stamp: maxStamp(acc.stamp, side.stamp) };
      folded.push(next);
    }
    memo.set(key, acc.snapshot);
    return acc.snapshot;
  };
  return fold(bases);
}
