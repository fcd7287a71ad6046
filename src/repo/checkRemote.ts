/**
 * `mailgit check --remote R`: whether this replica and remote R hold the same mail, by
 * one comparison of tree ids after a `git fetch` of R (validated like any remote data is
 * before a merge, so nothing of R is trusted here either: it is only compared).
 */
import { readHead, resolveCommit, treeOf } from '../git/commit.js';
import { diffTrees } from '../git/diff.js';
import { git } from '../git/run.js';
import { EMPTY_TREE } from '../git/tree.js';
import { describeDiff } from '../sync/describeDiff.js';
import { listRemotes } from '../sync/remoteStatus.js';
import { fetchRemote } from '../sync/remotes.js';
import { gitReplica } from '../sync/replica.js';
import { UnknownRemoteError } from '../sync/remoteAdmin.js';
import type { LockedRepo } from './lock.js';

/** How this replica and a remote compare. */
export interface RemoteComparison {
  remote: string;
  same: boolean;
  /** The two tree ids (null for a side without history). */
  here: string | null;
  there: string | null;
  /** Commits only here and only there. */
  ahead: number;
  behind: number;
  /** What this replica has that the remote has not, or differently, from the remote's tree to this one. */
  differences: string[];
}

/** Fetches remote `name` and compares its branch with HEAD. */
export async function compareRemote(repo: LockedRepo, name: string): Promise<RemoteComparison> {
  const remote = (await listRemotes(repo)).find((r) => r.name === name);
  if (!remote) throw new UnknownRemoteError(name);
  await fetchRemote(gitReplica(repo).store, remote);
  const head = await readHead(repo.root);
  const theirs = await resolveCommit(repo.root, `refs/remotes/${name}/main`);
  const here = head ? await treeOf(repo.root, head) : null;
  const there = theirs ? await treeOf(repo.root, theirs) : null;
  let ahead = 0;
  let behind = 0;
  if (head && theirs) {
    const counts = (await git(['rev-list', '--left-right', '--count', `${head}...${theirs}`], { cwd: repo.root })).stdout.toString('utf8').trim().split(/\s+/);
    ahead = Number(counts[0]);
    behind = Number(counts[1]);
  }
  const same = here === there;
  const differences = same ? [] : describeDiff(repo.layout, await diffTrees(repo.root, { from: there ?? EMPTY_TREE, to: here ?? EMPTY_TREE }));
  return { remote: name, same, here, there, ahead, behind, differences };
}
