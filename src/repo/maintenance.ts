/**
 * When `.git` is packed after a record (the packing itself is in git/maintain.ts).
 *
 * Folding a new version of a big `cur/` tree into the history pack is the slow part of
 * recording one flag change at 100k messages (pack-objects ≈ 0.3 s, against a budget of
 * ~0.13 s), so like git's own `gc --auto` it runs in a detached process when the work
 * is big: the record returns at once, and the repo stays valid at every moment of the
 * packing (a new pack is complete before the packs it replaces are removed; readers
 * that lose a pack find its objects in the new one). Small work (every test repo, a
 * small mailbox) is done before the command returns. One maintenance runs at a time
 * (`.git/mailgit/maintain.lock`); a record may run alongside it.
 *
 * `MAILGIT_MAINTAIN=foreground|background|off` overrides the choice (tests, debugging).
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDue, maintain, pendingWork } from '../git/maintain.js';
import type { RepoPaths } from '../git/run.js';
import { LockedError } from '../util/errors.js';
import { withLockFile } from './lock.js';

/** Work above this many bytes (young packs + loose objects) is done in the background. */
export const BACKGROUND_BYTES = 1024 * 1024;

function lockPath({ gitDir }: RepoPaths): string {
  return join(gitDir, 'mailgit', 'maintain.lock');
}

/**
 * Packs until nothing is due, holding the maintenance lock; returns false (doing
 * nothing) when another maintenance holds it. Checks once more after letting the lock
 * go, so that a pack a record wrote while it saw the lock held is not left behind.
 */
export async function maintainUntilDone(repo: RepoPaths): Promise<boolean> {
  await mkdir(join(repo.gitDir, 'mailgit'), { recursive: true, mode: 0o700 });
  for (;;) {
    try {
      await withLockFile(lockPath(repo), { what: 'maintain' }, async () => {
        while ((await maintain(repo)).packed > 0) {
          // more may have arrived meanwhile
        }
      });
    } catch (e) {
      if (e instanceof LockedError) return false;
      throw e;
    }
    if (!isDue(await pendingWork(repo))) return true;
  }
}

/**
 * Called after a record: packs now when the work is small, else starts a detached
 * maintenance process and returns. Never throws: the commit is already safe, and a
 * packing that fails leaves work the next record picks up (a warning says so).
 */
export async function scheduleMaintenance(repo: RepoPaths): Promise<void> {
  try {
    const mode = process.env.MAILGIT_MAINTAIN ?? 'auto';
    if (mode === 'off') return;
    const work = await pendingWork(repo);
    if (!isDue(work)) return;
    const big = work.youngBytes + work.loose.bytes >= BACKGROUND_BYTES;
    if (mode === 'background' || (mode !== 'foreground' && big)) {
      const script = fileURLToPath(new URL('./maintainMain.js', import.meta.url));
      const child = spawn(process.execPath, [script, repo.root, repo.gitDir], { detached: true, stdio: 'ignore', cwd: repo.root });
      child.on('error', () => undefined);
      child.unref();
      return;
    }
    await maintainUntilDone(repo);
  } catch (e) {
    process.stderr.write(`mailgit: warning: packing skipped: ${(e as Error).message}\n`);
  }
}
