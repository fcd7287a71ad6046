/**
 * The non-message half of the merge (rule 8): settings and fetch checkpoints.
 */
import type { FileEntry } from '../maildir/snapshot.js';
import { isCheckpointPath, mergeCheckpointFile } from './checkpoints.js';
import { isImapStatePath, mergeImapStateFile } from './imapState.js';
import type { MergeContext } from './context.js';
import { compareStrings } from './entries.js';
import { compareFiles, sameFile } from './files.js';

type Files = Map<string, FileEntry>;

/**
 * Merges the file maps three-way, path by path: a path changed on one side only takes that
 * side; deleted on one side and unchanged on the other is deleted; changed on both sides
 * differently is last-writer-wins (a `file-conflict` decision), except checkpoint files with
 * readable content on both sides, which merge by content with no decision. With equal stamps
 * a change beats a deletion and otherwise the smaller blob wins. Returns a new map in sorted
 * path order.
 */
export function mergeFiles(base: Files, ours: Files, theirs: Files, ctx: MergeContext): Files {
  const out = new Map<string, FileEntry>();
  const paths = new Set<string>([...ours.keys(), ...theirs.keys(), ...base.keys()]);
  for (const path of [...paths].sort(compareStrings)) {
    const e = mergeFile(path, base.get(path), ours.get(path), theirs.get(path), ctx);
    if (e !== undefined) out.set(path, e);
  }
  return out;
}

/** Merges one path; returns undefined when it ends deleted. */
function mergeFile(
  path: string,
  b: FileEntry | undefined,
  o: FileEntry | undefined,
  t: FileEntry | undefined,
  ctx: MergeContext,
): FileEntry | undefined {
  if (sameFile(o, t)) return o;
  if (sameFile(b, o)) return t;
  if (sameFile(b, t)) return o;
  if (o !== undefined && t !== undefined && isCheckpointPath(path)) {
    const merged = mergeCheckpointFile(b, o, t, ctx);
    if (merged !== undefined) return merged;
  }
  if (o !== undefined && t !== undefined && isImapStatePath(path)) {
    const merged = mergeImapStateFile(b, o, t, ctx);
    if (merged !== undefined) return merged;
  }
  let tie: 'ours' | 'theirs';
  if (o === undefined) tie = 'theirs';
  else if (t === undefined) tie = 'ours';
  else tie = compareFiles(o, t) <= 0 ? 'ours' : 'theirs';
  const winner = ctx.lww(tie);
  const kept = winner === 'ours' ? o : t;
  const what = (e: FileEntry | undefined): string => (e === undefined ? 'deleted' : 'changed');
  ctx.decide(
    'file-conflict',
    path,
    winner,
    `${path}: ${what(o)} here and ${what(t)} ${ctx.where('theirs')}; ` +
      `kept the version ${ctx.where(winner)}${kept === undefined ? ' (deleted)' : ''} (${ctx.why(winner)})`,
  );
  return kept;
}
