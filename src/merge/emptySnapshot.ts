/**
 * The snapshot of an empty tree.
 */
import type { Snapshot } from '../maildir/snapshot.js';

/** Returns a new snapshot with no messages and no files (the base of unrelated histories). */
export function emptySnapshot(): Snapshot {
  return { messages: new Map(), files: new Map() };
}
