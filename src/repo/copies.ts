/**
 * Recognising a move that a client made by copy + delete with a changed copy: mutt and
 * neomutt's `save` writes a new file in the target folder (adding a `Content-Length:`
 * header) and deletes the original, so the blobs differ. For the description of a change
 * (not for the merge) such a pair is still a move when both carry the same Message-ID.
 * Cost: only files that no key or blob explains are read, headers only.
 */
import { CatFile } from '../git/catfile.js';
import { parseMessagePath } from '../maildir/name.js';
import type { Delta } from '../maildir/describe.js';

/** Returns the Message-ID of a raw message (header section only), or null. */
export function messageIdOf(raw: Buffer): string | null {
  const end = raw.indexOf('\n\n') >= 0 ? raw.indexOf('\n\n') : raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end < 0 ? Math.min(raw.length, 65536) : end).toString('latin1');
  const m = /^message-id:[ \t]*(?:\r?\n[ \t]+)?(<[^>\r\n]+>)/im.exec(head);
  return m ? m[1]! : null;
}

/**
 * Returns added blob → removed blob for added and removed messages, in different
 * folders, that no key or blob pairs and that share a Message-ID (one to one).
 */
export async function copyAliases(root: string, added: Delta[], removed: Delta[]): Promise<Map<string, string>> {
  const aliases = new Map<string, string>();
  const keys = new Set(removed.map((r) => parseMessagePath(r.path)!.key));
  const oids = new Set(removed.map((r) => r.oid));
  const addedKeys = new Set(added.map((a) => parseMessagePath(a.path)!.key));
  const addedOids = new Set(added.map((a) => a.oid));
  const lonelyAdded = added.filter((a) => !keys.has(parseMessagePath(a.path)!.key) && !oids.has(a.oid));
  const lonelyRemoved = removed.filter((r) => !addedKeys.has(parseMessagePath(r.path)!.key) && !addedOids.has(r.oid));
  if (lonelyAdded.length === 0 || lonelyRemoved.length === 0 || lonelyAdded.length + lonelyRemoved.length > 20_000) return aliases;
  const cat = new CatFile(root);
  try {
    const byId = new Map<string, Delta[]>();
    for (const r of lonelyRemoved) {
      const id = messageIdOf(await cat.read(r.oid));
      if (id) byId.set(id, [...(byId.get(id) ?? []), r]);
    }
    for (const a of lonelyAdded) {
      const id = messageIdOf(await cat.read(a.oid));
      const list = id ? byId.get(id) : undefined;
      const folder = parseMessagePath(a.path)!.folder;
      const i = list?.findIndex((r) => parseMessagePath(r.path)!.folder !== folder) ?? -1;
      if (list && i >= 0) {
        aliases.set(a.oid, list[i]!.oid);
        list.splice(i, 1);
      }
    }
  } catch {
    // Only a description: when a blob cannot be read, the pair is reported as delete + deliver.
  } finally {
    cat.close();
  }
  return aliases;
}
