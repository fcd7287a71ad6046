/**
 * Odd states plain git can leave a mail repo in (a detached HEAD, another branch, a
 * deleted `main`, a merge, rebase, cherry-pick or stash stopped half way). mailgit
 * records only on `main` with nothing half done: each state is refused with one line
 * saying what it is and the command that leads back. Cheap enough for every record:
 * one listing of `.git`, one read of `HEAD`, a stat or two.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EX, MailgitError } from '../util/errors.js';
import type { Repo } from './repo.js';

/** A repo state mailgit does not record in; the message names the way back. */
export class GitStateError extends MailgitError {
  /** Creates the error; `what` says what is wrong, `fix` the command to run. */
  constructor(what: string, fix: string) {
    super(`${what}: run \`${fix}\`, then mailgit again`, 'EGITSTATE', EX.CONFIG);
  }
}

/** Operations git leaves half done, by the file or directory that marks them. */
const IN_PROGRESS: [string, string, string][] = [
  ['rebase-merge', 'a plain git rebase is in progress', 'git rebase --abort'],
  ['rebase-apply', 'a plain git rebase or am is in progress', 'git rebase --abort'],
  ['MERGE_HEAD', 'a plain git merge is in progress', 'git merge --abort'],
  ['CHERRY_PICK_HEAD', 'a plain git cherry-pick is in progress', 'git cherry-pick --abort'],
  ['REVERT_HEAD', 'a plain git revert is in progress', 'git revert --abort'],
  ['BISECT_LOG', 'a git bisect is in progress', 'git bisect reset'],
];

function mainExists({ gitDir }: Pick<Repo, 'gitDir'>): boolean {
  try {
    if (statSync(join(gitDir, 'refs', 'heads', 'main')).isFile()) return true;
  } catch {
    // not a loose ref: maybe packed
  }
  try {
    return /^[0-9a-f]+ refs\/heads\/main$/m.test(readFileSync(join(gitDir, 'packed-refs'), 'utf8'));
  } catch {
    return false;
  }
}

/** Throws {@link GitStateError} when a rebase, merge, cherry-pick, revert or bisect is half done. */
export function checkInProgress(repo: Pick<Repo, 'gitDir'>): void {
  const names = new Set(readdirSync(repo.gitDir));
  for (const [marker, what, fix] of IN_PROGRESS) if (names.has(marker)) throw new GitStateError(what, fix);
}

/**
 * Throws {@link GitStateError} when the repo is not on an existing `main` (checked after
 * {@link checkInProgress}). `lastHead` is the last commit mailgit knew `main` at (null in
 * a repo that never had one, where an unborn `main` is simply new).
 */
export function checkHeadState(repo: Repo, lastHead: string | null): void {
  const head = readFileSync(join(repo.gitDir, 'HEAD'), 'utf8').trim();
  if (/^[0-9a-f]{40,64}$/.test(head)) {
    throw new GitStateError(`HEAD is detached at ${head.slice(0, 10)} (a plain git checkout of a commit); mailgit records only on main`, 'git checkout main');
  }
  const branch = head.replace(/^ref: refs\/heads\//, '');
  if (branch !== 'main')
    throw new GitStateError(`branch ${JSON.stringify(branch)} is checked out, not main; mailgit records only on main`, 'git checkout main');
  if (lastHead !== null && !mainExists(repo)) {
    throw new GitStateError('branch main is gone (deleted with plain git?)', `git update-ref refs/heads/main ${lastHead}`);
  }
}
