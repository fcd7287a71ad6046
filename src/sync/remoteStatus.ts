/**
 * How this replica stands against each remote, from the last fetched remote-tracking
 * ref: commits ahead and behind, whether the two trees are identical, what kind of
 * replica the remote is and when we last synced with it; and the pushes peers left in
 * our incoming refs, waiting for the next sync to merge them.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { git, gitText } from '../git/run.js';
import { readHead, resolveCommit, treeOf } from '../git/commit.js';
import type { Repo } from '../repo/repo.js';
import { describeDiff, restoredBetween } from './describeDiff.js';
import { diffTrees } from '../git/diff.js';
import { EMPTY_TREE } from '../git/tree.js';
import { isLocalUrl } from './remotes.js';

/**
 * What a remote is: a `hub` (a bare repository, pushed to directly), a `peer` (a replica
 * with a Maildir checked out, which merges our pushes at its next sync), or `unknown`
 * until the first sync tells.
 */
export type RemoteKind = 'hub' | 'peer' | 'unknown';

/** One remote's standing. */
export interface RemoteStanding {
  name: string;
  url: string;
  kind: RemoteKind;
  /** When this replica last synced with it (ISO 8601), or null. */
  lastSync: string | null;
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

/** Names of the remotes whose last fetch found a worktree marker (one git process). */
async function peersSeen(repo: Repo): Promise<Set<string>> {
  const out = await gitText(['for-each-ref', '--format=%(refname)', 'refs/mailgit/fetched/'], { cwd: repo.root });
  return new Set(
    out
      .split('\n')
      .map((r) => /^refs\/mailgit\/fetched\/(.+)\/worktree/.exec(r)?.[1])
      .filter((n): n is string => n !== undefined),
  );
}

/** Last-sync times by remote name (one git process). */
async function lastSyncs(repo: Repo): Promise<Map<string, string>> {
  const out = await git(['config', '--get-regexp', '^remote\\..*\\.mailgitsynced$'], { cwd: repo.root, okCodes: [1] });
  const times = new Map<string, string>();
  for (const line of out.stdout.toString('utf8').split('\n')) {
    const m = /^remote\.(.+)\.mailgitsynced (\d+)$/.exec(line);
    if (m) times.set(m[1]!, new Date(Number(m[2]) * 1000).toISOString());
  }
  return times;
}

/** A remote's kind: from its last fetch, else (a local path) from what is on disk. */
function kindOf(url: string, synced: boolean, peer: boolean): RemoteKind {
  if (peer) return 'peer';
  if (synced) return 'hub';
  if (!isLocalUrl(url)) return 'unknown';
  const dir = resolve(url.replace(/^file:\/\//i, ''));
  if (existsSync(join(dir, '.git'))) return 'peer';
  return existsSync(join(dir, 'objects')) ? 'hub' : 'unknown';
}

/** Returns each remote's standing against HEAD (no network: uses the last fetch). */
export async function remoteStatus(repo: Repo): Promise<RemoteStanding[]> {
  const head = await readHead(repo.root);
  const remotes = await listRemotes(repo);
  if (remotes.length === 0) return [];
  const [peers, times] = await Promise.all([peersSeen(repo), lastSyncs(repo)]);
  const out: RemoteStanding[] = [];
  for (const { name, url } of remotes) {
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
    const lastSync = times.get(name) ?? null;
    out.push({ name, url, kind: kindOf(url, lastSync !== null || tracking !== null, peers.has(name)), lastSync, tracking, ahead, behind, identical });
  }
  return out;
}

/** The prefix of the refs peers push to when our Maildir is checked out. */
export const INCOMING = 'refs/mailgit/incoming/';

/** The name shown for an incoming ref: its last part (`<id>/<name>`, or an older `<name>`). */
export function pusherName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1);
}

/** A push a peer left in our incoming refs. */
export interface WaitingPush {
  /** The peer's name as it gave it. */
  from: string;
  commit: string;
  /** What merging it would bring, as "FOLDER: …" lines (from where our histories part). */
  lines: string[];
}

/** The pushes waiting in `refs/mailgit/incoming/` for the next sync to merge. */
export async function waitingPushes(repo: Repo): Promise<WaitingPush[]> {
  const out = await gitText(['for-each-ref', '--format=%(refname) %(objectname) %(objecttype)', INCOMING], { cwd: repo.root });
  const head = await readHead(repo.root);
  const waiting: WaitingPush[] = [];
  for (const line of out.split('\n').filter(Boolean)) {
    const [ref, commit, type] = line.split(' ') as [string, string, string];
    if (type !== 'commit') continue;
    const base = head ? (await git(['merge-base', head, commit], { cwd: repo.root, okCodes: [1] })).stdout.toString('utf8').trim() || null : null;
    if (base === commit) continue;
    const change = await diffTrees(repo.root, { from: base ?? EMPTY_TREE, to: commit });
    waiting.push({ from: pusherName(ref), commit, lines: describeDiff(repo.layout, change, await restoredBetween(repo.root, base, commit)) });
  }
  return waiting;
}
