/**
 * What record does with a local edit of `.gitignore` or `.gitattributes`: those files
 * decide how git stores and checks out bytes in every clone, so they are mailgit's
 * (ignore.ts: ROOT_FILE_TEXT). An edit or removal is not recorded; the file is written
 * back with mailgit's content and a warning says so.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { ROOT_FILE_TEXT } from './ignore.js';
import type { Scan } from './scan.js';

/**
 * Drops from `scan` every change to a root file whose content on disk is not mailgit's,
 * writes mailgit's content back, and returns the paths restored. Only files the scan
 * found changed are read (two small files at most).
 */
export async function keepRootFiles(root: string, scan: Scan): Promise<string[]> {
  const restored: string[] = [];
  for (const f of scan.files) {
    const text = ROOT_FILE_TEXT[f.path];
    if (text === undefined) continue;
    const onDisk = await readFile(join(root, f.path), 'utf8').catch(() => null);
    if (onDisk === text) continue;
    await writeFileAtomic(join(root, f.path), text, { mode: 0o600 });
    restored.push(f.path);
  }
  if (restored.length === 0) return restored;
  const drop = new Set(restored);
  scan.files = scan.files.filter((f) => !drop.has(f.path));
  scan.edits = scan.edits.filter((e) => !drop.has(e.path));
  // Rewritten just now: hashed again by the next scan, never trusted from this one.
  for (const p of restored) delete scan.state.files[p];
  for (const p of restored) process.stderr.write(`mailgit: warning: ${p} restored: it decides how git stores mail bytes, so its content is mailgit's\n`);
  return restored;
}
