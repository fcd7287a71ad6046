/**
 * Rule 7: recognising a move by content (copy under a new key, then delete the old one).
 */
import type { MessageEntry } from '../maildir/snapshot.js';
import { compareStrings, sameEntry } from './entries.js';

type Messages = Map<string, MessageEntry>;

/**
 * Finds the messages that `side` moved under a new id while `other` did something to the old
 * one. A pair old → new is reported when the old id is in the base and gone from `side`,
 * `other` changed or deleted it (when `other` left it untouched the plain three-way rules
 * already give the right answer), and the new id is absent from the base and from `other`
 * and holds the same blob. When several ids qualify they are paired in sorted order, so the
 * answer depends only on the three maps and the merge stays symmetric.
 */
export function findMoves(base: Messages, side: Messages, other: Messages): Map<string, string> {
  const moves = new Map<string, string>();
  const olds: string[] = [];
  for (const [id, b] of base) {
    if (side.has(id)) continue;
    if (sameEntry(b, other.get(id))) continue;
    olds.push(id);
  }
  if (olds.length === 0) return moves;
  const wanted = new Set(olds.map((id) => base.get(id)!.blob));
  const byBlob = new Map<string, string[]>();
  for (const [id, e] of side) {
    if (!wanted.has(e.blob) || base.has(id) || other.has(id)) continue;
    const list = byBlob.get(e.blob);
    if (list === undefined) byBlob.set(e.blob, [id]);
    else list.push(id);
  }
  if (byBlob.size === 0) return moves;
  for (const list of byBlob.values()) list.sort(compareStrings);
  olds.sort(compareStrings);
  for (const id of olds) {
    const list = byBlob.get(base.get(id)!.blob);
    const next = list?.shift();
    if (next !== undefined) moves.set(id, next);
  }
  return moves;
}

/**
 * Finds the same message added on both sides under different ids: a blob that is in neither
 * the base nor anywhere else on either side, new on ours under exactly one id and new on
 * theirs under exactly one other id. That happens when both replicas fetched a message and
 * one of them then moved it by copy + delete before they synced. Returns ours' id → theirs'
 * id. The answer is symmetric: swapping the sides inverts the map.
 */
export function findTwins(base: Messages, ours: Messages, theirs: Messages): Map<string, string> {
  const twins = new Map<string, string>();
  const onlyOurs = soleNewIds(base, ours, theirs);
  if (onlyOurs.size === 0) return twins;
  const onlyTheirs = soleNewIds(base, theirs, ours);
  if (onlyTheirs.size === 0) return twins;
  const baseBlobs = new Set<string>();
  for (const e of base.values()) if (onlyOurs.has(e.blob)) baseBlobs.add(e.blob);
  for (const [blob, o] of onlyOurs) {
    const t = onlyTheirs.get(blob);
    if (o !== undefined && t !== undefined && !baseBlobs.has(blob)) twins.set(o, t);
  }
  return twins;
}

/**
 * Maps each blob held by exactly one id of `side` to that id, when the id is new (absent from
 * the base and from `other`); blobs held by several ids of `side` map to undefined.
 */
function soleNewIds(base: Messages, side: Messages, other: Messages): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const [id, e] of side) {
    if (out.has(e.blob)) out.set(e.blob, undefined);
    else out.set(e.blob, base.has(id) || other.has(id) ? undefined : id);
  }
  for (const [blob, id] of out) if (id === undefined) out.delete(blob);
  return out;
}
