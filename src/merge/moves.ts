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
