/**
 * How this replica stands against each remote, from the last fetched remote-tracking
 * ref: commits ahead and behind, and whether the two trees are identical.
 */
import { git, gitText } from '../git/run.js';
import { readHead, resolveCommit, treeOf } from '../git/commit.js';
import type { Repo } from '../repo/repo.js';

/** One remote's standing. */
export interface RemoteStanding {
  name: string;
  url: string;
  /** The remote's last fetched head, or null if never fetched. */
  tracking: string | null;
  ahead: number;
  behind: number;
  /** True when both heads have the same tree (same mail, same flags). */
  identical: boolean;
}

/** Lists the repo's git remotes. */
export async function listRemotes(repo: Repo): Promise<{ name: string; url: string }[]> {
  const out = await gitText(['remote', '-v'], { cwd: repo.root });
  const seen = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^(\S+)\t(.*) \((fetch|push)\)$/.exec(line);
    if (m && !seen.has(m[1]!)) seen.set(m[1]!, m[2]!);
  }
  return [...seen].map(([name, url]) => ({ name, url }));
}

/** Returns each remote's standing against HEAD (no network: uses the last fetch). */
export async function remoteStatus(repo: Repo): Promise<RemoteStanding[]> {
  const head = await readHead(repo.root);
  const out: RemoteStanding[] = [];
  for (const { name, url } of await listRemotes(repo)) {
    const tracking = await resolveCommit(repo.root, `refs/remotes/${name}/main`);
    let ahead = 0;
    let behind = 0;
    let identical = false;
    if (tracking && head) {
      const counts = (await git(['rev-list', '--left-right', '--count', `${head}...${tracking}`], { cwd: repo.root })).stdout.toString().trim().split(/\s+/);
      ahead = Number(counts[0]);
      behind = Number(counts[1]);
      identical = (await treeOf(repo.root, head)) === (await treeOf(repo.root, tracking));
    }
    out.push({ name, url, tracking, ahead, behind, identical });
  }
  return out;
}
