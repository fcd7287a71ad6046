/**
 * The message half of the merge: rules 1–7, id by id.
 */
import type { MessageEntry, Sub } from '../maildir/snapshot.js';
import type { Contest, MergeContext } from './context.js';
import { followRenames, splitDuplicateKeys } from './duplicateKeys.js';
import { changeName, identifyCopies, messageMap, separatePaths } from './identity.js';
import { compareStrings, entryPath, sameEntry } from './entries.js';
import { flagsOf } from '../maildir/name.js';
import { mergeFlags } from './flags.js';
import { chooseInfo } from './info.js';
import { copiesLeftBehind, findMoves, findTwins, type OneMessage, oneMessageByHistory } from './moves.js';
import type { ThreeWay } from './types.js';

type Messages = Map<string, MessageEntry>;
type Side = 'ours' | 'theirs';

/**
 * Merges the message maps of base, ours and theirs. Returns a new map in sorted id order,
 * with canonical ids (`messageMap`); entries that come through unchanged are shared with
 * the inputs, which are never modified. Decisions are recorded in `ctx`.
 */
export function mergeMessages({ base: base0, ours: ours0, theirs: theirs0 }: ThreeWay<Messages>, ctx: MergeContext): Messages {
  const [b1, o1, t1] = followRenames(...identifyCopies(base0, ours0, theirs0));
  const [base, ours1, theirs1] = splitDuplicateKeys({ base: b1, ours: o1, theirs: t1 }, ctx);
  const [ours, theirs] = [copiesLeftBehind(base, ours1, theirs1), copiesLeftBehind(base, theirs1, ours1)];
  const sides = { base, ours, theirs };
  const out = new Map<string, MessageEntry>();
  const done = new Set<string>();
  const oneMessage = oneMessageByHistory(ctx, [base, ours, theirs]);
  let inputs: Set<MessageEntry> | undefined;
  const given = (e: MessageEntry) => (inputs ??= new Set([...ours0.values(), ...theirs0.values()])).has(e);

  const movesOurs = findMoves(base, ours, theirs);
  const movesTheirs = findMoves(base, theirs, ours);
  if (movesOurs.size > 0 || movesTheirs.size > 0) {
    const olds = [...new Set([...movesOurs.keys(), ...movesTheirs.keys()])].sort(compareStrings);
    for (const old of olds) {
      const toOurs = movesOurs.get(old);
      const toTheirs = movesTheirs.get(old);
      done.add(old);
      if (toOurs !== undefined) done.add(toOurs);
      if (toTheirs !== undefined) done.add(toTheirs);
      const kept = mergeMoved({ old, toOurs, toTheirs }, sides, ctx);
      if (kept !== undefined) out.set(kept[0], kept[1]);
    }
  }

  for (const [idOurs, idTheirs] of findTwins(sides, { moved: done, oneMessage })) {
    done.add(idOurs);
    done.add(idTheirs);
    const kept = mergeTwins([idOurs, idTheirs], sides, ctx);
    out.set(kept[0], kept[1]);
  }

  // Every id once: ours', then theirs' not in ours, then the base's in neither side.
  for (const [id, o] of ours) {
    if (done.has(id)) continue;
    const t = theirs.get(id);
    if (t !== undefined && twoCopies({ base: base.get(id), ours: o, theirs: t }, { oneMessage, given })) {
      out.set(`${id}\0${o.folder}`, o);
      out.set(`${id}\0${t.folder}`, t);
      continue;
    }
    const e = mergeOne(id, { base: base.get(id), ours: o, theirs: t }, ctx);
    if (e !== undefined) out.set(id, e);
  }
  for (const [id, t] of theirs) {
    if (done.has(id) || ours.has(id)) continue;
    const e = mergeOne(id, { base: base.get(id), ours: undefined, theirs: t }, ctx);
    if (e !== undefined) out.set(id, e);
  }
  for (const [id, b] of base) {
    if (done.has(id) || ours.has(id) || theirs.has(id)) continue;
    const e = mergeOne(id, { base: b, ours: undefined, theirs: undefined }, ctx);
    if (e !== undefined) out.set(id, e);
  }
  if ([...out].some(([id, e]) => id !== e.key)) return messageMap(separatePaths(out.values()));
  // Default sort compares UTF-16 code units, the same order as compareStrings, and is faster.
  const sorted = new Map<string, MessageEntry>();
  for (const id of [...out.keys()].sort()) sorted.set(id, out.get(id)!);
  return sorted;
}

/**
 * Tells whether one key new on both sides (not in the base) with one content in two folders
 * is two `cp`s, not one message: as for copies (`findTwins`), it is one message only when
 * history shows a side changed that key's files in the other's folder since the base. A
 * merge of partial snapshots (only the files either side changed, as a sync builds them)
 * meets two users' cps this way, without the original they copied, which neither changed.
 * Only files the sides hold as they are (`given`) are asked about: a key this merge made
 * (rule 6's rename of one of two contents under one key) has no history of its own.
 */
