/**
 * An in-memory commit graph for merge tests: commits hold a snapshot, a Lamport stamp and
 * their parents; replicas have heads and pull from each other as `mailgit sync` would.
 */
import type { MessageEntry, Snapshot } from '../../src/maildir/snapshot.js';
import type { Decision, MergeSide } from '../../src/merge/merge.js';
import { merge } from '../../src/merge/merge.js';
import { type CommitGraph, foldBases, mergeBases } from '../../src/merge/virtualBase.js';

/** One commit. */
export interface Commit {
  /** Sequence number, unique in the graph. */
  n: number;
  snapshot: Snapshot;
  clock: number;
  replica: string;
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

/** How merge bases are folded when there are several. */
export type BaseMode = 'recursive' | 'union';

/** A commit graph plus replicas with heads. */
export class Dag {
  readonly commits: Commit[] = [];
  readonly heads = new Map<string, Commit>();

  constructor(readonly mode: BaseMode = 'recursive') {}

  /** Makes a commit; its clock is one more than the highest parent clock (Lamport). */
  commit(replica: string, parents: Commit[], snapshot: Snapshot, touched: string[] = [], deleted: string[] = [], decisions: Decision[] = []): Commit {
    const n = this.commits.length;
    const anc = new Set<number>([n]);
    const seen = new Set<string>(snapshot.messages.keys());
    for (const p of parents) {
      for (const a of p.anc) anc.add(a);
      for (const s of p.seen) seen.add(s);
    }
    const clock = 1 + Math.max(0, ...parents.map((p) => p.clock));
    const c: Commit = { n, snapshot, clock, replica, parents, anc, seen, touched, deleted, decisions };
    this.commits.push(c);
    return c;
  }

  /** The graph view that `mergeBases` needs. */
  readonly graph: CommitGraph<Commit> = {
    id: (c) => String(c.n),
    side: (c) => sideOf(c),
    mergeBases: (one, others) => this.mergeBases(one, others),
  };

  /** Best common ancestors of `one` and a hypothetical merge of `others` (git merge-base --all). */
  mergeBases(one: Commit, others: readonly Commit[]): Commit[] {
    const union = new Set<number>();
    for (const o of others) for (const a of o.anc) union.add(a);
    const common = [...one.anc].filter((a) => union.has(a)).map((a) => this.commits[a]!);
    return common.filter((c) => !common.some((d) => d !== c && d.anc.has(c.n)));
  }

  /** Tells whether two commits are concurrent: neither is an ancestor of the other. */
  concurrent(a: Commit, b: Commit): boolean {
    return !a.anc.has(b.n) && !b.anc.has(a.n);
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
    const base =
      this.mode === 'recursive' ? mergeBases(bases, this.graph) : foldBases(bases.map(sideOf));
    const r = merge(base, sideOf(ha), sideOf(hb));
    this.heads.set(a, this.commit(a, [ha, hb], r.snapshot, [], [], r.decisions));
  }
}

/** A commit as a merge side. */
export function sideOf(c: Commit): MergeSide {
  return { snapshot: c.snapshot, stamp: { clock: c.clock, replica: c.replica } };
}

/** Returns a copy of a snapshot with `id` set to `e` (or removed when `e` is undefined). */
export function withMessage(s: Snapshot, id: string, e: MessageEntry | undefined): Snapshot {
  const m = new Map(s.messages);
  if (e === undefined) m.delete(id);
  else m.set(id, e);
  return { messages: m, files: s.files };
}
