/**
 * Rule 6: the same key with different content on the two sides keeps both messages.
 */
import type { MessageEntry } from '../maildir/snapshot.js';
import type { MergeContext } from './context.js';
import { compareStrings, entryPath } from './entries.js';

type Messages = Map<string, MessageEntry>;

/**
 * Returns the key a message is renamed to when another message holds its key:
 * `${key}.mg${first 8 characters of its blob id}`. The new key is also the new id.
 */
export function duplicateKey(key: string, blob: string): string {
  return `${key}.mg${blob.slice(0, 8)}`;
}

/**
 * Renames one of two different messages that share an id. When ours and theirs hold the same
 * id with different blobs and neither blob is the base's (so both sides brought new content
 * under that id), the entry with the smaller blob keeps the id and every entry under that id
 * with another blob, in the base too, moves to the id given by {@link duplicateKey}. Because
 * the choice depends on the blobs only, the rename is the same whichever side is ours, and
 * a later merge with a replica that already did the rename sees equal entries.
 * The input maps are not changed; changed copies are returned when a rename was needed.
 */
export function splitDuplicateKeys(base: Messages, ours: Messages, theirs: Messages, ctx: MergeContext): [Messages, Messages, Messages] {
  const clashes: [string, string][] = [];
  for (const [id, o] of ours) {
    const t = theirs.get(id);
    if (t === undefined || t.blob === o.blob) continue;
    const b = base.get(id);
    if (b !== undefined && (b.blob === o.blob || b.blob === t.blob)) continue;
    clashes.push([id, compareStrings(o.blob, t.blob) <= 0 ? o.blob : t.blob]);
  }
  if (clashes.length === 0) return [base, ours, theirs];
  clashes.sort((a, b) => compareStrings(a[0], b[0]));
  const out: [Messages, Messages, Messages] = [new Map(base), new Map(ours), new Map(theirs)];
  for (const [id, keeper] of clashes) {
    const o = ours.get(id)!;
    const t = theirs.get(id)!;
    for (const map of out) renameAway(map, id, keeper);
    const renamedSide = o.blob === keeper ? 'theirs' : 'ours';
    const moved = renamedSide === 'ours' ? o : t;
    ctx.decide(
      'duplicate-key',
      id,
      'both',
      `${entryPath(o)}: different messages with the same key here and ${ctx.where('theirs')}; ` +
        `kept both, the copy ${ctx.where(renamedSide)} is renamed to ${duplicateKey(moved.key, moved.blob)}`,
    );
  }
  return out;
}

/** Moves the entry at `id` to its duplicate key unless its blob is the keeper. */
function renameAway(map: Messages, id: string, keeper: string): void {
  const e = map.get(id);
  if (e === undefined || e.blob === keeper) return;
  map.delete(id);
  let key = duplicateKey(e.key, e.blob);
  const existing = map.get(key);
  if (existing !== undefined && existing.blob === e.blob) return; // already renamed once: same message
  if (existing !== undefined) key = `${e.key}.mg${e.blob}`;
  map.set(key, { ...e, key });
}
