/**
 * Small helpers on message entries.
 */
import type { MessageEntry } from '../maildir/snapshot.js';

/** Tells whether two entries (either may be absent) are the same file: every field equal. */
export function sameEntry(a: MessageEntry | undefined, b: MessageEntry | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.folder === b.folder && a.sub === b.sub && a.key === b.key && a.info === b.info && a.blob === b.blob;
}

/** Returns the path of an entry without its info, as users see it: `INBOX/cur/123.abc`. */
export function entryPath(e: MessageEntry): string {
  return e.folder === '' ? `${e.sub}/${e.key}` : `${e.folder}/${e.sub}/${e.key}`;
}

/** Compares two strings in plain code-unit order, for deterministic sorting. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
