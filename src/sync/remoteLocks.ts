/**
 * A push that meets a lock file held on the remote (`remote: error: … Unable to create
 * '…/refs/heads/main.lock': File exists`). git's receive-pack never removes a lock it did
 * not create, so a receive-pack killed mid-push (the pushing mailgit SIGKILLed with its
 * process group, a power cut) would make every later push fail. For a remote on a local
 * path, mailgit clears that repository's leftovers by the rules of its own
 * (src/repo/gitLocks.ts: only a lock no running git can hold), holding the peer's
 * mailgit lock when the remote is a mail repo, and pushes once more; otherwise, or when
 * the lock is really held, the push fails with 75 naming the remote and the lock.
 */
import { dirname, basename, join } from 'node:path';
import { stat } from 'node:fs/promises';
import { gitText } from '../git/run.js';
import { clearGitLeftovers } from '../repo/gitLocks.js';
import { withLockFile } from '../repo/lock.js';
import { EX, LockedError, MailgitError } from '../util/errors.js';

/** A lock file on the remote was held when we pushed. */
export class RemoteLockError extends MailgitError {
  /** Creates the error for remote `remote` and its lock file `lock`. */
  constructor(remote: string, lock: string) {
    super(`remote ${remote}: ${lock} is held by another git command there; try again when it has finished`, 'EGITLOCK', EX.TEMPFAIL);
  }
}

/** The remote's lock file named in a push's output ("remote: error: … Unable to create 'X.lock': File exists"), or null. */
export function remoteHeldLock(stderr: string): string | null {
  return /^remote: (?:error|fatal): (?:.*: )?Unable to create '([^'\n]+\.lock)': File exists/m.exec(stderr)?.[1] ?? null;
}

/**
 * Clears the git leftovers of the repository at local `url` (rules: src/repo/gitLocks.ts);
 * true when anything was removed. A mail repo's own lock is held meanwhile, so that its
 * mailgit does not start git there; a peer whose mailgit is running is left alone.
 */
export async function clearLocalRemoteLeftovers(url: string): Promise<boolean> {
  const path = url.replace(/^file:\/\//i, '');
  const gitDir = await gitText(['rev-parse', '--absolute-git-dir'], { cwd: path }).catch(() => null);
  if (!gitDir) return false;
  const root = basename(gitDir) === '.git' ? dirname(gitDir) : gitDir;
  const clear = async () => (await clearGitLeftovers({ root, gitDir })).length > 0;
  const mailgitDir = join(gitDir, 'mailgit');
  if (
    !(await stat(mailgitDir).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    return clear();
  try {
    return await withLockFile(join(mailgitDir, 'lock'), { what: 'clearing git leftovers for a push' }, clear);
  } catch (e) {
    if (e instanceof LockedError) return false;
    throw e;
  }
}
