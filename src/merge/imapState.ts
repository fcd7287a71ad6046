/**
 * The synced state of a two-way IMAP folder (`.mailgit/imap/<account>/<folder>/<n>.state`):
 * for each server UID, the message key it is in the repo and the flags repo and server last
 * agreed on. It is written by `mailgit fetch` (src/fetch/state.ts) in the same commit as the
 * files it describes, and merges here entry by entry.
 *
 *     mailgit-imap-state 1 <UIDVALIDITY>
 *     <uid> <key, percent-encoded> <:LETTERS | -> <stamp>
 *
 * `:LETTERS` are the agreed Maildir letters (`:` none); `-` means "deleted in the repo, and
 * `\Deleted` sent to the server". UID 0 lines are *held* keys: local messages that must not
 * be uploaded (present before the folder was two-way, or after a UIDVALIDITY change). The
 * stamp orders two versions of one entry: the folder's HIGHESTMODSEQ when the entry was
 * written (CONDSTORE), else the writer's clock in milliseconds.
 */
import { createHash } from 'node:crypto';
import type { FileEntry } from '../maildir/snapshot.js';
import type { ThreeWay } from './types.js';
import type { MergeContext } from './context.js';
import { compareFiles } from './files.js';

/** One line of a state file. */
export interface ImapStateLine {
  uid: number;
  key: string;
  /** Agreed letters, or `null`: deleted in the repo and marked `\Deleted` on the server. */
  flags: string | null;
  stamp: string;
}

/** A parsed state file. */
export interface ImapStateFile {
  uidValidity: string;
  lines: ImapStateLine[];
}

const STATE_PATH = /^\.mailgit\/imap\/[^/]+\/([^/]+)\/\d+\.state$/;
const HEADER = 'mailgit-imap-state 1 ';

/** The Maildir letters that mirror IMAP system flags; keyword letters (a–z) come from a folder's `dovecot-keywords`. */
export const SYSTEM_LETTERS = 'DFPRST';

/**
 * The directory segment of a folder's state: the folder name percent-encoded (dots too), or
 * for a name longer than 200 encoded characters `h` and 32 hex digits of its hash.
 */
export function stateSegment(folder: string): string {
  const enc = encodeURIComponent(folder).replace(/\./g, '%2E');
  return enc.length <= 200 ? enc : `h${createHash('sha256').update(folder).digest('hex').slice(0, 32)}`;
}

/** The folder name a state file path is for (a hashed segment gives no real folder's name). */
export function stateFolderOf(path: string): string | undefined {
  const seg = STATE_PATH.exec(path)?.[1];
  if (seg === undefined) return undefined;
  try {
    return decodeURIComponent(seg);
  } catch {
    return undefined;
  }
}

/** Tells whether a repo-relative path is a two-way IMAP state file, which merges by entry. */
export function isImapStatePath(path: string): boolean {
  return STATE_PATH.test(path);
}

/** Parses a state file; undefined when it is not one (the caller falls back to last-writer-wins). */
export function parseImapState(text: string | undefined): ImapStateFile | undefined {
  if (text === undefined) return undefined;
  const rows = text.split('\n');
  if (!rows[0].startsWith(HEADER) || !/^\d+$/.test(rows[0].slice(HEADER.length))) return undefined;
  const lines: ImapStateLine[] = [];
  for (const row of rows.slice(1)) {
    if (row === '') continue;
    const [u, k, f, stamp] = row.split(' ');
    const uid = Number(u);
    if (!Number.isSafeInteger(uid) || uid < 0 || !k || !f || !/^\d+$/.test(stamp ?? '')) return undefined;
    if (f !== '-' && !/^:[A-Za-z]*$/.test(f)) return undefined;
    let key: string;
    try {
      key = decodeURIComponent(k);
    } catch {
      return undefined;
    }
    lines.push({ uid, key, flags: f === '-' ? null : f.slice(1), stamp });
  }
  return { uidValidity: rows[0].slice(HEADER.length), lines };
}

function lineText(l: ImapStateLine): string {
  return `${l.uid} ${encodeURIComponent(l.key)} ${l.flags === null ? '-' : `:${l.flags}`} ${l.stamp}`;
}

/** The canonical text of a state file: lines sorted by UID, then key. */
export function formatImapState(s: ImapStateFile): string {
  const lines = [...s.lines].sort((a, b) => a.uid - b.uid || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return `${[HEADER + s.uidValidity, ...lines.map(lineText)].join('\n')}\n`;
}

/** The identity of a line: its UID, or for a held line (UID 0) its key. */
function idOf(l: ImapStateLine): string {
  return l.uid > 0 ? `u${l.uid}` : `k${l.key}`;
}

/** The later of two versions of one entry: higher stamp, then the larger text (symmetric). */
export function later(a: ImapStateLine, b: ImapStateLine): ImapStateLine {
  const x = BigInt(a.stamp);
  const y = BigInt(b.stamp);
  if (x !== y) return x > y ? a : b;
  return lineText(a) >= lineText(b) ? a : b;
}

/**
 * Merges a state file changed on both sides, entry by entry: on both sides → the later
 * version ({@link later}); on one side → kept unless the base had it unchanged (the other
 * side removed it: the server expunged it or it was moved). Returns undefined when a side
 * cannot be parsed or the two sides have different UIDVALIDITYs (last-writer-wins then).
 */
export function mergeImapStateFile({ base, ours, theirs }: ThreeWay<FileEntry | undefined, FileEntry>, _ctx: MergeContext): FileEntry | undefined {
  const o = parseImapState(ours.content);
  const t = parseImapState(theirs.content);
  if (o === undefined || t === undefined || o.uidValidity !== t.uidValidity) return undefined;
  const b = parseImapState(base?.content);
  const baseLines = new Map(b && b.uidValidity === o.uidValidity ? b.lines.map((l) => [idOf(l), lineText(l)]) : []);
  const om = new Map(o.lines.map((l) => [idOf(l), l]));
  const tm = new Map(t.lines.map((l) => [idOf(l), l]));
  const lines: ImapStateLine[] = [];
  for (const id of new Set([...om.keys(), ...tm.keys()])) {
    const x = om.get(id);
    const y = tm.get(id);
    if (x && y) lines.push(later(x, y));
    else {
      const only = (x ?? y)!;
      if (baseLines.get(id) !== lineText(only)) lines.push(only);
    }
  }
  const text = formatImapState({ uidValidity: o.uidValidity, lines });
  const oursSame = text === formatImapState(o);
  const theirsSame = text === formatImapState(t);
  if (oursSame && theirsSame) return compareFiles(ours, theirs) <= 0 ? ours : theirs;
  if (oursSame) return ours;
  if (theirsSame) return theirs;
  return { blob: '', content: text };
}
