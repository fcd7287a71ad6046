/**
 * Rule 7: recognising a move by content (copy under a new key, then delete the old one).
 */
import type { MessageEntry } from '../maildir/snapshot.js';
import type { MergeContext } from './context.js';
import type { ThreeWay } from './types.js';
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
  // Both sides moved it to one new id (the same move on both): rule 3 merges that id, and
  // any other new file of that content here is a copy, not this message moved elsewhere.
  const sharedNew = new Set<string>();
  for (const [id, e] of side) if (!base.has(id) && other.get(id)?.blob === e.blob) sharedNew.add(e.blob);
  if (sharedNew.size > 0) olds.splice(0, olds.length, ...olds.filter((id) => other.has(id) || !sharedNew.has(base.get(id)!.blob)));
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
    const b = base.get(id)!;
    const list = byBlob.get(b.blob);
    if (list === undefined || list.length === 0) continue;
    // A file in the old folder first (a rename in place), then one under another key (a
    // client's move renames; a cp into another folder keeps the key), then in id order.
    const inOldFolder = list.findIndex((n) => side.get(n)!.folder === b.folder);
    const i = Math.max(0, inOldFolder >= 0 ? inOldFolder : list.findIndex((n) => side.get(n)!.key !== b.key));
    moves.set(id, list.splice(i, 1)[0]!);
  }
  return moves;
}

/**
 * Reads a file that `side` holds in another folder than the base under the base's id as a
 * copy, when `side` also holds the base's content under a new id (in any folder) and `other`
 * changed the message: a user copied the message into that folder (`cp` keeps the key) and
 * then renamed or moved the original by copy + delete (a client's rename or move gives it a
 * new key), so the original is the new id (rule 7 pairs them) and the file under the old key
 * a copy, which the other side's change leaves alone. The copy gets the id `key\0folder` (see
 * `identifyCopies`). Returns `side` itself when no file is read so.
 */
export function copiesLeftBehind(base: Messages, side: Messages, other: Messages): Messages {
  let out: Messages | undefined;
  let renamed: Map<string, string[]> | undefined;
  for (const [id, b] of base) {
    const s = side.get(id);
    if (s === undefined || s.blob !== b.blob || s.folder === b.folder || id !== s.key || sameEntry(b, other.get(id))) continue;
    renamed ??= newKeysByBlob(base, side, other);
    if (!(renamed.get(b.blob) ?? []).some((key) => key !== b.key)) continue;
    out ??= new Map(side);
    out.delete(id);
    out.set(`${s.key}\0${s.folder}`, s);
  }
  return out ?? side;
}

/** The keys of the ids `side` holds that are in neither the base nor `other`, by blob. */
function newKeysByBlob(base: Messages, side: Messages, other: Messages): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [id, e] of side) if (!base.has(id) && !other.has(id)) out.set(e.blob, [...(out.get(e.blob) ?? []), e.key]);
  return out;
}

/**
 * Finds the same message added on both sides under different ids (rule 3 across ids), in
 * two cases:
 *  - a blob that is in no base entry and new on both sides, where a side holds it under
 *    one key only (several files of one key are copies of one message, a user's `cp`). That
 *    happens when both replicas fetched a message and one of them then moved it by copy +
 *    delete before they synced, or when both renamed the original under two keys and the
 *    base lacks it (it took a deletion both sides overrode);
 *  - files of one key and blob that the base holds too, new on both sides in different
 *    folders: copies of a key are told apart by folder (`identifyCopies`), so the original
 *    moved here and kept (flagged) there has two ids when the base lacks it (a virtual base
 *    that took a deletion of it in one merge base, say). A side that removed base files of
 *    that key and blob moved them (rule 7, when the other side left them alone), so only its
 *    new files beyond those count as added there: a copy made on one side is never paired
 *    with a file the other side moved.
 * Ids in `moved` (rule 7's pairs, already merged) are left out; `oneMessage` decides files
 * of one key in two folders. The new files are paired folder by folder first, then by id;
 * returns ours' id → theirs' id. The answer is symmetric: swapping the sides inverts the map.
 */
