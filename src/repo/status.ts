/**
 * What `commit` would record now, without recording it: `status`'s answer about the work
 * tree. Read-only: blob ids are computed without writing objects, and the git index is
 * only checked, so that it works in a repo this user cannot write.
 */
import { readHead } from '../git/commit.js';
import type { FolderEvents } from '../maildir/describe.js';
import { checkGitView } from './gitIndex.js';
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

/** Compares the work tree of `repo` with HEAD, changing nothing. */
export async function workTreeStatus(repo: Repo): Promise<WorkTreeStatus> {
  await checkGitView(repo, { readOnly: true });
  const scan = await scanChanges(repo, { write: false });
  return { head: await readHead(repo.root), clean: scan.edits.length === 0, events: await scanSummary(repo, scan) };
}
