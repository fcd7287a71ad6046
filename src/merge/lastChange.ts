/**
 * Which commit made a side's version of a message: the input of last-writer-wins.
 *
 * A conflict goes to the later *change to that message*, not to the later head: each
 * side's change is the commit that introduced the version that side's head holds, found
 * by walking back from the head through commits that hold their parent's version, until a
 * commit that changed it; at a merge, the latest of the changes behind its parents.
 */
import type { Stamp } from '../maildir/snapshot.js';
import { MAX_CLOCK_LEAD } from './clock.js';
import { compareStamps } from './stamp.js';

/**
 * The stamp of a version whose change lies before the listed history (before the merge
 * base): earlier than every change after the base, each of which is built on the base. Not
 * the base's own stamp: a change after the base is believed only as far as its writer's wall
 * clock, and the base's clock, dragged ahead by one far off, could then pass it.
 */
export const BEFORE_HISTORY: Stamp = { clock: 0, replica: '' };

/** Tells whether a stamp is {@link BEFORE_HISTORY}'s: a version from before the merge base. */
export function beforeHistory(s: Stamp): boolean {
  return s.clock === 0 && s.replica === '' && s.commit === undefined;
}

/** One commit of a history listing (what `CommitStore.history` returns). */
export interface HistoryCommit {
  commit: string;
  parents: string[];
  /** The commit's stamp, with `commit` set; a commit without trailers: see `CommitStore.stamp`. */
  stamp: Stamp;
  /** Commit (committer) time, ms since the epoch: the writer's wall clock (0: unknown). */
  time: number;
  /**
   * Per parent, in order (one list against the empty tree for a root commit): the names
   * asked about (`changeName`: a key, or `key\0folder`) whose files differ between that
   * parent and this commit.
   */
  touched: string[][];
}

/**
 * Finds, for each of `names` (keys, or `key\0folder` for a copy: `changeName`), the stamp
 * of the change that gave `head` its version of the message. `history` lists the commits
 * after the merge base (reachable from `head`, not from the base); a message unchanged in
 * them (or whose version came from before them) gets {@link BEFORE_HISTORY}. A commit that holds its one
 * parent's version passes the question to that parent; a merge counts as the latest change
 * behind its parents' versions, whether it combined them (flags merged letter by letter) or
 * took one of them (the other may hold the same change made later: two replicas that both
 * flagged a message, or both deleted it), so a replica that merges often gains nothing; any
 * other commit is the change.
 *
 * A clock may lie (a machine whose clock is far ahead), and through the HLC it drags the
 * clocks of every replica that merges from it. Concurrent changes need no causality between
 * them (neither can be an ancestor of the other), only real time, so a change's clock is
 * believed only up to its own commit time (its writer's wall clock, for a commit with
 * trailers) and up to {@link MAX_CLOCK_LEAD} past the commit time of the earliest commit in
 * `history` made on top of it: a far clock wins at most until another replica has built on
 * it, and replicas with right clocks keep being ordered by real time after meeting it.
 */
export function lastChanges(head: string, names: readonly string[], history: readonly HistoryCommit[]): Map<string, Stamp> {
  const byId = new Map(history.map((c) => [c.commit, c]));
  const cap = descendantTimes(history, byId);
  const touched = new Map(history.map((c) => [c.commit, c.touched.map((t) => new Set(t))]));
  const out = new Map<string, Stamp>();
  for (const name of names) {
    const memo = new Map<string, Stamp | undefined>();
    const own = (c: HistoryCommit): Stamp => {
      let clock = c.stamp.clock;
      // No later than its writer's wall clock (second resolution): a right clock dragged ahead by a
      // far clock it merged (HLC takes the parents' when later) still says when the change was made.
      if (c.stamp.replica !== '' && c.time > 0) clock = Math.min(clock, c.time + 999);
      const limit = cap.get(c.commit);
      if (limit !== undefined && limit !== Infinity) clock = Math.min(clock, limit + MAX_CLOCK_LEAD);
      return clock === c.stamp.clock ? c.stamp : { ...c.stamp, clock };
    };
    // Iterative along a line of commits (thousands of watch records), recursive only at merges.
    const changeAt = (start: string): Stamp | undefined => {
      const walked: string[] = [];
      let id = start;
      let s: Stamp | undefined;
      for (;;) {
        if (memo.has(id)) {
          s = memo.get(id);
          break;
        }
        const c = byId.get(id);
        if (c === undefined) break;
        walked.push(id);
        const sets = touched.get(id)!;
        if (c.parents.length === 1 && !sets[0]?.has(name)) {
          id = c.parents[0]!;
          continue;
        }
        // A merge: the latest change behind its parents' versions, whether it took one of them
        // (the other may hold the same change, made later: two replicas that flagged it) or
        // combined them (none found: before the range).
        if (c.parents.length > 1) s = latest(c.parents.map(changeAt));
        else if (sets[0]?.has(name)) s = own(c);
        break;
      }
      for (const w of walked) memo.set(w, s);
      return s;
    };
    out.set(name, changeAt(head) ?? BEFORE_HISTORY);
  }
  return out;
}

/** The latest of some stamps (undefined ones ignored). */
function latest(stamps: (Stamp | undefined)[]): Stamp | undefined {
  let best: Stamp | undefined;
  for (const s of stamps) if (s !== undefined && (best === undefined || compareStamps(s, best) > 0)) best = s;
  return best;
}

/** For each commit, the earliest wall time among the listed commits made on top of it. */
function descendantTimes(history: readonly HistoryCommit[], byId: Map<string, HistoryCommit>): Map<string, number> {
  const children = new Map<string, number>();
  for (const c of history) for (const p of c.parents) if (byId.has(p)) children.set(p, (children.get(p) ?? 0) + 1);
  // Children before parents (Kahn's order from the tips).
  const ready = history.filter((c) => !children.has(c.commit));
  const earliest = new Map<string, number>();
  while (ready.length > 0) {
    const c = ready.pop()!;
    // Time 0 is unknown (a virtual merge base, which every replica must build alike).
    const mine = Math.min(c.time > 0 ? c.time : Infinity, earliest.get(c.commit) ?? Infinity);
    for (const p of c.parents) {
      if (!byId.has(p)) continue;
      earliest.set(p, Math.min(earliest.get(p) ?? Infinity, mine));
      const left = children.get(p)! - 1;
      children.set(p, left);
      if (left === 0) ready.push(byId.get(p)!);
    }
  }
  return earliest;
}
