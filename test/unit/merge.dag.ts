/**
 * An in-memory commit graph for merge tests: commits hold a snapshot, a hybrid-clock stamp
 * and their parents; replicas have heads and pull from each other as `mailgit sync` would,
 * giving the merge the stamps of the changes behind each side's version of a message.
 * Time is simulated: `now` is real time, and each replica's wall clock is `now` plus its skew.
 */
import type { MessageEntry, Snapshot, Stamp } from '../../src/maildir/snapshot.js';
import type { Decision, MergeSide } from '../../src/merge/merge.js';
import { merge } from '../../src/merge/merge.js';
import { messageMap } from '../../src/merge/identity.js';
import { nextClock } from '../../src/merge/clock.js';
import { compareStamps } from '../../src/merge/stamp.js';
import { type HistoryCommit, lastChanges } from '../../src/merge/lastChange.js';

/** One commit. */
export interface Commit {
  /** Sequence number, unique in the graph. */
  n: number;
  snapshot: Snapshot;
  clock: number;
  replica: string;
  /** The writer's wall time (ms): real time plus its skew. */
  time: number;
  /** Real time when it was made. */
  real: number;
  parents: Commit[];
  /** Numbers of this commit and all its ancestors. */
  anc: Set<number>;
  /** Every message id present in this commit or any ancestor. */
  seen: Set<string>;
  /** Ids a local change touched (added, changed, deleted); empty for merges. */
  touched: string[];
  /** Ids a local change deleted (including the old id of a copy + delete move). */
  deleted: string[];
  /** Decisions of the merge that made this commit. */
  decisions: Decision[];
}

/** A commit graph plus replicas with heads. */
export class Dag {
  readonly commits: Commit[] = [];
  readonly heads = new Map<string, Commit>();
  /** Real time, ms; the test moves it on. */
  now = 1_796_000_000_000;
  /** Per replica, how far its wall clock is off (ms). */
  readonly skew = new Map<string, number>();
  /** Virtual merge bases by the numbers of the bases they fold, and by their own numbers. */
  private readonly virtuals = new Map<string, Commit>();
  private readonly byNumber = new Map<number, Commit>();

  /** Makes a commit; its clock is its writer's wall time, or one more than the highest parent clock (HLC). */
  commit(replica: string, parents: Commit[], snapshot: Snapshot, touched: string[] = [], deleted: string[] = [], decisions: Decision[] = []): Commit {
    const n = this.commits.length;
    const anc = new Set<number>([n]);
    const seen = new Set<string>(snapshot.messages.keys());
    for (const p of parents) {
      for (const a of p.anc) anc.add(a);
      for (const s of p.seen) seen.add(s);
    }
    const time = this.now + (this.skew.get(replica) ?? 0);
    const clock = nextClock(Math.max(0, ...parents.map((p) => p.clock)), time);
    const c: Commit = { n, snapshot, clock, replica, time, real: this.now, parents, anc, seen, touched, deleted, decisions };
    this.commits.push(c);
    return c;
  }

  /** Best common ancestors of `one` and a hypothetical merge of `others` (git merge-base --all). */
  mergeBases(one: Commit, others: readonly Commit[]): Commit[] {
    const union = new Set<number>();
    for (const o of others) for (const a of o.anc) union.add(a);
    const common = [...one.anc].filter((a) => union.has(a)).map((a) => this.numbered(a));
    return common.filter((c) => !common.some((d) => d !== c && d.anc.has(c.n)));
  }

  /**
   * The commit to merge against when the best common ancestors are `bases` (undefined for
   * none), folded the way `mergeHeads` does (src/sync/mergeHeads.ts, `baseCommit`) and git's
   * recursive strategy does: one base is itself; several are merged one at a time in (clock,
   * replica, commit) order, each against the virtual base of the merge bases of the next one
   * and those folded so far, found recursively, with the stamps of the changes behind each
   * side's version as in any merge. Each fold is a virtual commit (replica `virtual`, the
   * higher clock, no wall time), kept apart from `commits` and made once per set of bases,
   * as its content makes it one commit in git. A deletion made in one base's history is
   * seen as a deletion against a real ancestor, so it is never undone; and both replicas
   * build the same base.
   */
  baseOf(bases: readonly Commit[]): Commit | undefined {
    if (bases.length <= 1) return bases[0];
    const sorted = [...bases].sort((a, b) => compareStamps(sideOf(a).stamp, sideOf(b).stamp) || a.n - b.n);
    const id = sorted.map((c) => c.n).join(' ');
    const known = this.virtuals.get(id);
    if (known !== undefined) return known;
    let acc = sorted[0]!;
    const folded: Commit[] = [acc];
    for (const next of sorted.slice(1)) {
      const inner = this.mergeBases(next, folded);
      const snapshot = merge({ base: this.baseOf(inner)?.snapshot ?? EMPTY, ours: this.sideAfter(acc, inner), theirs: this.sideAfter(next, inner) }).snapshot;
      acc = this.virtualCommit([acc, next], snapshot);
      folded.push(next);
    }
    this.virtuals.set(id, acc);
    return acc;
  }

