/**
 * The state one merge carries around: the two sides' stamps and the decisions taken so far.
 */
import { type Layout, folderName } from '../maildir/layout.js';
import type { Stamp } from '../maildir/snapshot.js';
import { describeClock } from './clock.js';
import { beforeHistory } from './lastChange.js';
import { compareStamps } from './stamp.js';
import type { Decision, MergeSide } from './types.js';

/** Which side is newer by stamp, or `tie` when both stamps are equal. */
export type Newer = 'ours' | 'theirs' | 'tie';

type Side = 'ours' | 'theirs';

/**
 * Two concurrent changes to one message, one per side, ordered by the stamps of the commits
 * that made them (the head stamps when a side cannot say).
 */
export class Contest {
  /** Which change is later; `tie` when both have the same clock. */
  readonly later: Newer;
  private readonly order: number;

  /** Orders change `ours` against change `theirs`; `where` names a side for a sentence. */
  constructor(
    readonly ours: Stamp,
    readonly theirs: Stamp,
    private readonly where: (side: Side) => string,
  ) {
    this.order = compareStamps(ours, theirs);
    this.later = ours.clock === theirs.clock ? 'tie' : this.order > 0 ? 'ours' : 'theirs';
  }

  /**
   * The side whose change wins: the later one; at a tie of clocks the higher (replica, commit),
   * and `onTie` when even those are equal (a choice the caller makes from the values only, so
   * that the merge stays symmetric).
   */
  winner(onTie: Side): Side {
    return this.order > 0 ? 'ours' : this.order < 0 ? 'theirs' : onTie;
  }

  /** Says where, by whom and when a side's change was made: `here (by desktop, 2026-12-03 08:12:05 UTC)`. */
  by(side: Side): string {
    const s = side === 'ours' ? this.ours : this.theirs;
    if (beforeHistory(s)) return `${this.where(side)} (before the last common commit)`;
    const who = s.replica === '' ? 'a commit without mailgit trailers' : s.replica;
    return `${this.where(side)} (by ${who}, ${describeClock(s.clock)})`;
  }

  /** Says why `side` won: its change is later, or a tie broken by a fixed rule. */
  why(side: Side): string {
    if (this.later === 'tie') return 'a tie: both changes have the same clock, chosen by a fixed rule';
    return `the change ${this.where(side)} is later`;
  }
}

/** Per-merge state: stamps, who is newer, and the decision log. */
export class MergeContext {
  /** Which head has the higher clock (`tie` when equal: then replica and commit decide). */
  readonly newer: Newer;
  /** Decisions recorded so far, in the order they were taken. */
  readonly decisions: Decision[] = [];
  readonly ours: Stamp;
  readonly theirs: Stamp;

  /** Creates the context for merging side `o` with side `t` in a repo of `layout` (for the sentences). */
  constructor(
    private readonly o: MergeSide,
    private readonly t: MergeSide,
    private readonly layout?: Layout,
  ) {
    this.ours = o.stamp;
    this.theirs = t.stamp;
    this.newer = o.stamp.clock === t.stamp.clock ? 'tie' : o.stamp.clock > t.stamp.clock ? 'ours' : 'theirs';
  }

  /**
   * Names the folder in directory `dir` for a sentence: as the user names it in this repo's
   * layout (`Lists/rust`, `INBOX`), or by its directory when the merge has no layout; a root
   * directory that is no folder of the layout is `(root)`.
   */
  folderName(dir: string): string {
    const name = this.layout === undefined ? dir : folderName(this.layout, dir);
    return name === '' ? '(root)' : name;
  }

  /**
   * Returns the last-writer-wins side by head stamps: the newer one, or `onTie` when the stamps
   * are equal (the caller passes a choice that depends only on the values, so the merge stays
   * symmetric). For files; messages use {@link MergeContext.contest}.
   */
  lww(onTie: Side): Side {
    const c = compareStamps(this.ours, this.theirs);
    return c > 0 ? 'ours' : c < 0 ? 'theirs' : onTie;
  }

  /**
   * The contest between the change that gave ours its version of message `nameOurs` and the
   * one that gave theirs its version of `nameTheirs` (names as in {@link MergeSide.changes}).
   */
  contest(nameOurs: string, nameTheirs: string): Contest {
    const o = this.o.changes?.(nameOurs) ?? this.ours;
    const t = this.t.changes?.(nameTheirs) ?? this.theirs;
    return new Contest(o, t, (side) => this.where(side));
  }

  /**
   * Tells whether `side`'s history since the merge base changed the files under change name
   * `name` (`MergeSide.changes` gives a stamp after the base, not `BEFORE_HISTORY`). False
   * when the side cannot say.
   */
  changedSinceBase(side: Side, name: string): boolean {
    const s = (side === 'ours' ? this.o : this.t).changes?.(name);
    return s !== undefined && !beforeHistory(s);
  }

  /** Names a side for a sentence: ours is "here", theirs is "on <replica>". */
  where(side: Side): string {
    return side === 'ours' ? 'here' : `on ${this.theirs.replica}`;
  }

  /** Explains why a side won by head stamps: its version is newer, or a tie chosen by a fixed rule. */
  why(side: Side): string {
    if (this.newer === 'tie') return 'a tie: both sides have the same clock, chosen by a fixed rule';
    return side === 'ours' ? "this replica's version is newer" : `${this.theirs.replica}'s version is newer`;
  }

  /** Records a decision. */
  decide(d: Decision): void {
    this.decisions.push(d);
  }
}
