/**
 * The repo lock: one writing mailgit at a time (cron fetch, watch, sync, deliver).
 *
 * The lock is `.git/mailgit/lock`, created with O_EXCL and holding `pid what`. A lock
 * whose process is gone is stale and is taken over (renamed away, then retaken), so a
 * SIGKILLed mailgit never blocks the next run. Holding it, a command first clears the git
 * lock files a killed git left behind (src/repo/gitLocks.ts says how it tells them from
 * a live git's), so that they cannot block it either.
 */
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { EX, LockedError, MailgitError } from '../util/errors.js';
import type { Repo } from './repo.js';
import { stateDir } from './repo.js';
import { clearGitLeftovers } from './gitLocks.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryCreate(path: string, what: string): Promise<boolean> {
  // Written under a private name first and linked into place, so that the lock never
  // exists without its pid: an empty lock file would look stale to a waiter, which
  // would then take it over while we hold it.
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(`${process.pid} ${what}\n`);
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function holder(path: string): Promise<{ pid: number; what: string } | null> {
  try {
    const [pid, ...rest] = (await readFile(path, 'utf8')).trim().split(' ');
    return { pid: Number(pid), what: rest.join(' ') };
  } catch {
    return null;
  }
}

/** What {@link withRepoLock} and {@link withLockFile} take besides the work to run. */
export interface LockOptions {
  /** What the holder is doing, written into the lock file and named to a process that finds it held. */
  what: string;
  /** How long to keep retrying a held lock before giving up (default {@link LOCK_WAIT_MS}.none: fail at once). */
  waitMs?: number;
}

/** How long each kind of caller waits for a held repo lock before it fails with exit 75. */
export const LOCK_WAIT_MS = {
  /** Quick work a person or cron simply runs again (commit, fetch, init, account, demo): fail at once. */
  none: 0,
  /** Work that would rather wait out a record or sync in progress (sync, check, undo, restore, watch). */
  patient: 10_000,
  /** A delivery: the MTA retries on 75, but waiting is cheaper than its retry (deliver). */
  delivery: 30_000,
} as const;

/**
 * Proof that this process holds the repo lock, made only by {@link withRepoLock} and
 * valid only until its `fn` returns (a private field: no other object has this type).
 */
export class RepoLockHeld {
  #held = true;

  /** True until the lock is let go. */
  get held(): boolean {
    return this.#held;
  }

  /** Marks the lock as let go (withRepoLock only). */
  release(): void {
    this.#held = false;
  }
}

/** A repo whose lock this process holds: what record, applyCommit and syncRepo take. */
export interface LockedRepo extends Repo {
  readonly lock: RepoLockHeld;
}

/**
 * Throws when `repo`'s lock was let go: a LockedRepo kept past its {@link withRepoLock}
 * (a bug, exit 70).
 */
export function assertLocked(repo: LockedRepo): void {
  if (!repo.lock.held) throw new MailgitError(`mailgit bug: ${repo.root} written after its repo lock was let go`, 'ENOLOCK', EX.SOFTWARE);
}

/**
 * Runs `fn` with the repo as a {@link LockedRepo} while holding the repo lock. Throws
 * {@link LockedError} (exit 75) naming the holder's pid when another live mailgit holds
 * it for longer than `waitMs`.
 */
export async function withRepoLock<T>(repo: Repo, opts: LockOptions, fn: (locked: LockedRepo) => Promise<T>): Promise<T> {
  const dir = stateDir(repo);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return withLockFile(join(dir, 'lock'), opts, async () => {
    const removed = await clearGitLeftovers(repo);
    if (removed.length > 0)
      process.stderr.write(`mailgit: removed lock files and unfinished packs that no running git held (left by a killed git): ${removed.join(', ')}\n`);
    const lock = new RepoLockHeld();
    try {
      return await fn({ ...repo, lock });
    } finally {
      lock.release();
    }
  });
}

/**
 * Runs `fn` while holding the lock file `path` (same rules as the repo lock: O_EXCL,
 * the holder's pid inside, a dead holder's lock taken over).
 */
export async function withLockFile<T>(path: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + (opts.waitMs ?? LOCK_WAIT_MS.none);
  for (;;) {
    if (await tryCreate(path, opts.what)) break;
    const h = await holder(path);
    if (h === null || !Number.isFinite(h.pid) || !alive(h.pid)) {
      // Stale: move it aside atomically so that only one taker wins, then retry.
      const aside = `${path}.stale.${process.pid}`;
      await rename(path, aside).then(
        () => unlink(aside),
        () => undefined,
      );
      continue;
    }
    if (Date.now() >= deadline) throw new LockedError(h.pid, h.what);
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
