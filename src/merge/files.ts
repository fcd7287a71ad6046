/**
 * Small helpers on non-message file entries.
 */
import type { FileEntry } from '../maildir/snapshot.js';

/**
 * Tells whether two file entries (either may be absent) hold the same content: equal blob
 * ids, and for entries made by the merge (empty blob id) equal content.
 */
export function sameFile(a: FileEntry | undefined, b: FileEntry | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.blob === b.blob && (a.blob !== '' || a.content === b.content);
}

/** Orders file entries by blob id, then content: a fixed, symmetric tie-break. */
export function compareFiles(a: FileEntry, b: FileEntry): number {
  if (a.blob !== b.blob) return a.blob < b.blob ? -1 : 1;
  const x = a.content ?? '';
  const y = b.content ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}
