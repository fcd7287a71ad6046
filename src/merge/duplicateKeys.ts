/**
 * Rule 6: the same key with different content on the two sides keeps both messages.
 */
import type { MessageEntry } from '../maildir/snapshot.js';
import type { ThreeWay } from './types.js';
import type { MergeContext } from './context.js';
import { compareStrings, entryPath, sameEntry } from './entries.js';

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
export function splitDuplicateKeys({ base, ours, theirs }: ThreeWay<Messages>, ctx: MergeContext): [Messages, Messages, Messages] {
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
    ctx.decide({
      kind: 'duplicate-key',
      id,
      winner: 'both',
      text:
        `${entryPath(o)}: different messages with the same key here and ${ctx.where('theirs')}; ` +
        `kept both, the copy ${ctx.where(renamedSide)} is renamed to ${duplicateKey(moved.key, moved.blob)}`,
    });
  }
  return out;
}

/**
 * Lines up the three maps where a rule-6 rename was made on some of them only, so that each
 * message is the same id everywhere (a message file is never rewritten in place, so a key
 * whose blob differs between two maps names two messages there):
 *  - a side holds the base's blob for an id under an id the base lacks, and another blob
 *    at the old id: an earlier merge moved the message away. The base's entry, and the other
 *    side's when it still holds that message at the old id, are read as being at the new id
 *    (else the new message counts as a change of the old one, and a deletion of the old one
 *    elsewhere deletes the new one and brings the old one back);
 *  - a side holds under an id the blob the base holds under another id, which the side
 *    lacks and the other side changed or deleted: the base (a virtual one, say) made the
 *    rename and the side did not. The side's entry is read as being at the base's id, so
 *    that the other side's change or deletion applies to it instead of keeping the message
 *    twice or bringing it back.
 * When the two sides moved one message to different ids, nothing is carried over. Input maps
 * are not changed; they are returned as they are when nothing needs lining up.
 */
export function followRenames(base: Messages, ours0: Messages, theirs0: Messages): [Messages, Messages, Messages] {
  const [ours, theirs] = [unrenamed(base, ours0, theirs0), unrenamed(base, theirs0, ours0)];
  const proposed = [renamesOf(base, ours), renamesOf(base, theirs)] as const;
  if (proposed[0].size === 0 && proposed[1].size === 0) return [base, ours, theirs];
  const out: [Messages, Messages, Messages] = [new Map(base), new Map(ours), new Map(theirs)];
  for (const [i, renames] of proposed.entries()) {
    const other = i === 0 ? 2 : 1;
    for (const [id, to] of renames) {
      const rival = proposed[1 - i]!.get(id);
      if (rival !== undefined && (rival !== to || i === 1)) continue; // moved apart, or done already
      if (rival === undefined && out[other].has(to)) continue; // the other side has another message there
      const b = base.get(id)!;
      const key = (i === 0 ? ours : theirs).get(to)!.key;
      out[0].delete(id);
      out[0].set(to, { ...b, key });
      const o = out[other].get(id);
      if (o?.blob === b.blob) {
        out[other].delete(id);
        out[other].set(to, { ...o, key });
      }
    }
  }
  return out;
}

/** Indexes a map's ids by blob (the smallest id of each blob), skipping the ids of `skip`. */
function idsByBlob(map: Messages, skip?: Messages): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id, e] of map) {
    const known = out.get(e.blob);
    if (!skip?.has(id) && (known === undefined || id < known)) out.set(e.blob, id);
  }
  return out;
}

/** The renames `side` made by rule 6: base id → the id (absent from the base) now holding its blob. */
function renamesOf(base: Messages, side: Messages): Map<string, string> {
  const out = new Map<string, string>();
  let byBlob: Map<string, string> | undefined;
  for (const [id, b] of base) {
    const s = side.get(id);
    if (s === undefined || s.blob === b.blob) continue;
    byBlob ??= idsByBlob(side, base);
    const to = byBlob.get(b.blob);
    if (to !== undefined) out.set(id, to);
  }
  return out;
}

/**
 * `side` with each entry that holds the blob the base has under another id, which `side`
 * lacks and `other` changed or deleted, moved to that id. (When `other` left it as the base
 * has it, the plain rules already keep the message once, at the side's id.)
 */
function unrenamed(base: Messages, side: Messages, other: Messages): Messages {
  let out: Messages | undefined;
  let byBlob: Map<string, string> | undefined;
  for (const [id, s] of side) {
    const b = base.get(id);
    if (b === undefined || b.blob === s.blob) continue;
    byBlob ??= idsByBlob(base);
    const to = byBlob.get(s.blob);
    if (to === undefined || to === id || side.has(to) || out?.has(to)) continue;
    // Changed there, or deleted there (and not held at `id` too: then neither side renamed).
    const changed = other.get(to);
    if (changed === undefined ? other.get(id)?.blob === s.blob : changed.blob !== s.blob || sameEntry(changed, base.get(to))) continue;
    out ??= new Map(side);
    out.delete(id);
    out.set(to, { ...s, key: base.get(to)!.key });
  }
  return out ?? side;
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
