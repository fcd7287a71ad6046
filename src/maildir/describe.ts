/**
 * Turning a set of message files that appeared and disappeared into what a person
 * would say happened, folder by folder: "INBOX: 3 delivered, 12 marked read,
 * 1 moved to Archive". These are the words of every verb (status, commit, sync, log),
 * and the event keys behind them are what `--json` gives.
 */
import { flagsOf, parseMessagePath } from './name.js';
import type { Layout } from './layout.js';
import { folderName } from './layout.js';

/** One file that appeared or disappeared. */
export interface Delta {
  path: string;
  oid: string;
}

/**
 * What happened in one folder: event key → count, in first-seen order. A key is a stable
 * machine word (`delivered`, `read`, …) or a word and its argument (`moved_to:Archive`,
 * `keyword_set:$Junk`); {@link eventWords} says it in English, {@link eventsJson} gives
 * the keys to scripts (docs/json.md).
 */
export type FolderEvents = Map<string, number>;

/** Keys for a Maildir flag gained and lost. */
const FLAG_KEYS: Record<string, [string, string]> = {
  S: ['read', 'unread'],
  F: ['flagged', 'unflagged'],
  R: ['replied', 'unreplied'],
  T: ['trashed', 'untrashed'],
  D: ['draft', 'undraft'],
  P: ['forwarded', 'unforwarded'],
};

/** The English of every event key without an argument. */
const WORDS: Record<string, string> = {
  delivered: 'delivered',
  deleted: 'deleted',
  restored: 'restored',
  read: 'marked read',
  unread: 'marked unread',
  flagged: 'flagged',
  unflagged: 'unflagged',
  replied: 'replied',
  unreplied: 'marked unreplied',
  trashed: 'trashed',
  untrashed: 'untrashed',
  draft: 'marked draft',
  undraft: 'unmarked draft',
  forwarded: 'forwarded',
  unforwarded: 'marked unforwarded',
  old: 'no longer new',
  new: 'marked new',
  renamed: 'renamed',
  edited: 'edited in place',
  folder_created: 'folder created',
  folder_removed: 'folder removed',
};

/** The English of event keys with an argument (`moved_to:Archive`). */
const WORDS_WITH: Record<string, (arg: string) => string> = {
  moved_to: (f) => `moved to ${f}`,
  moved_from: (f) => `moved in from ${f}`,
  keyword_set: (k) => `keyword ${k} set`,
  keyword_cleared: (k) => `keyword ${k} cleared`,
  setting_updated: (p) => `updated ${p}`,
  setting_removed: (p) => `removed ${p}`,
};

/** Splits an event key into its word and argument (`moved_to:Archive` → moved_to, Archive). */
function splitKey(key: string): [string, string | null] {
  const i = key.indexOf(':');
  return i < 0 ? [key, null] : [key.slice(0, i), key.slice(i + 1)];
}

/** Says event `key` in English: `read` → "marked read", `moved_to:Archive` → "moved to Archive". */
export function eventWords(key: string): string {
  const [word, arg] = splitKey(key);
  return arg === null ? (WORDS[word] ?? word) : (WORDS_WITH[word]?.(arg) ?? `${word} ${arg}`);
}

function flagEvents(before: string, after: string): string[] {
  const out: string[] = [];
  for (const c of new Set([...before, ...after])) {
    const had = before.includes(c);
    const has = after.includes(c);
    if (had === has) continue;
    const keys = FLAG_KEYS[c];
    out.push(keys ? keys[has ? 0 : 1] : `${has ? 'keyword_set' : 'keyword_cleared'}:${c}`);
  }
  return out;
}

/** Adds one event `key` to `folder`'s counts in `events`. */
export function bumpEvent(events: Map<string, FolderEvents>, folder: string, key: string): void {
  let m = events.get(folder);
  if (!m) events.set(folder, (m = new Map()));
  m.set(key, (m.get(key) ?? 0) + 1);
}

/** The files a change added and removed, and the added copies that stand for removed files (added path → removed path). */
export interface DeltaSet {
  added: readonly Delta[];
  removed: readonly Delta[];
  aliases?: ReadonlyMap<string, string> | undefined;
}

/**
 * Describes a change as events per folder (logical folder names). Renames of one key
 * are flag changes or moves; a blob that left one key and arrived under another is a
 * move too (a client that copies and deletes), and so is an added blob that `aliases`
 * maps to a removed one (a copy the client changed on the way, see repo/copies.ts); a
 * path both added and removed (other bytes under the same name) was edited in place; the
 * rest is delivered or deleted.
 */
export function describeChanges(layout: Layout, { added, removed, aliases }: DeltaSet): Map<string, FolderEvents> {
  const out = new Map<string, FolderEvents>();
  const bump = (folderDir: string, key: string) => bumpEvent(out, folderName(layout, folderDir), key);
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
    // The same name with other bytes: a message edited in place (scan.ts finds it by stat).
    if (a.path === r.path) {
      bump(to.folder, 'edited');
      return;
    }
    if (to.folder !== from.folder) {
      bump(from.folder, `moved_to:${folderName(layout, to.folder)}`);
      bump(to.folder, `moved_from:${folderName(layout, from.folder)}`);
      return;
    }
    // new/ → cur/ is what a client does to every message it has shown: only worth a word
    // when no flag changed with it ("1 marked read", not "1 seen, 1 marked read").
    const events = flagEvents(flagsOf(from.info), flagsOf(to.info));
    // A key renamed with other bytes: edited in place too (before the rename was recorded).
    if (to.key === from.key && a.oid !== r.oid) events.push('edited');
    if (from.sub === 'cur' && to.sub === 'new') events.unshift('new');
    if (from.sub === 'new' && to.sub === 'cur' && events.length === 0) events.push('old');
    if (events.length === 0) events.push('renamed');
    for (const e of events) bump(to.folder, e);
  }
}

function byFolder(events: Map<string, FolderEvents>): [string, FolderEvents][] {
  return [...events].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Formats events as lines `FOLDER: 3 delivered, 1 moved to Archive`, sorted by folder. */
export function formatEvents(events: Map<string, FolderEvents>): string[] {
  return byFolder(events).map(([folder, m]) => `${folder}: ${[...m].map(([key, n]) => `${n} ${eventWords(key)}`).join(', ')}`);
}

/** A count per event word, and per argument for words that take one (docs/json.md). */
export type EventsJson = Record<string, Record<string, number | Record<string, number>>>;

/**
 * Events for `--json`, by folder, with machine keys only:
 * `{"INBOX": {"delivered": 3, "read": 12, "moved_to": {"Archive": 1}}}`.
 */
export function eventsJson(events: Map<string, FolderEvents>): EventsJson {
  const out: EventsJson = {};
  for (const [folder, m] of byFolder(events)) {
    const f: Record<string, number | Record<string, number>> = {};
    for (const [key, n] of m) {
      const [word, arg] = splitKey(key);
      if (arg === null) f[word] = n;
      else f[word] = { ...(f[word] as Record<string, number> | undefined), [arg]: n };
    }
    out[folder] = f;
  }
  return out;
}
