/**
 * Rule 2b: the flags of a message in a two-way IMAP folder merge against what each side
 * agreed with the server, not only against the common commit.
 *
 * A two-way folder's synced state (src/merge/imapState.ts) says, per message, the flags a
 * side last agreed on with the server and when (the stamp). A side's file differs from its
 * agreed flags only by what a person changed there since (a *pending* change); the rest of
 * the file is the server's word as of that stamp. The common commit cannot see this: a flag
 * one replica pulled from the server — its copy of the other replica's older change — looks
 * like a change of its own against the other's later removal, so the plain three-way brings
 * the flag back, and the next fetch sends it to the server again (the random convergence
 * test of test/e2e/fetch-twoway.test.ts, seed 110966).
 *
 * So, for each letter that mirrors a server flag, of a message both sides have in the folder
 * and whose state both sides have (flags agreed, not `-`):
 *  - a side whose file letter and state entry are as in the base changed nothing: the other
 *    side's letter;
 *  - no pending change on either side: the letter of the later agreement ({@link later});
 *  - a pending change on one side: that side's letter (a person's change wins over the
 *    server's, as in fetch's own three-way);
 *  - pending on both sides: their letter when equal, else the plain three-way's.
 * Other letters, and every other message, keep the plain three-way's result.
 */
import { folderDir, type Layout } from '../maildir/layout.js';
import { flagsOf, sortFlags } from '../maildir/name.js';
import type { FileEntry, MessageEntry, Snapshot } from '../maildir/snapshot.js';
import { chooseInfo } from './info.js';
import { later, parseImapState, stateFolderOf, SYSTEM_LETTERS, type ImapStateLine } from './imapState.js';

/** A state line with the UIDVALIDITY of its file. */
interface Agreed {
  line: ImapStateLine;
  uidValidity: string;
}

/** Folder directory → message key → its state line (`null`: more than one UID carries the key). */
type AgreedIndex = Map<string, Map<string, Agreed | null>>;

/** The state lines of a side's two-way folders, by folder directory and key. */
function agreedOf(files: Map<string, FileEntry>, layout: Layout): AgreedIndex {
  const out: AgreedIndex = new Map();
  for (const [path, f] of files) {
    const folder = stateFolderOf(path);
    const parsed = folder === undefined ? undefined : parseImapState(f.content);
    if (parsed === undefined) continue;
    const dir = folderDir(layout, folder!);
    let keys = out.get(dir);
    if (!keys) out.set(dir, (keys = new Map()));
    for (const line of parsed.lines) {
      if (line.uid > 0) keys.set(line.key, keys.has(line.key) ? null : { line, uidValidity: parsed.uidValidity });
    }
  }
  return out;
}

/** A side's messages by folder and key (`null`: two files with one key in one folder). */
function byPlace(messages: Map<string, MessageEntry>): Map<string, MessageEntry | null> {
  const out = new Map<string, MessageEntry | null>();
  for (const m of messages.values()) {
    const place = `${m.folder}\0${m.key}`;
    out.set(place, out.has(place) ? null : m);
  }
  return out;
}

/** What one message's settlement needs: its versions and its state lines. */
interface Versions {
  merged: MessageEntry;
  b: MessageEntry | undefined;
  o: MessageEntry;
  t: MessageEntry;
  lb: Agreed | undefined;
  lo: Agreed;
  lt: Agreed;
}

/** The flags rule 2b gives one message (see the module comment). */
function settledFlags(v: Versions): string {
  const [fo, ft, fm] = [flagsOf(v.o.info), flagsOf(v.t.info), flagsOf(v.merged.info)];
  const fb = v.b === undefined ? undefined : flagsOf(v.b.info);
  const [ao, at] = [v.lo.line.flags!, v.lt.line.flags!];
  const asBase = (x: Agreed) => v.lb !== undefined && x.uidValidity === v.lb.uidValidity && sameLine(x.line, v.lb.line);
  const [oursSame, theirsSame] = [fb !== undefined && asBase(v.lo), fb !== undefined && asBase(v.lt)];
  const win = later(v.lo.line, v.lt.line).flags!;
  const mirrored = new Set(SYSTEM_LETTERS + ao + at + (v.lb?.line.flags ?? ''));
  let out = [...fm].filter((l) => !mirrored.has(l)).join('');
  for (const l of mirrored) {
    const [o, t] = [fo.includes(l), ft.includes(l)];
    const [po, pt] = [o !== ao.includes(l), t !== at.includes(l)];
    let keep: boolean;
    if (oursSame && o === fb!.includes(l)) keep = t;
    else if (theirsSame && t === fb!.includes(l)) keep = o;
    else if (!po && !pt) keep = win.includes(l);
    else if (po !== pt) keep = po ? o : t;
    else keep = o === t ? o : fm.includes(l);
    if (keep) out += l;
  }
  return sortFlags(out);
}

function sameLine(x: ImapStateLine, y: ImapStateLine): boolean {
  return x.uid === y.uid && x.key === y.key && x.flags === y.flags && x.stamp === y.stamp;
}

/**
 * Applies rule 2b to the merged messages: returns `messages` itself when no flags change,
 * else a new map (same ids, same order, same places; only infos differ). `layout` maps a state's folder name to the
 * directory its messages are in (default `fs`).
 */
export function settleTwoWayFlags(
  messages: Map<string, MessageEntry>,
  sides: { base: Snapshot; ours: Snapshot; theirs: Snapshot },
  layout: Layout = 'fs',
): Map<string, MessageEntry> {
  const [ao, at] = [agreedOf(sides.ours.files, layout), agreedOf(sides.theirs.files, layout)];
  if (ao.size === 0 || at.size === 0) return messages;
  const ab = agreedOf(sides.base.files, layout);
  const [mb, mo, mt] = [sides.base, sides.ours, sides.theirs].map((s) => byPlace(s.messages));
  let out: Map<string, MessageEntry> | undefined;
  for (const [id, merged] of messages) {
    const [lo, lt] = [ao.get(merged.folder)?.get(merged.key), at.get(merged.folder)?.get(merged.key)];
    if (!lo || !lt || lo.uidValidity !== lt.uidValidity || lo.line.flags === null || lt.line.flags === null) continue;
    const place = `${merged.folder}\0${merged.key}`;
    const [o, t] = [mo.get(place), mt.get(place)];
    if (!o || !t) continue;
    const b = mb.get(place) ?? undefined;
    const flags = settledFlags({ merged, b, o, t, lb: ab.get(merged.folder)?.get(merged.key) ?? undefined, lo, lt });
    if (flags === flagsOf(merged.info)) continue;
    out ??= new Map(messages);
    out.set(id, { ...merged, info: chooseInfo({ flags, sub: merged.sub }, { base: b, ours: o, theirs: t }) });
  }
  return out ?? messages;
}
