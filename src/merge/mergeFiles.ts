/**
 * The non-message half of the merge (rule 8): settings and fetch checkpoints.
 */
import type { FileEntry, MessageEntry } from '../maildir/snapshot.js';
import { isCheckpointPath, mergeCheckpointFile } from './checkpoints.js';
import { isImapStatePath, mergeImapStateFile } from './imapState.js';
import type { MergeContext } from './context.js';
import type { ThreeWay } from './types.js';
import { compareStrings } from './entries.js';
import { compareFiles, sameFile } from './files.js';
import { folderMarker } from '../maildir/layout.js';

type Files = Map<string, FileEntry>;

/**
 * Merges the file maps three-way, path by path: a path changed on one side only takes that
 * side; deleted on one side and unchanged on the other is deleted; changed on both sides
 * differently is last-writer-wins (a `file-conflict` decision), except checkpoint files with
 * readable content on both sides, which merge by content with no decision. With equal stamps
 * a change beats a deletion and otherwise the smaller blob wins. Returns a new map in sorted
 * path order.
 */
export function mergeFiles({ base, ours, theirs }: ThreeWay<Files>, ctx: MergeContext): Files {
  const out = new Map<string, FileEntry>();
  const paths = new Set<string>([...ours.keys(), ...theirs.keys(), ...base.keys()]);
  for (const path of [...paths].sort(compareStrings)) {
    const e = mergeFile(path, { base: base.get(path), ours: ours.get(path), theirs: theirs.get(path) }, ctx);
    if (e !== undefined) out.set(path, e);
  }
  return out;
}

/** Merges one path; returns undefined when it ends deleted. */
function mergeFile(path: string, { base: b, ours: o, theirs: t }: ThreeWay<FileEntry | undefined>, ctx: MergeContext): FileEntry | undefined {
  if (sameFile(o, t)) return o;
  if (sameFile(b, o)) return t;
  if (sameFile(b, t)) return o;
  if (o !== undefined && t !== undefined && isCheckpointPath(path)) {
    const merged = mergeCheckpointFile({ base: b, ours: o, theirs: t }, ctx);
    if (merged !== undefined) return merged;
  }
  if (o !== undefined && t !== undefined && isImapStatePath(path)) {
    const merged = mergeImapStateFile({ base: b, ours: o, theirs: t }, ctx);
    if (merged !== undefined) return merged;
  }
  let tie: 'ours' | 'theirs';
  if (o === undefined) tie = 'theirs';
  else if (t === undefined) tie = 'ours';
  else tie = compareFiles(o, t) <= 0 ? 'ours' : 'theirs';
  const winner = ctx.lww(tie);
  const kept = winner === 'ours' ? o : t;
  const what = (e: FileEntry | undefined): string => (e === undefined ? 'deleted' : 'changed');
  ctx.decide({
    kind: 'file-conflict',
    id: path,
    winner,
    text:
      `${path}: ${what(o)} here and ${what(t)} ${ctx.where('theirs')}; ` +
      `kept the version ${ctx.where(winner)}${kept === undefined ? ' (deleted)' : ''} (${ctx.why(winner)})`,
  });
  return kept;
}

/**
 * Keeps the folder of every kept message (rule 8): when the merged files lose a folder's
 * `maildirfolder` marker that one side still has (the other side removed the folder) while
 * merged mail remains in that folder (the side that kept the marker delivered or changed
 * it), the marker stays, with a `file-conflict` decision, so that the mail lives in a
 * folder that replicates. Returns `files` itself when nothing is kept, else a new map in
 * sorted path order.
 */
export function keepFoldersOfMail(
  { files, messages, sides }: { files: Files; messages: Map<string, MessageEntry>; sides: Omit<ThreeWay<Files>, 'base'> },
  ctx: MergeContext,
): Files {
  const restored: [string, FileEntry][] = [];
  for (const folder of new Set([...messages.values()].map((m) => m.folder))) {
    const path = folderMarker(folder);
    if (path === null || files.has(path)) continue;
    const keeper = sides.ours.has(path) ? 'ours' : sides.theirs.has(path) ? 'theirs' : null;
    if (keeper === null) continue;
    restored.push([path, sides[keeper].get(path)!]);
    const remover = keeper === 'ours' ? 'theirs' : 'ours';
    ctx.decide({
      kind: 'file-conflict',
      id: path,
      winner: keeper,
      text:
        `${ctx.folderName(folder)}: folder removed ${ctx.where(remover)} while it got mail ${ctx.where(keeper)}; ` +
        'kept the folder with the mail that is left in it',
    });
  }
  if (restored.length === 0) return files;
  const all = [...files, ...restored].sort((a, b) => compareStrings(a[0], b[0]));
  return new Map(all);
}
