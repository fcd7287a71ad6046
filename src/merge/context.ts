/**
 * The state one merge carries around: the two stamps and the decisions taken so far.
 */
import type { Stamp } from '../maildir/snapshot.js';
import { compareStamps } from './stamp.js';
import type { Decision, DecisionKind, Winner } from './types.js';

/** Which side is newer by stamp, or `tie` when both stamps are equal. */
export type Newer = 'ours' | 'theirs' | 'tie';

/** Per-merge state: stamps, who is newer, and the decision log. */
export class MergeContext {
  /** Which side has the higher (clock, replica). */
  readonly newer: Newer;
  /** Decisions recorded so far, in the order they were taken. */
  readonly decisions: Decision[] = [];

  /** Creates the context for merging a side stamped `ours` with one stamped `theirs`. */
  constructor(
    readonly ours: Stamp,
    readonly theirs: Stamp,
  ) {
    const c = compareStamps(ours, theirs);
    this.newer = c > 0 ? 'ours' : c < 0 ? 'theirs' : 'tie';
  }

  /**
   * Returns the last-writer-wins side: the newer one, or `onTie` when the stamps are equal
   * (the caller passes a choice that depends only on the values, so the merge stays symmetric).
   */
  lww(onTie: 'ours' | 'theirs'): 'ours' | 'theirs' {
    return this.newer === 'tie' ? onTie : this.newer;
  }

  /** Names a side for a sentence: ours is "here", theirs is "on <replica>". */
  where(side: 'ours' | 'theirs'): string {
    return side === 'ours' ? 'here' : `on ${this.theirs.replica}`;
  }

  /** Explains why a side won: its change is newer, or the stamps tie and a fixed rule chose. */
  why(side: 'ours' | 'theirs'): string {
    if (this.newer === 'tie') return 'both changes have the same clock; chosen by a fixed rule';
    return side === 'ours' ? "this replica's change is newer" : `${this.theirs.replica}'s change is newer`;
  }

  /** Records a decision. */
  decide(kind: DecisionKind, id: string, winner: Winner, text: string): void {
    this.decisions.push({ kind, id, winner, text });
  }
}
