/**
 * Fetch checkpoints: `.mailgit/checkpoints/<account>.json`, synced with the repo, one
 * entry per local folder:
 *
 *     { "<local folder>": { "uidValidity": "<string>", "uid": <number>, "modseq"?: "<string>" } }
 *
 * This module is the one definition of the format: fetch reads and writes it through
 * {@link parseFolderCheckpoint} and {@link formatCheckpoints} (`src/fetch/checkpoint.ts`), and
 * the merge combines two files by content, folder by folder, and writes the same canonical
 * text, so that a merged and a fetched checkpoint with the same content are the same bytes.
 */
import type { FileEntry } from '../maildir/snapshot.js';
import type { ThreeWay } from './types.js';
import type { MergeContext } from './context.js';
import { compareFiles } from './files.js';

/** The checkpoint of one IMAP folder. */
export interface FolderCheckpoint {
  /** The folder's UIDVALIDITY, as a decimal string (it is a 32-bit unsigned value). */
  uidValidity: string;
  /** Every message with a UID up to this one has been stored (or deliberately skipped). */
  uid: number;
  /** Server flag changes up to this HIGHESTMODSEQ have been applied, as a decimal string. */
  modseq?: string;
}

/** A checkpoint file: local folder name → checkpoint. */
export type Checkpoints = Record<string, FolderCheckpoint>;

const CHECKPOINT_PATH = /^\.mailgit\/checkpoints\/[^/]+\.json$/;

/** Returns the repo-relative path of an account's checkpoint file. */
export function checkpointPath(account: string): string {
  return `.mailgit/checkpoints/${account}.json`;
}

/** Tells whether a repo-relative path is a fetch checkpoint file, which merges by content. */
export function isCheckpointPath(path: string): boolean {
  return CHECKPOINT_PATH.test(path);
}

/**
 * Reads one folder's entry of a parsed checkpoint file: a string UIDVALIDITY, a UID that is
 * a non-negative safe integer and an optional decimal modseq. Returns undefined for anything
 * else (a peer may have committed any bytes).
 */
export function parseFolderCheckpoint(v: unknown): FolderCheckpoint | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const { uidValidity, uid, modseq } = v as Record<string, unknown>;
  if (typeof uidValidity !== 'string' || typeof uid !== 'number' || !Number.isSafeInteger(uid) || uid < 0) return undefined;
  if (modseq === undefined) return { uidValidity, uid };
  return typeof modseq === 'string' && /^\d+$/.test(modseq) ? { uidValidity, uid, modseq } : undefined;
}

/**
 * Parses a checkpoint file's content; returns undefined when it is missing, not JSON, or any
 * folder's entry is not of the expected shape (the merge then falls back to last-writer-wins
 * on the whole file).
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
  const out: [string, FolderCheckpoint][] = [];
  for (const [folder, v] of Object.entries(data as Record<string, unknown>)) {
    const c = parseFolderCheckpoint(v);
    if (c === undefined) return undefined;
    out.push([folder, c]);
  }
  return Object.fromEntries(out); // own properties, even for a folder called `__proto__`
}

/**
 * Serialises checkpoints canonically: folders sorted, each entry's fields in the order
 * `uidValidity`, `uid`, `modseq`, two-space indent and a final newline, so that equal
 * checkpoints always give equal bytes, whoever wrote them.
 */
export function formatCheckpoints(cp: Checkpoints): string {
  const sorted = Object.keys(cp)
    .sort()
    .map((folder): [string, FolderCheckpoint] => {
      const c = cp[folder]!;
      return [folder, c.modseq === undefined ? { uidValidity: c.uidValidity, uid: c.uid } : { uidValidity: c.uidValidity, uid: c.uid, modseq: c.modseq }];
    });
  return `${JSON.stringify(Object.fromEntries(sorted), null, 2)}\n`;
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
export function mergeCheckpointFile({ base, ours, theirs }: ThreeWay<FileEntry | undefined, FileEntry>, ctx: MergeContext): FileEntry | undefined {
  const o = parseCheckpoints(ours.content);
  const t = parseCheckpoints(theirs.content);
  if (o === undefined || t === undefined) return undefined;
  const b = parseCheckpoints(base?.content) ?? {};
  const own = (cp: Checkpoints, folder: string) => (Object.hasOwn(cp, folder) ? cp[folder] : undefined);
  const merged: [string, FolderCheckpoint][] = [];
  for (const folder of new Set([...Object.keys(o), ...Object.keys(t)])) {
    const oc = own(o, folder);
    const tc = own(t, folder);
    if (oc !== undefined && tc !== undefined) merged.push([folder, mergeFolder(oc, tc, ctx)]);
    else if (oc !== undefined) {
      if (!sameCheckpoint(own(b, folder), oc)) merged.push([folder, oc]);
    } else if (tc !== undefined) {
      if (!sameCheckpoint(own(b, folder), tc)) merged.push([folder, tc]);
    }
  }
  const text = formatCheckpoints(Object.fromEntries(merged));
  const oursSame = text === formatCheckpoints(o);
  const theirsSame = text === formatCheckpoints(t);
  if (oursSame && theirsSame) return compareFiles(ours, theirs) <= 0 ? ours : theirs;
  if (oursSame) return ours;
  if (theirsSame) return theirs;
  return { blob: '', content: text };
}