function twoCopies(
  { base: b, ours: o, theirs: t }: ThreeWay<MessageEntry | undefined, MessageEntry>,
  a: { oneMessage: OneMessage; given: (e: MessageEntry) => boolean },
): boolean {
  return b === undefined && o.blob === t.blob && o.folder !== t.folder && a.given(o) && a.given(t) && !a.oneMessage(o, t);
}

/** Merges one id by the three-way rules (1–5); returns undefined when it ends deleted. */
function mergeOne(id: string, { base: b, ours: o, theirs: t }: ThreeWay<MessageEntry | undefined>, ctx: MergeContext): MessageEntry | undefined {
  if (sameEntry(o, t)) return o;
  if (sameEntry(b, o)) return t;
  if (sameEntry(b, t)) return o;
  if (o === undefined || t === undefined) {
    // Both changed, one by deleting: b is defined here, otherwise one side would equal it.
    const changer: Side = o === undefined ? 'theirs' : 'ours';
    const deleter: Side = changer === 'ours' ? 'theirs' : 'ours';
    const changed = (o ?? t)!;
    // A message file is never rewritten in place: other content under the id is another
    // message that came after the base's one was removed there too. Both sides removed it.
    if (changed.blob !== b!.blob) return changed;
    const c = ctx.contest(changeName(id, o ?? b!), changeName(id, t ?? b!));
    const winner = c.winner(changer);
    ctx.decide({
      kind: 'delete-vs-change',
      id,
      winner,
      text:
        `${entryPath(b!)}: deleted ${c.by(deleter)} and ${describeChange(b!, changed, ctx)} ` +
        `${c.by(changer)}; ${winner === changer ? 'kept it' : 'deleted it'}: ${c.why(winner)}`,
    });
    return winner === changer ? changed : undefined;
  }
  const label = entryPath(b ?? o);
  const m = combine({ id, label, contest: ctx.contest(changeName(id, o), changeName(id, t)) }, { base: b, ours: o, theirs: t }, ctx);
  return { ...m, key: pick3(b?.key, o.key, t.key) };
}

/** The attributes of a merged message other than its key. */
type Combined = Omit<MessageEntry, 'key'>;

/**
 * Merges two present versions of one message attribute by attribute: folder three-way with
 * last-writer-wins when both moved it to different folders (a recorded decision), `sub`
 * three-way with `cur` winning when there is no base, flags letter by letter, and the info
 * chosen by {@link chooseInfo}. `c` orders the two sides' changes to the message.
 */
function combine(
  { id, label, contest: c }: { id: string; label: string; contest: Contest },
  { base: b, ours: o, theirs: t }: ThreeWay<MessageEntry | undefined, MessageEntry>,
  ctx: MergeContext,
): Combined {
  let folder: string;
  if (o.folder === t.folder) folder = o.folder;
  else if (b !== undefined && b.folder === o.folder) folder = t.folder;
  else if (b !== undefined && b.folder === t.folder) folder = o.folder;
  else {
    const winner = c.winner(o.folder < t.folder ? 'ours' : 'theirs');
    folder = winner === 'ours' ? o.folder : t.folder;
    const verb = b === undefined ? 'is in' : 'moved to';
    const prep = b === undefined ? 'in' : 'to';
    ctx.decide({
      kind: 'move-conflict',
      id,
      winner,
      text:
        `${label}: ${verb} ${ctx.folderName(o.folder)} ${c.by('ours')} and ${prep} ${ctx.folderName(t.folder)} ` +
        `${c.by('theirs')}; kept ${ctx.folderName(folder)}: ${c.why(winner)}`,
    });
  }
  let sub: Sub;
  if (o.sub === t.sub) sub = o.sub;
  else if (b !== undefined && b.sub === o.sub) sub = t.sub;
  else if (b !== undefined && b.sub === t.sub) sub = o.sub;
  else sub = 'cur';
  const flags = mergeFlags(b === undefined ? undefined : flagsOf(b.info), flagsOf(o.info), flagsOf(t.info));
  return { folder, sub, info: chooseInfo({ flags, sub }, { base: b, ours: o, theirs: t }), blob: pick3(b?.blob, o.blob, t.blob) };
}

/** Three-way merge of a plain value; when both sides changed it differently the smaller wins. */
function pick3(b: string | undefined, o: string, t: string): string {
  if (o === t) return o;
  if (b === o) return t;
  if (b === t) return o;
  return o < t ? o : t;
}

