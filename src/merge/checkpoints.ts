/**
 * Fetch checkpoints (`.mailgit/checkpoints/*.json`) merge by content, folder by folder.
 */
import type { FileEntry } from '../maildir/snapshot.js';
import type { MergeContext } from './context.js';
import { compareFiles } from './files.js';

/** The checkpoint of one IMAP folder. */
export interface FolderCheckpoint {
  /** The folder's UIDVALIDITY, as a decimal string (it is a 32-bit unsigned value). */
  uidValidity: string;
  /** The highest UID fetched. */
  uid: number;
  /** The highest CONDSTORE modification sequence seen, as a decimal string. */
  modseq?: string;
}

/** A checkpoint file: IMAP folder name → checkpoint. */
export type Checkpoints = Record<string, FolderCheckpoint>;

const CHECKPOINT_PATH = /^\.mailgit\/checkpoints\/[^/]+\.json$/;

/** Tells whether a repo-relative path is a fetch checkpoint file, which merges by content. */
export function isCheckpointPath(path: string): boolean {
  return CHECKPOINT_PATH.test(path);
}

/**
 * Parses a checkpoint file's content; returns undefined when it is missing or not of the
 * expected shape (the caller then falls back to last-writer-wins on the whole file).
 */
export function parseCheckpoints(content: string | undefined): Checkpoints | undefined {
  if (content === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(content);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const out: Checkpoints = {};
  for (const [folder, v] of Object.entries(data as Record<string, unknown>)) {
    if (typeof v !== 'object' || v === null) return undefined;
    const { uidValidity, uid, modseq } = v as Record<string, unknown>;
    if (typeof uidValidity !== 'string' || typeof uid !== 'number') return undefined;
    if (modseq !== undefined && typeof modseq !== 'string') return undefined;
    out[folder] = modseq === undefined ? { uidValidity, uid } : { uidValidity, uid, modseq };
  }
  return out;
}

/**
 * Serialises checkpoints canonically: keys sorted at every level, two-space indent and a
 * final newline, so that equal checkpoints always give equal bytes.
 */
export function formatCheckpoints(cp: Checkpoints): string {
  const sorted: Record<string, Record<string, unknown>> = {};
  for (const folder of Object.keys(cp).sort()) {
    const c = cp[folder]!;
    const inner: Record<string, unknown> = {};
    if (c.modseq !== undefined) inner.modseq = c.modseq;
    inner.uid = c.uid;
    inner.uidValidity = c.uidValidity;
    sorted[folder] = inner;
  }
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

/**
 * Merges the checkpoints of one folder present on both sides: with the same UIDVALIDITY the
 * highest UID and the highest modseq (compared as integers); with different UIDVALIDITY the
 * newer side's checkpoint (with equal stamps, the higher UIDVALIDITY).
 */
function mergeFolder(o: FolderCheckpoint, t: FolderCheckpoint, ctx: MergeContext): FolderCheckpoint {
  if (o.uidValidity !== t.uidValidity) {
    const tie = compareDecimal(o.uidValidity, t.uidValidity) >= 0 ? 'ours' : 'theirs';
    return ctx.lww(tie) === 'ours' ? o : t;
  }
  const uid = Math.max(o.uid, t.uid);
  const modseq = o.modseq === undefined ? t.modseq : t.modseq === undefined ? o.modseq : compareDecimal(o.modseq, t.modseq) >= 0 ? o.modseq : t.modseq;
  return modseq === undefined ? { uidValidity: o.uidValidity, uid } : { uidValidity: o.uidValidity, uid, modseq };
}

/** Compares two decimal strings as integers; strings that are not integers compare as text. */
function compareDecimal(a: string, b: string): number {
  try {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  } catch {
    return a < b ? -1 : a > b ? 1 : 0;
  }
}

/** Tells whether two folder checkpoints are equal. */
function sameCheckpoint(a: FolderCheckpoint | undefined, b: FolderCheckpoint | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.uidValidity === b.uidValidity && a.uid === b.uid && a.modseq === b.modseq;
}

/**
 * Merges a checkpoint file changed on both sides. Folder by folder: present on both sides →
 * {@link mergeFolder}; present on one side → kept, unless it was in the base, unchanged, and
 * the other side dropped it. Returns the side's own entry when the result equals that side's
 * checkpoints (the smaller blob when it equals both), otherwise a new entry with an empty blob
 * and the canonical content. Returns undefined when either side cannot be parsed.
 */
export function mergeCheckpointFile(base: FileEntry | undefined, ours: FileEntry, theirs: FileEntry, ctx: MergeContext): FileEntry | undefined {
  const o = parseCheckpoints(ours.content);
  const t = parseCheckpoints(theirs.content);
  if (o === undefined || t === undefined) return undefined;
  const b = parseCheckpoints(base?.content) ?? {};
  const merged: Checkpoints = {};
  for (const folder of new Set([...Object.keys(o), ...Object.keys(t)])) {
    const oc = o[folder];
    const tc = t[folder];
    if (oc !== undefined && tc !== undefined) merged[folder] = mergeFolder(oc, tc, ctx);
    else if (oc !== undefined) {
      if (!sameCheckpoint(b[folder], oc)) merged[folder] = oc;
    } else if (tc !== undefined) {
      if (!sameCheckpoint(b[folder], tc)) merged[folder] = tc;
    }
  }
  const text = formatCheckpoints(merged);
  const oursSame = text === formatCheckpoints(o);
  const theirsSame = text === formatCheckpoints(t);
  if (oursSame && theirsSame) return compareFiles(ours, theirs) <= 0 ? ours : theirs;
  if (oursSame) return ours;
  if (theirsSame) return theirs;
  return { blob: '', content: text };
}
