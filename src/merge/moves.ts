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
  const newOurs = newIds(base, ours, theirs);
  if (newOurs.length === 0) return twins;
  const newTheirs = newIds(base, theirs, ours);
  if (newTheirs.length === 0) return twins;
  // Candidate blobs: new on both sides. Then count where else each candidate occurs.
  const theirsBlobs = new Set(newTheirs.map((id) => theirs.get(id)!.blob));
  const candidates = new Set(newOurs.map((id) => ours.get(id)!.blob).filter((b) => theirsBlobs.has(b)));
  if (candidates.size === 0) return twins;
  const count = new Map<string, number>();
  for (const map of [base, ours, theirs]) {
    for (const e of map.values()) if (candidates.has(e.blob)) count.set(e.blob, (count.get(e.blob) ?? 0) + 1);
  }
  const theirsByBlob = new Map(newTheirs.map((id) => [theirs.get(id)!.blob, id]));
  for (const id of newOurs) {
    const blob = ours.get(id)!.blob;
    if (candidates.has(blob) && count.get(blob) === 2) twins.set(id, theirsByBlob.get(blob)!);
  }
  return twins;
}

/** Lists the ids of `side` that are neither in the base nor in `other`. */
function newIds(base: Messages, side: Messages, other: Messages): string[] {
  const out: string[] = [];
  for (const id of side.keys()) if (!base.has(id) && !other.has(id)) out.push(id);
  return out;
}
