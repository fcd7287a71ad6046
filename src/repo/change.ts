/**
 * Writing a change that mailgit itself decides (a restore, an undo) as a new commit on
 * the branch and bringing the Maildir along. Order is important:
 *   1. the caller holds the repo lock (a LockedRepo) and has recorded the client's changes first,
 *   2. the new tree and commit are written as objects only (`mktree`, `commit-tree`),
 *   3. the apply journal is written, the branch moves (compare-and-swap from HEAD), and
 *      the files appear through `tmp/`, fsync, rename (apply.ts).
 * A crash before the branch moves leaves an unreferenced commit only: nothing restored.
 * A crash after it leaves the journal, and the next mailgit command finishes writing the
 * files: the change is never left half done, and it replicates like any other commit.
 */
import { commitTree, formatMessage } from '../git/commit.js';
import { readStamp } from '../git/stamps.js';
import { nextClock } from '../merge/clock.js';
import { editTree } from '../git/tree.js';
import type { TreeEdit } from '../git/tree.js';
import { applyCommit, type ApplyOptions } from './apply.js';
import { scheduleMaintenance } from './maintenance.js';
import type { LockedRepo } from './lock.js';
import { perfMark } from '../util/perf.js';

/** A change to commit: its subject, its "FOLDER: …" lines and the path edits against HEAD. */
export interface Change {
  subject: string;
  lines: string[];
  edits: TreeEdit[];
}

/** A change to commit on top of `head`, and who hears of the files written. */
export interface ChangeRequest {
  head: string;
  change: Change;
  progress?: ApplyOptions['progress'] | undefined;
}

/** A tree written already, to commit on top of `head` as a change, and who hears of the files written. */
export interface TreeChangeRequest {
  head: string;
  change: { subject: string; lines: string[]; tree: string };
  progress?: ApplyOptions['progress'] | undefined;
}

/**
 * Commits `change` on top of `head` and applies it to the Maildir (see the module
 * comment), telling `progress` about the files written; returns the new commit.
 */
export async function commitChange(repo: LockedRepo, { head, change, progress }: ChangeRequest): Promise<string> {
  const tree = await editTree(repo.root, head, change.edits);
  perfMark('change: tree written');
  return commitTreeChange(repo, { head, change: { subject: change.subject, lines: change.lines, tree }, progress });
}

/**
 * Commits the tree `change.tree` (written already) on top of `head` as a change and
 * applies it like {@link commitChange}; returns the new commit. The apply reads the diff
 * itself: one that only adds (a restore) is written in batches, never held whole.
 */
export async function commitTreeChange(repo: LockedRepo, { head, change, progress }: TreeChangeRequest): Promise<string> {
  const now = Date.now();
  const clock = nextClock((await readStamp(repo.root, head)).clock, now);
  const message = formatMessage(change.subject, change.lines.join('\n'), { replica: repo.replica, clock });
  const commit = await commitTree(repo.root, { tree: change.tree, parents: [head], message, time: now });
  const { notes } = await applyCommit(repo, { from: head, to: commit, origin: 'this replica', progress });
  // What the apply kept instead of writing over or removing it (an edit no record had seen): said, as a sync says it.
  for (const note of notes) process.stderr.write(`mailgit: warning: ${note}\n`);
  perfMark('change: applied');
  await scheduleMaintenance(repo);
  return commit;
}

/** Counts per folder as "FOLDER: N label" lines, sorted by folder. */
export function countLines(folders: string[], label: string): string[] {
  const counts = new Map<string, number>();
  for (const f of folders) counts.set(f, (counts.get(f) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([f, n]) => `${f}: ${n} ${label}`);
}
