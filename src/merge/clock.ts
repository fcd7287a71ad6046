/**
 * The clock in a commit's `Mailgit-Clock` trailer: a hybrid logical clock (HLC) in
 * milliseconds since the epoch, one integer. It follows real time and respects
 * causality: a commit's clock is its writer's wall time, or one more than the highest
 * clock of its parents when that is later. Repos made before it carry small Lamport
 * counts (1, 2, 3, …) in the same trailer; compared as integers, every such count is
 * older than every HLC value, and an HLC commit on top of Lamport ones is still later
 * than its parents, so old histories keep converging.
 */

/** Clocks from here on are HLC milliseconds (1973-03-03); below are old Lamport counts. */
export const HLC_START = 1e11;

/**
 * How far a change's clock may run ahead of the wall time of a commit made on top of it
 * (by any replica) before the merge stops believing it: an hour. Wide enough that a
 * machine up to an hour behind never dates the changes it builds on too early.
 */
export const MAX_CLOCK_LEAD = 60 * 60 * 1000;

/**
 * The clock of a new commit: `wall` (ms since the epoch), or one more than `parents` (the
 * highest clock among its parents and the ancestors that carry one) when that is later.
 */
export function nextClock(parents: number, wall: number): number {
  return Math.max(Math.floor(wall), parents + 1);
}

/** Says when a clock was, for a sentence: `2026-12-03 08:12:05 UTC`, or `clock 42` for an old count. */
export function describeClock(clock: number): string {
  if (clock < HLC_START) return `clock ${clock}`;
  const iso = new Date(clock).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** What {@link clockBehind} needs to know about a commit. */
export interface ClockRecord {
  parents: readonly string[];
  /** The commit's `Mailgit-Clock`, or null when it has none (a plain `git commit`). */
  clock: number | null;
}

/**
 * The clock that stands for commit `start` when it may carry none: its own clock, else the
 * highest clock among its nearest ancestors that carry one, walking back only through
 * commits without (a user's `git commit`, `git commit --no-verify`), so such a commit
 * never resets a clock. `records` may list only part of the history (a bounded walk): a
 * commit it does not list adds nothing. 0 when no clock is found.
 */
export function clockBehind(start: string, records: ReadonlyMap<string, ClockRecord>): number {
  let best = 0;
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const r = records.get(id);
    if (r === undefined) continue;
    if (r.clock !== null) best = Math.max(best, r.clock);
    else stack.push(...r.parents);
  }
  return best;
}