  /** A virtual merge base on `parents`, numbered below 0 and not listed in `commits`. */
  private virtualCommit(parents: Commit[], snapshot: Snapshot): Commit {
    const n = -1 - this.byNumber.size;
    const anc = new Set<number>([n]);
    const seen = new Set<string>(snapshot.messages.keys());
    for (const p of parents) {
      for (const a of p.anc) anc.add(a);
      for (const x of p.seen) seen.add(x);
    }
    const clock = Math.max(...parents.map((p) => p.clock));
    const c: Commit = { n, snapshot, clock, replica: 'virtual', time: 0, real: this.now, parents, anc, seen, touched: [], deleted: [], decisions: [] };
    this.byNumber.set(n, c);
    return c;
  }

  /** The commit numbered `n`, virtual ones included. */
  private numbered(n: number): Commit {
    return n >= 0 ? this.commits[n]! : this.byNumber.get(n)!;
  }

  /** Tells whether two commits are concurrent: neither is an ancestor of the other. */
  concurrent(a: Commit, b: Commit): boolean {
    return !a.anc.has(b.n) && !b.anc.has(a.n);
  }

  /**
   * A head as a merge side whose `changes` find, for a key, the change behind the head's
   * version among the commits after `bases` (as `mergeHeads` does with `CommitStore.history`).
   */
  sideAfter(head: Commit, bases: readonly Commit[]): MergeSide {
    const older = new Set<number>();
    for (const b of bases) for (const a of b.anc) older.add(a);
    const range = [...head.anc].filter((a) => !older.has(a)).map((a) => this.numbered(a));
    const memo = new Map<string, Stamp | undefined>();
    const changes = (key: string): Stamp | undefined => {
      if (!memo.has(key)) {
        const list: HistoryCommit[] = range.map((c) => ({
          commit: String(c.n),
          parents: c.parents.map((p) => String(p.n)),
          stamp: { clock: c.clock, replica: c.replica, commit: String(c.n) },
          time: c.time,
          touched: (c.parents.length === 0 ? [undefined] : c.parents).map((p) => (sameFiles(key, c.snapshot, p?.snapshot) ? [] : [key])),
        }));
        // A version from before the bases gets BEFORE_HISTORY: earlier than any change after them.
        memo.set(key, lastChanges(String(head.n), [key], list).get(key));
      }
      return memo.get(key);
    };
    return { ...sideOf(head), changes };
  }

  /** Records a local change on a replica's head. */
  change(replica: string, snapshot: Snapshot, touched: string[], deleted: string[]): Commit {
    const c = this.commit(replica, [this.heads.get(replica)!], snapshot, touched, deleted);
    this.heads.set(replica, c);
    return c;
  }

  /**
   * Replica `a` pulls `b`: nothing when b's head is already in a's history, a fast-forward when
   * a's head is in b's (unless `noFastForward`), otherwise a merge commit made by `a`.
   */
  pull(a: string, b: string, noFastForward = false): void {
    const ha = this.heads.get(a)!;
    const hb = this.heads.get(b)!;
    if (ha.anc.has(hb.n)) return;
    if (hb.anc.has(ha.n) && !noFastForward) {
      this.heads.set(a, hb);
      return;
    }
    const bases = this.mergeBases(ha, [hb]);
    const base = this.baseOf(bases)?.snapshot ?? EMPTY;
    const r = merge({ base, ours: this.sideAfter(ha, bases), theirs: this.sideAfter(hb, bases) });
    this.heads.set(a, this.commit(a, [ha, hb], r.snapshot, [], [], r.decisions));
  }
}

const EMPTY: Snapshot = { messages: new Map(), files: new Map() };

/** A commit as a merge side (head stamp only). */
export function sideOf(c: Commit): MergeSide {
  return { snapshot: c.snapshot, stamp: { clock: c.clock, replica: c.replica, commit: String(c.n) } };
}

/** Tells whether two snapshots hold the same files for change name `name` (`b` undefined: an empty tree). */
function sameFiles(name: string, a: Snapshot, b: Snapshot | undefined): boolean {
  const [key, folder] = name.split('\0');
  const files = (s: Snapshot | undefined) =>
    s === undefined
      ? ''
      : [...s.messages.values()]
          .filter((e) => e.key === key && (folder === undefined || e.folder === folder))
          .map((e) => `${e.folder}/${e.sub}/${e.key}${e.info}@${e.blob}`)
          .sort()
          .join('\n');
  return files(a) === files(b);
}

/** Returns a copy of a snapshot with `id` set to `e` (or removed when `e` is undefined), ids made canonical. */
export function withMessage(s: Snapshot, id: string, e: MessageEntry | undefined): Snapshot {
  const m = new Map(s.messages);
  if (e === undefined) m.delete(id);
  else m.set(id, e);
  return { messages: messageMap(m.values()), files: s.files };
}