export function findTwins({ base, ours, theirs }: ThreeWay<Messages>, a: { moved: ReadonlySet<string>; oneMessage: OneMessage }): Map<string, string> {
  const { moved, oneMessage } = a;
  const twins = new Map<string, string>();
  const newOurs = newIds({ base, side: ours, other: theirs }, moved);
  if (newOurs.length === 0) return twins;
  const newTheirs = newIds({ base, side: theirs, other: ours }, moved);
  if (newTheirs.length === 0) return twins;
  // Candidate blobs: new on both sides. Then check where else each candidate occurs.
  const theirsBlobs = new Set(newTheirs.map((id) => theirs.get(id)!.blob));
  const candidates = new Set(newOurs.map((id) => ours.get(id)!.blob).filter((b) => theirsBlobs.has(b)));
  if (candidates.size === 0) return twins;
  const held = new Map<string, string[]>();
  for (const [id, e] of base) if (candidates.has(e.blob)) held.set(e.blob, [...(held.get(e.blob) ?? []), id]);
  for (const blob of held.keys()) candidates.delete(blob);
  if (held.size > 0) pairCopies({ held, newOurs, newTheirs, maps: [base, ours, theirs], moved, twins, oneMessage });
  if (candidates.size > 0) pairFetched({ candidates, newOurs, newTheirs, maps: [ours, theirs], twins, oneMessage });
  return twins;
}

/**
 * The first case of {@link findTwins}: pairs the new files of each blob in `candidates` (in no
 * base entry) on both sides when a side holds the blob under one key only: its files are one
 * message and its `cp`s, so each is one of the other side's files (by folder first), whatever
 * keys those have (a cp left under the old key beside the renamed original). Two files of
 * one key in two folders are paired only as {@link pairCopies} pairs them, when history
 * shows one side moved it out of the other's folder: else they are two `cp`s of a message
 * both replicas fetched.
 */
function pairFetched(a: {
  candidates: ReadonlySet<string>;
  newOurs: string[];
  newTheirs: string[];
  maps: [Messages, Messages];
  twins: Map<string, string>;
  oneMessage: OneMessage;
}): void {
  const [ours, theirs] = a.maps;
  const oneKey = (map: Messages) => {
    const keys = new Map<string, string | null>();
    for (const e of map.values()) if (a.candidates.has(e.blob)) keys.set(e.blob, keys.has(e.blob) && keys.get(e.blob) !== e.key ? null : e.key);
    return keys;
  };
  const [keysOurs, keysTheirs] = [oneKey(ours), oneKey(theirs)];
  const byBlob = (ids: string[], map: Messages) => {
    const out = new Map<string, string[]>();
    for (const id of [...ids].sort(compareStrings)) {
      const blob = map.get(id)!.blob;
      if (typeof keysOurs.get(blob) === 'string' || typeof keysTheirs.get(blob) === 'string') out.set(blob, [...(out.get(blob) ?? []), id]);
    }
    return out;
  };
  const theirsByBlob = byBlob(a.newTheirs, theirs);
  const may = (o: MessageEntry, t: MessageEntry) => o.key !== t.key || a.oneMessage(o, t);
  for (const [blob, idsOurs] of byBlob(a.newOurs, ours)) {
    pair({ idsOurs, idsTheirs: theirsByBlob.get(blob) ?? [], maps: [ours, theirs], may, limit: Infinity, twins: a.twins });
  }
}

/** Tells whether `o` (new here) and `t` (new there), files of one key in two folders, are one message. */
export type OneMessage = (o: MessageEntry, t: MessageEntry) => boolean;

/**
 * Decides by history whether two files of one key in two folders, new on the two sides, are
 * one message (else two `cp`s): a side changed that key's files in the other's folder since
 * the merge base (it held the message there and moved it on), or both sides changed them in
 * a third folder where none of the three maps holds the key (both moved it out of there, and
 * the base lost it to a deletion both moves won against). The folders looked at for the
 * third are those of the three maps, listed only when the first test fails (a rare case).
 */