/**
 * Rule 7: `old` was moved under a new id by copy + delete on one side (`toOurs`, `toTheirs`)
 * or on both. Returns the surviving `[id, entry]`, or undefined when a deletion won.
 * The old id stays deleted in every case.
 */
function mergeMoved(
  { old, toOurs, toTheirs }: { old: string; toOurs: string | undefined; toTheirs: string | undefined },
  { base, ours, theirs }: ThreeWay<Messages>,
  ctx: MergeContext,
): [string, MessageEntry] | undefined {
  const b = base.get(old)!;
  const label = entryPath(b);
  if (toOurs !== undefined && toTheirs !== undefined) {
    const o = ours.get(toOurs)!;
    const t = theirs.get(toTheirs)!;
    const c = ctx.contest(changeName(toOurs, o), changeName(toTheirs, t));
    const m = combine({ id: old, label, contest: c }, { base: b, ours: o, theirs: t }, ctx);
    const tie = o.folder !== t.folder ? o.folder < t.folder : toOurs < toTheirs;
    const keep = c.winner(tie ? 'ours' : 'theirs');
    return keep === 'ours' ? [toOurs, { ...m, key: o.key }] : [toTheirs, { ...m, key: t.key }];
  }
  const mover: Side = toOurs !== undefined ? 'ours' : 'theirs';
  const other: Side = mover === 'ours' ? 'theirs' : 'ours';
  const newId = (toOurs ?? toTheirs)!;
  const moved = (mover === 'ours' ? ours : theirs).get(newId)!;
  const changed = (other === 'ours' ? ours : theirs).get(old);
  const [nameMoved, nameOther] = [changeName(newId, moved), changeName(old, changed ?? b)];
  const c = mover === 'ours' ? ctx.contest(nameMoved, nameOther) : ctx.contest(nameOther, nameMoved);
  if (changed === undefined) {
    const winner = c.winner(mover);
    ctx.decide({
      kind: 'delete-vs-change',
      id: old,
      winner,
      text:
        `${label}: moved to ${ctx.folderName(moved.folder)} (as ${moved.key}) ${c.by(mover)} and deleted ` +
        `${c.by(other)}; ${winner === mover ? 'kept it' : 'deleted it'}: ${c.why(winner)}`,
    });
    return winner === mover ? [newId, moved] : undefined;
  }
  const m =
    mover === 'ours'
      ? combine({ id: old, label, contest: c }, { base: b, ours: moved, theirs: changed }, ctx)
      : combine({ id: old, label, contest: c }, { base: b, ours: changed, theirs: moved }, ctx);
  if (changed.folder === b.folder) {
    ctx.decide({
      kind: 'flag-vs-move',
      id: old,
      winner: 'both',
      text:
        `${label}: moved to ${ctx.folderName(moved.folder)} (as ${moved.key}) ${ctx.where(mover)} and ` +
        `${describeChange(b, changed, ctx)} ${ctx.where(other)}; applied both to the moved message`,
    });
  }
  return [newId, { ...m, key: moved.key }];
}

/**
 * The same message new on both sides under two ids (see `findTwins`): one copy is kept, merged
 * as when both sides add the same id (folder by last writer, `cur` wins, flags united), under
 * the id of the side whose folder won (the later change when the folders agree).
 */
function mergeTwins([idOurs, idTheirs]: [string, string], { ours, theirs }: ThreeWay<Messages>, ctx: MergeContext): [string, MessageEntry] {
  const o = ours.get(idOurs)!;
  const t = theirs.get(idTheirs)!;
  const id = idOurs < idTheirs ? idOurs : idTheirs;
  const c = ctx.contest(changeName(idOurs, o), changeName(idTheirs, t));
  const m = combine({ id, label: `${entryPath(o)} and ${entryPath(t)}`, contest: c }, { base: undefined, ours: o, theirs: t }, ctx);
  const tie = o.folder !== t.folder ? o.folder < t.folder : idOurs < idTheirs;
  const keep =
    m.folder === o.folder && m.folder !== t.folder ? 'ours' : m.folder === t.folder && m.folder !== o.folder ? 'theirs' : c.winner(tie ? 'ours' : 'theirs');
  return keep === 'ours' ? [idOurs, { ...m, key: o.key }] : [idTheirs, { ...m, key: t.key }];
}

/** Says in a few words how `e` differs from `b`, for a decision's sentence. */
function describeChange(b: MessageEntry, e: MessageEntry, ctx: MergeContext): string {
  if (e.folder !== b.folder) return `moved to ${ctx.folderName(e.folder)}`;
  if (flagsOf(e.info) !== flagsOf(b.info)) return `re-flagged (flags "${flagsOf(e.info)}")`;
  if (e.sub !== b.sub) return e.sub === 'cur' ? 'no longer new' : 'marked new';
  return 'changed';
}
