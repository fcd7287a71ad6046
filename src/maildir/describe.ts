/**
 * Turning a set of message files that appeared and disappeared into what a person
 * would say happened, folder by folder: "INBOX: 3 delivered, 12 marked read,
 * 1 moved to Archive".
 */
import { flagsOf, parseMessagePath } from './name.js';
import type { Layout } from './layout.js';
import { folderName } from './layout.js';

/** One file that appeared or disappeared. */
export interface Delta {
  path: string;
  oid: string;
}

/** What happened in one folder: label → count, in first-seen order. */
export type FolderEvents = Map<string, number>;

const FLAG_WORDS: Record<string, [string, string]> = {
  S: ['marked read', 'marked unread'],
  F: ['flagged', 'unflagged'],
  R: ['replied', 'marked unreplied'],
  T: ['trashed', 'untrashed'],
  D: ['marked draft', 'unmarked draft'],
  P: ['forwarded', 'marked unforwarded'],
};

function flagEvents(before: string, after: string): string[] {
  const out: string[] = [];
  for (const c of new Set([...before, ...after])) {
    const had = before.includes(c);
    const has = after.includes(c);
    if (had === has) continue;
    const words = FLAG_WORDS[c];
    out.push(words ? words[has ? 0 : 1] : `keyword ${c} ${has ? 'set' : 'cleared'}`);
  }
  return out;
}

/**
 * Describes a change as events per folder (logical folder names). Renames of one key
 * are flag changes or moves; a blob that left one key and arrived under another is a
 * move too (a client that copies and deletes), and so is an added blob that `aliases`
 * maps to a removed one (a copy the client changed on the way, see repo/copies.ts); the
 * rest is delivered or deleted.
 */
export function describeChanges(layout: Layout, added: Delta[], removed: Delta[], aliases?: ReadonlyMap<string, string>): Map<string, FolderEvents> {
  const out = new Map<string, FolderEvents>();
  const bump = (folderDir: string, label: string) => {
    const name = folderName(layout, folderDir);
    let m = out.get(name);
    if (!m) out.set(name, (m = new Map()));
    m.set(label, (m.get(label) ?? 0) + 1);
  };
  const removedByKey = new Map<string, Delta[]>();
  const removedByOid = new Map<string, Delta[]>();
  for (const r of removed) {
    const k = parseMessagePath(r.path)!.key;
    removedByKey.set(k, [...(removedByKey.get(k) ?? []), r]);
    removedByOid.set(r.oid, [...(removedByOid.get(r.oid) ?? []), r]);
  }
  const used = new Set<Delta>();
  const take = (list: Delta[] | undefined): Delta | undefined => {
    const d = list?.find((x) => !used.has(x));
    if (d) used.add(d);
    return d;
  };
  const unmatched: Delta[] = [];
  for (const a of added) {
    const from = take(removedByKey.get(parseMessagePath(a.path)!.key));
    if (from) pair(a, from);
    else unmatched.push(a);
  }
  for (const a of unmatched) {
    const alias = aliases?.get(a.oid);
    const from = take(removedByOid.get(a.oid)) ?? (alias ? take(removedByOid.get(alias)) : undefined);
    const to = parseMessagePath(a.path)!;
    if (from) pair(a, from);
    else bump(to.folder, 'delivered');
  }
  for (const r of removed) if (!used.has(r)) bump(parseMessagePath(r.path)!.folder, 'deleted');
  return out;

  function pair(a: Delta, r: Delta): void {
    const to = parseMessagePath(a.path)!;
    const from = parseMessagePath(r.path)!;
    if (to.folder !== from.folder) {
      bump(from.folder, `moved to ${folderName(layout, to.folder)}`);
      bump(to.folder, `moved in from ${folderName(layout, from.folder)}`);
      return;
    }
    const events = flagEvents(flagsOf(from.info), flagsOf(to.info));
    if (from.sub === 'new' && to.sub === 'cur') events.unshift('seen');
    if (from.sub === 'cur' && to.sub === 'new') events.unshift('marked new');
    if (events.length === 0) events.push('renamed');
    for (const e of events) bump(to.folder, e);
  }
}

/** Formats events as lines `FOLDER: 3 delivered, 1 moved to Archive`, sorted by folder. */
export function formatEvents(events: Map<string, FolderEvents>): string[] {
  return [...events]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([folder, m]) => `${folder}: ${[...m].map(([label, n]) => `${n} ${label}`).join(', ')}`);
}
