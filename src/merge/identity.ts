/**
 * Which file is which message. A message is its key, wherever it moves; but a user can copy
 * a message file into another folder (`cp`), and then one key names several files. Those
 * copies are told apart by folder, in all three snapshots alike, so that deleting one copy
 * here and the other there deletes both, and a change to one copy is not read as a move of
 * the other.
 */
import { messagePath } from '../maildir/name.js';
import type { MessageEntry } from '../maildir/snapshot.js';

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
 * `key\0folder` in all three (`key\0path` for two files of one key in one folder), and
 * leaves every other id as it is. Input maps are not changed; they are returned as they
 * are when no key has copies (the common case costs one look at each id).
 */
export function identifyCopies(base: Messages, ours: Messages, theirs: Messages): [Messages, Messages, Messages] {
  const copied = new Set<string>();
  for (const map of [base, ours, theirs]) for (const [id, e] of map) if (id !== e.key) copied.add(e.key);
  if (copied.size === 0) return [base, ours, theirs];
  return [byFolder(base, copied), byFolder(ours, copied), byFolder(theirs, copied)];
}

function byFolder(map: Messages, copied: ReadonlySet<string>): Messages {
  const perFolder = new Map<string, number>();
  for (const e of map.values()) if (copied.has(e.key)) perFolder.set(`${e.key}\0${e.folder}`, (perFolder.get(`${e.key}\0${e.folder}`) ?? 0) + 1);
  const out: Messages = new Map();
  for (const [id, e] of map) {
    if (!copied.has(e.key)) out.set(id, e);
    else {
      const folderId = `${e.key}\0${e.folder}`;
      out.set(perFolder.get(folderId) === 1 ? folderId : `${e.key}\0${messagePath(e)}`, e);
    }
  }
  return out;
}
