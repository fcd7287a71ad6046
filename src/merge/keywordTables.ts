/**
 * Rule 2c: Dovecot keyword letters. A folder's `dovecot-keywords` gives keyword N the
 * letter `a` + N in its file names (src/maildir/keywords.ts). Two replicas that each gave a
 * new keyword a letter before syncing — each fetched another keyword from the server, or a
 * local client added one — may have given one letter to different keywords; with the table
 * merged last-writer-wins, the losing side's messages would carry the winner's keyword
 * under that letter (and the next two-way fetch would send it to the server).
 *
 * So when both sides changed a folder's table, the merge works with keyword names: the
 * merged table keeps the base's letters, then gives each letter claimed on either side to
 * the claim with the smallest keyword name (case-insensitively, as IMAP compares them; one
 * keyword claimed under two letters keeps the smaller), and every keyword left without a
 * letter the first free one. Before the message merge, each side's messages in that folder
 * — and the agreed letters of its two-way state for that folder — are re-lettered to the
 * merged table, so flags merge by keyword and every replica and the server end with each
 * keyword on the messages that had it. Letters a side's table does not name stay as they are.
 *
 * A table changed on one side only is taken as it is, and the other side — and the base,
 * whose letters are that side's — are re-lettered to it where it gives a keyword another
 * letter; so is a table both sides changed alike (the base is re-lettered to it: with the
 * base's old letters, a keyword one side took off a message would read as a letter removed
 * and another added, and come back; found by the keyword-name property,
 * `test/unit/keywords.property.test.ts`): after a criss-cross of merges (each replica settled the same clash against a
 * different base), one side's table may name the other's keywords with swapped letters,
 * and taking it without re-lettering turned the other side's `$Junk` into whatever that
 * table gives its letter (found by the random two-way test with keywords, seed 39695).
 * The base is re-lettered like the side it agrees with, so what that side did not change
 * still reads as unchanged.
 */
import { isKeywordTable, KeywordLetters, KEYWORDS_FILE } from '../maildir/keywords.js';
import { folderDir, type Layout } from '../maildir/layout.js';
import { flagsOf, infoOfFlags, sortFlags } from '../maildir/name.js';
import type { FileEntry, MessageEntry, Snapshot } from '../maildir/snapshot.js';
import { sameFile } from './files.js';
import { formatImapState, parseImapState, stateFolderOf } from './imapState.js';

/** The three inputs of a merge. */
export interface Sides {
  base: Snapshot;
  ours: Snapshot;
  theirs: Snapshot;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The merged table of three versions (see the module comment); symmetric in `o` and `t`. */
export function mergeKeywordTables(b: KeywordLetters, o: KeywordLetters, t: KeywordLetters): KeywordLetters {
  const inBase = new Set(b.entries().map(([, k]) => k.toLowerCase()));
  const claims = [...o.entries(), ...t.entries()]
    .filter(([, k]) => !inBase.has(k.toLowerCase()))
    .sort(([l1, k1], [l2, k2]) => cmp(l1, l2) || cmp(k1.toLowerCase(), k2.toLowerCase()) || cmp(k1, k2));
  const table = KeywordLetters.of([...b.entries(), ...claims]);
  for (const [, k] of claims) table.letterOf(k);
  table.changed = false;
  return table;
}

/** A side's letter → merged letter, for the letters whose keyword moved. */
function moves(side: KeywordLetters, merged: KeywordLetters): Map<string, string> {
  const out = new Map<string, string>();
  for (const [l, k] of side.entries()) {
    const m = merged.find(k);
    if (m !== undefined && m !== l) out.set(l, m);
  }
  return out;
}

const relettered = (flags: string, map: Map<string, string>): string => sortFlags([...flags].map((l) => map.get(l) ?? l).join(''));

/** Re-letters one side: its messages in folder `dir`, its table (→ `table`), its two-way state of that folder. */
function reletterSide(s: Snapshot, a: { dir: string; path: string; map: Map<string, string>; table: FileEntry; layout: Layout }): Snapshot {
  const messages = new Map<string, MessageEntry>();
  for (const [id, m] of s.messages) {
    const flags = flagsOf(m.info);
    const next = m.folder === a.dir && a.map.size > 0 ? relettered(flags, a.map) : flags;
    messages.set(id, next === flags ? m : { ...m, info: infoOfFlags(next) });
  }
  const files = new Map<string, FileEntry>();
  for (const [p, f] of s.files) {
    const folder = a.map.size > 0 ? stateFolderOf(p) : undefined;
    const state = folder !== undefined && folderDir(a.layout, folder) === a.dir ? parseImapState(f.content) : undefined;
    if (p === a.path) files.set(p, a.table);
    else if (state) {
      const lines = state.lines.map((l) => (l.uid > 0 && l.flags !== null ? { ...l, flags: relettered(l.flags, a.map) } : l));
      const content = formatImapState({ uidValidity: state.uidValidity, lines });
      files.set(p, content === f.content ? f : { blob: '', content });
    } else files.set(p, f);
  }
  return { messages, files };
}

/**
 * Applies rule 2c: returns the sides with the tables both changed merged (the same entry
 * on both sides, so the file merge keeps it) and their folders re-lettered; `sides` itself
 * when no table changed on both sides. `layout` maps a two-way state's folder name to its
 * directory (default `fs`).
 */
export function settleKeywordTables(sides: Sides, layout: Layout = 'fs'): Sides {
  let out = sides;
  for (const [path, o] of sides.ours.files) {
    if (!isKeywordTable(path)) continue;
    const t = sides.theirs.files.get(path);
    const b = sides.base.files.get(path);
    if (t === undefined || o.content === undefined || t.content === undefined || (sameFile(o, t) && sameFile(b, o))) continue;
    const [kb, ko, kt] = [b?.content ?? null, o.content, t.content].map((x) => KeywordLetters.parse(x));
    // Changed on one side, or alike on both: that table, as it is (a criss-cross merge may have given its keywords
    // other letters; the base is re-lettered to it even when both sides agree, so a keyword one side took off a
    // message still reads as taken off).
    const oneSided = sameFile(b, o) || sameFile(o, t) ? t : sameFile(b, t) ? o : undefined;
    const merged = oneSided ? KeywordLetters.parse(oneSided.content ?? null) : mergeKeywordTables(kb, ko, kt);
    const table = oneSided ?? { blob: '', content: merged.format() };
    const dir = path === KEYWORDS_FILE ? '' : path.slice(0, -KEYWORDS_FILE.length - 1);
    const side = (s: Snapshot, k: KeywordLetters) => reletterSide(s, { dir, path, map: moves(k, merged), table, layout });
    out = { base: side(out.base, kb), ours: side(out.ours, ko), theirs: side(out.theirs, kt) };
  }
  return out;
}
