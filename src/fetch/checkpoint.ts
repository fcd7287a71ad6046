/**
 * Fetch checkpoints on disk: reading and writing `.mailgit/checkpoints/<account>.json`.
 * The format, its meaning and its canonical text are `src/merge/checkpoints.ts`'s, which the
 * merge shares, so that a fetched and a merged file with the same content are the same bytes.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Checkpoints, type FolderCheckpoint, checkpointPath, formatCheckpoints, parseFolderCheckpoint } from '../merge/checkpoints.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { RepoPaths } from '../git/run.js';

/**
 * Reads an account's checkpoint from the work tree (`{}` when there is none, or when it is
 * not a JSON object). A folder whose entry is not of the expected shape is left out: that
 * folder is read again from UID 1, which duplicates nothing.
 */
export async function readCheckpoint(root: string, account: string): Promise<Checkpoints> {
  let text: string;
  try {
    text = await readFile(join(root, checkpointPath(account)), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  const raw = JSON.parse(text) as unknown;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
  const out: [string, FolderCheckpoint][] = [];
  for (const [folder, v] of Object.entries(raw as Record<string, unknown>)) {
    const c = parseFolderCheckpoint(v);
    if (c !== undefined) out.push([folder, c]);
  }
  return Object.fromEntries(out);
}

/**
 * Writes an account's checkpoint atomically (tmp, fsync, rename, fsync dir). The temporary
 * file lives in `.git/mailgit/tmp` (same file system) so that a crash never leaves a stray
 * file under `.mailgit/` for the next commit to pick up.
 */
export async function writeCheckpoint(repo: RepoPaths, account: string, cp: Checkpoints): Promise<void> {
  const path = join(repo.root, checkpointPath(account));
  const tmpDir = join(repo.gitDir, 'mailgit', 'tmp');
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, formatCheckpoints(cp), { mode: 0o644, tmpDir });
}
