/**
 * What `commit` would record now, without recording it: `status`'s answer about the work
 * tree. Read-only in the mail and in git: blob ids are computed without writing objects,
 * and the git index is only checked, so that it works in a repo this user cannot write.
 */
import { readHead } from '../git/commit.js';
import type { FolderEvents } from '../maildir/describe.js';
import { addSuspects } from './dirstate.js';
import { checkGitView } from './gitIndex.js';
import { withRepoLock } from './lock.js';
import { scanSummary } from './record.js';
import type { Repo } from './repo.js';
import { scanChanges } from './scan.js';

/** The work tree against HEAD. */
export interface WorkTreeStatus {
  /** HEAD's commit, or null before the first record. */
  head: string | null;
  /** True when a record would find nothing to commit. */
  clean: boolean;
  /** What a record would say, per folder (as in its commit message). */
  events: Map<string, FolderEvents>;
}

/**
 * Leaves the messages found edited in place to the next record: `status` audits every
 * name, a record only a step of each directory it lists, so they go into the directory
 * cache as suspects that the next record hashes (as `git status` refreshes git's index).
 * Best effort: in a repo this user cannot write, or while another mailgit holds the lock,
 * nothing changes.
 */
async function leaveSuspects(repo: Repo, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  await withRepoLock(repo, { what: 'status' }, () => addSuspects(repo, paths)).catch(() => undefined);
}

/** Compares the work tree of `repo` with HEAD, changing nothing but the directory cache (see above). */
export async function workTreeStatus(repo: Repo): Promise<WorkTreeStatus> {
  await checkGitView(repo, { readOnly: true });
  const scan = await scanChanges(repo, { write: false, auditAll: true });
  await leaveSuspects(
    repo,
    scan.edited.map((e) => e.path),
  );
  return { head: await readHead(repo.root), clean: scan.edits.length === 0, events: await scanSummary(repo, scan) };
}
