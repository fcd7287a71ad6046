/**
 * Saying what a tree diff means for a person, folder by folder.
 */
import type { PathChange } from '../store/types.js';
import { describeChanges, formatEvents } from '../maildir/describe.js';
import type { Layout } from '../maildir/layout.js';
import { parseMessagePath } from '../maildir/name.js';

/** Describes the message changes of a diff as "FOLDER: …" lines. */
export function describeDiff(layout: Layout, changes: PathChange[]): string[] {
  const added = [];
  const removed = [];
  for (const c of changes) {
    if (!parseMessagePath(c.path)) continue;
    if (c.newOid) added.push({ path: c.path, oid: c.newOid });
    if (c.oldOid) removed.push({ path: c.path, oid: c.oldOid });
  }
  const lines = formatEvents(describeChanges(layout, added, removed));
  const settings = changes.filter((c) => c.path.startsWith('.mailgit/')).length;
  if (settings > 0) lines.push(`settings: ${settings} updated`);
  return lines;
}
