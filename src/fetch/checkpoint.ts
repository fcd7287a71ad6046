/**
 * Fetch checkpoints: `.mailgit/checkpoints/<account>.json`, synced with the repo.
 *
 *     { "<local folder>": { "uidValidity": "<string>", "uid": <number>, "modseq"?: "<string>" } }
 *
 * Keys are sorted so that two replicas that fetched the same thing write the same bytes.
 * `uid` means "every message with a UID up to this one has been stored (or deliberately
 * skipped)"; `modseq` means "server flag changes up to this HIGHESTMODSEQ have been applied
 * to those messages". The merge combines two checkpoints by maximum per folder.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';

/** One folder's position. */
export interface FolderCheckpoint {
  uidValidity: string;
  uid: number;
  modseq?: string;
}

/** A whole account's checkpoint, by local folder name. */
export type Checkpoint = Record<string, FolderCheckpoint>;

/** Repo-relative path of an account's checkpoint file. */
export function checkpointPath(account: string): string {
  return `.mailgit/checkpoints/${account}.json`;
}

/** Reads an account's checkpoint from the work tree (`{}` when there is none). */
export async function readCheckpoint(root: string, account: string): Promise<Checkpoint> {
  let text: string;
  try {
    text = await readFile(join(root, checkpointPath(account)), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  const raw = JSON.parse(text) as unknown;
  const out: Checkpoint = {};
  if (raw && typeof raw === 'object') {
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      const c = v as Partial<FolderCheckpoint> | null;
      if (!c || typeof c !== 'object') continue;
      const uid = Number(c.uid);
      if (typeof c.uidValidity !== 'string' || !Number.isSafeInteger(uid) || uid < 0) continue;
      out[k] = { uidValidity: c.uidValidity, uid, ...(typeof c.modseq === 'string' && /^\d+$/.test(c.modseq) ? { modseq: c.modseq } : {}) };
    }
  }
  return out;
}

/** The canonical text of a checkpoint: sorted keys, fixed field order, 2-space indent, final newline. */
export function formatCheckpoint(cp: Checkpoint): string {
  const sorted: Checkpoint = {};
  for (const k of Object.keys(cp).sort()) {
    const c = cp[k];
    sorted[k] = { uidValidity: c.uidValidity, uid: c.uid, ...(c.modseq !== undefined ? { modseq: c.modseq } : {}) };
  }
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

/**
 * Writes an account's checkpoint atomically (tmp, fsync, rename, fsync dir). The temporary
 * file lives in `.git/mailgit/tmp` (same file system) so that a crash never leaves a stray
 * file under `.mailgit/` for the next commit to pick up.
 */
export async function writeCheckpoint(repo: { root: string; gitDir: string }, account: string, cp: Checkpoint): Promise<void> {
  const path = join(repo.root, checkpointPath(account));
  const tmpDir = join(repo.gitDir, 'mailgit', 'tmp');
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, formatCheckpoint(cp), 0o644, tmpDir);
}