export function oneMessageByHistory(ctx: MergeContext, maps: [Messages, Messages, Messages]): OneMessage {
  let folders: string[] | undefined;
  const holds = (m: Messages, key: string, folder: string) => m.get(key)?.folder === folder || m.has(`${key}\0${folder}`);
  const both = (name: string) => [ctx.changedSinceBase('ours', name), ctx.changedSinceBase('theirs', name)].every(Boolean);
  return (o, t) => {
    const across = [ctx.changedSinceBase('ours', `${t.key}\0${t.folder}`), ctx.changedSinceBase('theirs', `${o.key}\0${o.folder}`)];
    if (across.some(Boolean)) return true;
    folders ??= [...new Set(maps.flatMap((m) => [...m.values()].map((e) => e.folder)))].sort(compareStrings);
    return folders.some((f) => f !== o.folder && f !== t.folder && !maps.some((m) => holds(m, o.key, f)) && both(`${o.key}\0${f}`));
  };
}

/**
 * The second case of {@link findTwins}: pairs the new files of each key and blob in `held`
 * (blob → the base ids holding it) on both sides, as many as each side added beyond the base
 * files of that key and blob it removed (and rule 7 did not pair). A file new here in folder
 * Y and one new there in folder Z are one message only when history says so
 * ({@link oneMessageByHistory}): the original, moved out and missing from a virtual base.
 * Two `cp`s into two folders on two replicas touch nothing in each other's folder, so both
 * copies stay. Which pairs are taken depends on the ids alone (`pair`), so it is symmetric.
 */
function pairCopies(a: {
  held: Map<string, string[]>;
  newOurs: string[];
  newTheirs: string[];
  maps: [Messages, Messages, Messages];
  moved: ReadonlySet<string>;
  twins: Map<string, string>;
  oneMessage: OneMessage;
}): void {
  const [base, ours, theirs] = a.maps;
  const byKey = (ids: string[], map: Messages) => {
    const out = new Map<string, string[]>();
    for (const id of [...ids].sort(compareStrings)) {
      const e = map.get(id)!;
      if (!a.held.has(e.blob)) continue;
      const group = `${e.key}\0${e.blob}`;
      out.set(group, [...(out.get(group) ?? []), id]);
    }
    return out;
  };
  const theirsByKey = byKey(a.newTheirs, theirs);
  for (const [group, idsOurs] of byKey(a.newOurs, ours)) {
    const idsTheirs = theirsByKey.get(group);
    if (idsTheirs === undefined) continue;
    const { key, blob } = ours.get(idsOurs[0]!)!;
    const removed = (side: Messages) => a.held.get(blob)!.filter((id) => base.get(id)!.key === key && !side.has(id) && !a.moved.has(id)).length;
    const limit = Math.min(idsOurs.length - removed(ours), idsTheirs.length - removed(theirs));
    pair({ idsOurs, idsTheirs, maps: [ours, theirs], may: a.oneMessage, limit, twins: a.twins });
  }
}

/**
 * Pairs ids of ours with ids of theirs into `twins`, at most `limit` pairs, each one `may`
 * allow: pairs within one folder first, then by the smaller id of a pair and then the larger,
 * so that swapping the sides gives the mirrored pairs.
 */
function pair(a: {
  idsOurs: string[];
  idsTheirs: string[];
  maps: [Messages, Messages];
  may: (o: MessageEntry, t: MessageEntry) => boolean;
  limit: number;
  twins: Map<string, string>;
}): void {
  const [ours, theirs] = a.maps;
  const rank = ([o, t]: [string, string]) => (ours.get(o)!.folder === theirs.get(t)!.folder ? 0 : 1);
  const smaller = ([o, t]: [string, string]) => (o < t ? o : t);
  const larger = ([o, t]: [string, string]) => (o < t ? t : o);
  const pairs = a.idsOurs.flatMap((o) => a.idsTheirs.map((t) => [o, t] as [string, string])).filter(([o, t]) => a.may(ours.get(o)!, theirs.get(t)!));
  pairs.sort((x, y) => rank(x) - rank(y) || compareStrings(smaller(x), smaller(y)) || compareStrings(larger(x), larger(y)));
  const taken = new Set<string>();
  let left = a.limit;
  for (const [o, t] of pairs) {
    if (left <= 0) break;
    if (taken.has(o) || taken.has(t)) continue;
    taken.add(o).add(t);
    a.twins.set(o, t);
    left--;
  }
}

/** Lists the ids of `side` that are neither in the base nor in `other` nor in `moved`. */
function newIds({ base, side, other }: { base: Messages; side: Messages; other: Messages }, moved: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const id of side.keys()) if (!base.has(id) && !other.has(id) && !moved.has(id)) out.push(id);
  return out;
}
