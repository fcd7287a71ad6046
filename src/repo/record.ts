/**
 * Recording the work tree as one commit. Order is important:
 *   1. scan (stat directories, list changed ones, hash unseen keys: objects only),
 *   2. one `git fast-import` writes the trees of the changed directories and the commit
 *      into a pack (fsynced), then moves the branch, only as a fast-forward of HEAD,
 *   3. save the directory cache, stamped with the new HEAD,
 *   4. fold the new pack into the history pack (maintain.ts), maybe in the background.
 * A crash before the branch moves leaves an unreferenced pack only; before 3 a stale
 * cache, which is ignored because its head no longer matches. An apply that a killed sync left half
 * done is finished first (see apply.ts), so that it is never mistaken for client changes.
 */
import { BRANCH, formatMessage } from '../git/commit.js';
import { fastCommit } from '../git/fastCommit.js';
import { readStamp } from '../git/stamps.js';
import { nextClock } from '../merge/clock.js';
import type { FastCommitter } from '../git/fastCommit.js';
import { EX, MailgitError } from '../util/errors.js';
import { bumpEvent, describeChanges, formatEvents } from '../maildir/describe.js';
import type { FolderEvents } from '../maildir/describe.js';
import { folderName } from '../maildir/layout.js';
import type { Repo } from './repo.js';
import { scanChanges } from './scan.js';
import type { Scan, ScanOptions } from './scan.js';
import { saveDirState } from './dirstate.js';
import { scheduleMaintenance } from './maintenance.js';
import { copyAliases } from './copies.js';
import { finishPendingApply } from './apply.js';
import type { ListingCache } from './listingCache.js';
import { perfMark } from '../util/perf.js';
import { checkGitView, syncGitIndex } from './gitIndex.js';
import { keepRootFiles } from './rootFiles.js';
import { removeStale } from './sameKey.js';

/** What a recording made. */
export interface RecordResult {
  commit: string;
  /** One line per folder, as in the commit message. */
  summary: string[];
  /** The same changes as event counts per folder (maildir/describe.ts). */
  events: Map<string, FolderEvents>;
}

/** Options for {@link record}. */
export interface RecordOptions {
  /** Subject line (default: the summary). */
  message?: string;
  /** What a long-running caller keeps between records (see {@link ScanOptions}). */
  cache?: ListingCache;
  hints?: ScanOptions['hints'];
  io?: ScanOptions['io'];
  /** A long-lived importer to commit with (needs `io`, through which the ref is checked). */
  committer?: FastCommitter;
  /** The caller packs (see maintenance.ts) instead of the record scheduling it. */
  callerPacks?: boolean;
}

/** Summarises a scan per folder, including folders created or removed and settings changed. */
export function summarize(repo: Repo, scan: Scan, aliases?: ReadonlyMap<string, string>): Map<string, FolderEvents> {
  const events = describeChanges(repo.layout, scan.added, scan.removed, aliases);
  for (const f of scan.files) {
    if (f.path.endsWith('/maildirfolder') || f.path === 'maildirfolder') {
      const dir = f.path.slice(0, Math.max(0, f.path.lastIndexOf('/')));
      bumpEvent(events, folderName(repo.layout, dir), f.oid === null ? 'folder_removed' : 'folder_created');
    } else {
      bumpEvent(events, 'settings', `${f.oid === null ? 'setting_removed' : 'setting_updated'}:${f.path.replace(/^\.mailgit\//, '')}`);
    }
  }
  return events;
}

/**
 * Records everything the mail client changed as one commit on the branch. Returns
 * `null` when there is nothing to record. The caller holds the repo lock.
 */
export async function record(repo: Repo, opts: RecordOptions = {}): Promise<RecordResult | null> {
  perfMark('record: start');
  await checkGitView(repo);
  await finishPendingApply(repo);
  const scan = await scanChanges(repo, { cache: opts.cache, hints: opts.hints, io: opts.io });
  perfMark('record: scanned');
  await keepRootFiles(repo.root, scan);
  await removeStale(repo.root, scan.stale);
  if (scan.edits.length === 0) {
    await saveDirState(repo, scan.state);
    if (scan.head) await syncGitIndex(repo, scan.head, scan.head, []);
    return null;
  }
  const events = summarize(repo, scan, await copyAliases(repo.root, scan.added, scan.removed));
  const lines = formatEvents(events);
  const subject = opts.message ?? (lines.length === 1 ? lines[0]! : `record: ${lines.length} folders changed`);
  // A HEAD without a clock (a user's plain `git commit`) takes its ancestors' (src/merge/clock.ts).
  const behind = scan.headClock ?? (await readStamp(repo.root, scan.head!)).clock;
  const now = Date.now();
  const message = formatMessage(subject, lines.join('\n'), { replica: repo.replica, clock: nextClock(behind, now) });
  const input = { ref: BRANCH, parent: scan.head, edits: scan.edits, message, when: now / 1000 };
  const commit = opts.committer && opts.io ? await opts.committer.commit(input) : await fastCommit(repo.root, input);
  // A long-lived importer only warns when it cannot move the branch: look.
  if (opts.committer && opts.io && (await opts.io.read(`${BRANCH}^{commit}`))?.oid !== commit) {
    throw new MailgitError(`${BRANCH} moved while recording; nothing recorded, try again`, 'ERACE', EX.TEMPFAIL);
  }
  perfMark('record: committed');
  opts.cache?.advance(scan.head, commit, scan.edits);
  await saveDirState(repo, { ...scan.state, head: commit });
  perfMark('record: cache saved');
  await syncGitIndex(repo, scan.head, commit, scan.edits);
  perfMark('record: index updated');
  // Pack the new tree versions as deltas (see maintain.ts). The commit is already safe:
  // a failure here only leaves a pack that the next run folds in.
  if (!opts.callerPacks) await scheduleMaintenance(repo.root, repo.gitDir);
  return { commit, summary: lines, events };
}
