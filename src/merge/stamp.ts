/**
 * Ordering of stamps for last-writer-wins.
 */
import type { Stamp } from '../maildir/snapshot.js';

/**
 * Compares two stamps: by clock numerically, then by replica name in plain code-unit order,
 * then by commit id (a stamp without one sorts first). Returns a negative number when `a`
 * is older, a positive one when it is newer, 0 when equal.
 */
export function compareStamps(a: Stamp, b: Stamp): number {
  if (a.clock !== b.clock) return a.clock < b.clock ? -1 : 1;
  if (a.replica !== b.replica) return a.replica < b.replica ? -1 : 1;
  const x = a.commit ?? '';
  const y = b.commit ?? '';
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Returns the newer of two stamps (the first one when they are equal). */
export function maxStamp(a: Stamp, b: Stamp): Stamp {
  return compareStamps(a, b) >= 0 ? a : b;
}
