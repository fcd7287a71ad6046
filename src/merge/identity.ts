/**
 * Which file is which message. A message is its key, wherever it moves; but a user can copy
 * a message file into another folder (`cp`), and then one key names several files. Those
 * copies are told apart by folder, in all three snapshots alike, so that deleting one copy
 * here and the other there deletes both, and a change to one copy is not read as a move of
 * the other.
 */
import { messagePath, parseMessagePath } from '../maildir/name.js';
import type { MessageEntry } from '../maildir/snapshot.js';
import { duplicateKey } from './duplicateKeys.js';

type Messages = Map<string, MessageEntry>;

/**
 * Builds a message map with canonical ids from entries: a key's first file in path order
 * has the key as its id, any further file of that key `key\0path`. The map is in id order.
 */
export function messageMap(entries: Iterable<MessageEntry>): Messages {
  const withPath = [...entries].map((e) => [messagePath(e), e] as const);
  withPath.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const byId = new Map<string, MessageEntry>();
  for (const [path, e] of withPath) byId.set(byId.has(e.key) ? `${e.key}\0${path}` : e.key, e);
  const out: Messages = new Map();
  for (const id of [...byId.keys()].sort()) out.set(id, byId.get(id)!);
  return out;
}

/**
 * Gives the files of every key that has several files in any of the three maps the id
 * `key\0folder` in all three (for two files of one key in one folder, the first by path;
 * the others `key\0path`), and leaves every other id as it is. Input maps are not changed;
 * they are returned as they are when no key has copies (the common case costs one look at
 * each id).
 */
export function identifyCopies(base: Messages, ours: Messages, theirs: Messages): [Messages, Messages, Messages] {
  const copied = new Set<string>();
  for (const map of [base, ours, theirs]) for (const [id, e] of map) if (id !== e.key) copied.add(e.key);
  if (copied.size === 0) return [base, ours, theirs];
  return [byFolder(base, copied), byFolder(ours, copied), byFolder(theirs, copied)];
}

function byFolder(map: Messages, copied: ReadonlySet<string>): Messages {
  const first = new Map<string, string>();
  for (const e of map.values()) {
    if (!copied.has(e.key)) continue;
    const id = `${e.key}\0${e.folder}`;
    const path = messagePath(e);
    const known = first.get(id);
    if (known === undefined || path < known) first.set(id, path);
  }
  const out: Messages = new Map();
  for (const [id, e] of map) {
    if (!copied.has(e.key)) out.set(id, e);
    else {
      const folderId = `${e.key}\0${e.folder}`;
      const path = messagePath(e);
      out.set(first.get(folderId) === path ? folderId : `${e.key}\0${path}`, e);
    }
  }
  return out;
}

/**
 * Makes sure no two merged messages share a file name: of entries at one path, one with
 * each blob is kept, the smallest blob at the path and any other renamed to its duplicate
 * key (rule 6). Copies of one key can meet this way, e.g. two files of a key in one folder
 * on one side and one on the other. Depends on the values only, so the merge stays symmetric.
 */
export function separatePaths(entries: Iterable<MessageEntry>): MessageEntry[] {
  const byPath = new Map<string, MessageEntry[]>();
  for (const e of entries) {
    const path = messagePath(e);
    const list = byPath.get(path);
    if (list === undefined) byPath.set(path, [e]);
    else list.push(e);
  }
  const out: MessageEntry[] = [];
  for (const list of byPath.values()) {
    if (list.length === 1) {
      out.push(list[0]!);
      continue;
    }
    const blobs = [...new Map(list.map((e) => [e.blob, e])).values()].sort((a, b) => (a.blob < b.blob ? -1 : a.blob > b.blob ? 1 : 0));
    out.push(blobs[0]!, ...blobs.slice(1).map((e) => ({ ...e, key: duplicateKey(e.key, e.blob) })));
  }
  return out;
}

/**
 * The name under which a side's change to a message is looked up in history (see
 * `MergeSide.changes`): its key, or for one of several copies of a key (an id with a NUL,
 * see {@link identifyCopies}) `key\0folder`, so that a change to one copy is not taken
 * for a change to the other.
 */
export function changeName(id: string, e: MessageEntry): string {
  return id.includes('\0') ? `${e.key}\0${e.folder}` : e.key;
}

/** The change names a file at `path` falls under: its key, and for a message `key\0folder`. */
export function changeNamesOf(path: string): string[] {
  const m = parseMessagePath(path);
  if (m) return [m.key, `${m.key}\0${m.folder}`];
  const name = path.slice(path.lastIndexOf('/') + 1);
  const colon = name.indexOf(':');
  return [colon < 0 ? name : name.slice(0, colon)];
}
