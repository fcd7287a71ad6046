/**
 * Saying what a tree diff means for a person, folder by folder, in the words every verb
 * uses (maildir/describe.ts).
 */
import type { PathChange } from '../store/types.js';
import { git } from '../git/run.js';
import { describeChanges, formatEvents } from '../maildir/describe.js';
import type { Layout } from '../maildir/layout.js';
import { parseMessagePath } from '../maildir/name.js';

/**
 * Describes the message changes of a diff as "FOLDER: …" lines. `restored` counts, per
 * folder, messages that came back by a restore or an undo rather than by a delivery:
 * that many of the folder's "delivered" are said as "restored".
 */
export function describeDiff(layout: Layout, changes: PathChange[], restored?: ReadonlyMap<string, number>): string[] {
  const added = [];
  const removed = [];
  for (const c of changes) {
    if (!parseMessagePath(c.path)) continue;
    if (c.newOid) added.push({ path: c.path, oid: c.newOid });
    if (c.oldOid) removed.push({ path: c.path, oid: c.oldOid });
  }
  const events = describeChanges(layout, { added, removed });
  for (const [folder, n] of restored ?? []) {
    const m = events.get(folder);
    const delivered = m?.get('delivered') ?? 0;
    const back = Math.min(n, delivered);
    if (!m || back === 0) continue;
    if (back === delivered) m.delete('delivered');
    else m.set('delivered', delivered - back);
    m.set('restored', (m.get('restored') ?? 0) + back);
  }
  const lines = formatEvents(events);
  const settings = changes.filter((c) => c.path.startsWith('.mailgit/')).length;
  if (settings > 0) lines.push(`settings: ${settings} updated`);
  return lines;
}

/**
 * How many messages the commits in `from..to` (what a merge brings) restored, per folder,
 * as their own lines say ("INBOX: 2 restored"). One git process, over those commits only;
 * none without `from` (a first sync: everything is new here).
 */
export async function restoredBetween(cwd: string, from: string | null, to: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (from === null) return counts;
  const out = await git(['log', '--no-merges', '--format=%B', `${from}..${to}`], { cwd });
  for (const line of out.stdout.toString('utf8').split('\n')) {
    const m = /^(.+?): (?:.*, )?(\d+) restored(?:,|$)/.exec(line);
    if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return counts;
}
