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
 *
 * A {@link RecordSession} owns what recording keeps between records: a one-shot session
 * (what {@link record} is) starts its git processes and ends them; a resident one (watch)
 * keeps one tree reader, one importer and HEAD's listings, and packs alongside. Every
 * record takes a {@link LockedRepo}: the caller holds the repo lock.
 */
import { BRANCH, commitTree, formatMessage } from '../git/commit.js';
import { editTree } from '../git/tree.js';
import { fastCommit } from '../git/fastCommit.js';
import { readStamp } from '../git/stamps.js';
import { nextClock } from '../merge/clock.js';
import { FastCommitter } from '../git/fastCommit.js';
import type { FastCommitInput } from '../git/fastCommit.js';
import { TreeIO } from '../git/treeio.js';
import { EX, MailgitError, RaceError } from '../util/errors.js';
import { bumpEvent, describeChanges, formatEvents } from '../maildir/describe.js';
import type { FolderEvents } from '../maildir/describe.js';
import { folderName, folderOfMarker, isFolderMarker } from '../maildir/layout.js';
import type { Repo } from './repo.js';
import { scanChanges, unrecordedEdits } from './scan.js';
import type { Scan, ScanOptions } from './scan.js';
import { addSuspects, saveDirState } from './dirstate.js';
import { droppedMessages } from './applyPlan.js';
import type { PathChange } from '../git/diff.js';
import { maintainUntilDone, scheduleMaintenance } from './maintenance.js';
import { copyAliases } from './copies.js';
import { applyPending, finishPendingApply } from './apply.js';
import { refusedMovePending, repairRefusedMove } from './refusedMove.js';
import { ListingCache } from './listingCache.js';
import { assertLocked } from './lock.js';
import type { LockedRepo } from './lock.js';
import { perfMark } from '../util/perf.js';
import { checkGitView, syncGitIndex } from './gitIndex.js';
import { keepRootFiles } from './rootFiles.js';
import { removeStale } from './sameKey.js';
import { counted } from '../util/words.js';

/** What a recording made. */
export interface RecordResult {
  commit: string;
  /** One line per folder, as in the commit message. */
  summary: string[];
  /** The same changes as event counts per folder (maildir/describe.ts). */
  events: Map<string, FolderEvents>;
}

/** Options for one record. */
export interface RecordOptions {
  /** Subject line (default: the summary). */
  message?: string;
  /**
   * Names a watcher saw change, per message directory (see {@link ScanOptions}): they
   * narrow the comparison only where a resident session has HEAD's listing.
   */
  hints?: ScanOptions['hints'];
  /** Told of the new files read into git (see {@link ScanOptions}). */
  progress?: ScanOptions['progress'];
}

/** Options for a {@link RecordSession}. */
export interface RecordSessionOptions {
  /**
   * Keep git processes and HEAD's listings between records, and pack alongside the next
   * records instead of scheduling a packing per record (watch). Default false: one-shot.
   */
  resident?: boolean;
  /** Told when packing fails (resident only; the commit is safe regardless). */
  onWarning?: (message: string) => void;
  /**
   * One-shot only: schedule one packing when the session closes instead of one after each
   * record (a fetch makes a commit per ~1,000 messages; folding each one's pack into the
   * history pack again and again cost it 40 % of its CPU, see docs/design.md).
   */
  packOnClose?: boolean;
}

/** Summarises a scan per folder, including folders created or removed and settings changed. */
export function summarize(repo: Repo, scan: Scan, aliases?: ReadonlyMap<string, string>): Map<string, FolderEvents> {
  const added = [...scan.added, ...scan.edited];
  const removed = [...scan.removed, ...scan.edited.map((e) => ({ path: e.path, oid: e.was }))];
  const events = describeChanges(repo.layout, { added, removed, aliases });
  for (const f of scan.files) {
    if (isFolderMarker(f.path)) {
      bumpEvent(events, folderName(repo.layout, folderOfMarker(f.path)), f.oid === null ? 'folder_removed' : 'folder_created');
    } else {
      bumpEvent(events, 'settings', `${f.oid === null ? 'setting_removed' : 'setting_updated'}:${f.path.replace(/^\.mailgit\//, '')}`);
    }
  }
  return events;
}

/** The per-folder lines of a scan, as a commit message and `status` give them. */
export async function scanSummary(repo: Repo, scan: Scan): Promise<Map<string, FolderEvents>> {
  return summarize(repo, scan, await copyAliases(repo.root, scan.added, scan.removed));
}

/** The commit message for `scan`: the subject given or the summary, the lines, the replica's stamp at `now`. */
async function commitMessage(repo: Repo, scan: Scan, { lines, given, now }: { lines: string[]; given: string | undefined; now: number }): Promise<string> {
  const subject = given ?? (lines.length === 1 ? lines[0]! : `record: ${counted(lines.length, 'folder')} changed`);
  // A HEAD without a clock (a user's plain `git commit`) takes its ancestors' (src/merge/clock.ts).
  const behind = scan.headClock ?? (await readStamp(repo.root, scan.head!)).clock;
  return formatMessage(subject, lines.join('\n'), { replica: repo.replica, clock: nextClock(behind, now) });
}

/**
 * Records the work tree of one repo, commit after commit: see the module comment. Close
 * it when done (a resident session ends its git processes and waits for its packing).
 */
export class RecordSession {
  private io: TreeIO | null = null;
  private committer: FastCommitter | null = null;
  /** HEAD's listings of the directories recorded (resident only). */
  private readonly cache: ListingCache | undefined;
  private packing: Promise<void> | null = null;
  /** A record committed whose packing waits for {@link close} (`packOnClose`). */
  private unpacked = false;

  /** Prepares a session for `repo` (git starts at the first record). */
  constructor(
    private readonly repo: Repo,
    private readonly opts: RecordSessionOptions = {},
  ) {
    this.cache = opts.resident ? new ListingCache() : undefined;
  }

  /**
   * Records everything the mail client changed as one commit on the branch; `null` when
   * there is nothing to record. A resident session that fails replaces its git processes
   * (their git may be gone) before it throws.
   */
  async record(locked: LockedRepo, opts: RecordOptions = {}): Promise<RecordResult | null> {
    assertLocked(locked);
    if (locked.gitDir !== this.repo.gitDir)
      throw new MailgitError(`mailgit bug: a record session of ${this.repo.root} asked to record ${locked.root}`, 'ESESSION', EX.SOFTWARE);
    try {
      return await this.recordOnce(locked, opts);
    } catch (e) {
      if (this.opts.resident) await this.endProcesses();
      throw e;
    }
  }

  private async recordOnce(repo: LockedRepo, opts: RecordOptions): Promise<RecordResult | null> {
    perfMark('record: start');
    await checkGitView(repo);
    await finishPendingApply(repo);
    await repairRefusedMove(repo);
    const scan = await scanChanges(repo, { cache: this.cache, hints: opts.hints, io: this.treeIO(), progress: opts.progress });
    perfMark('record: scanned');
    await keepRootFiles(repo.root, scan);
    await removeStale(repo.root, scan.stale);
    if (scan.edits.length === 0) {
      await saveDirState(repo, scan.state);
      if (scan.head) await syncGitIndex(repo, { from: scan.head, to: scan.head, changes: [], unwritten: scan.unwritten });
      return null;
    }
    const events = await scanSummary(repo, scan);
    const lines = formatEvents(events);
    const now = Date.now();
    const message = await commitMessage(repo, scan, { lines, given: opts.message, now });
    const commit = await this.commit({ ref: BRANCH, parent: scan.head, edits: scan.edits, dirSizes: scan.dirSizes, message, when: now / 1000 });
    perfMark('record: committed');
    this.cache?.advance(scan.head, commit, scan.edits);
    await saveDirState(repo, { ...scan.state, head: commit });
    perfMark('record: cache saved');
    await syncGitIndex(repo, { from: scan.head, to: commit, changes: scan.edits, unwritten: scan.unwritten });
    perfMark('record: index updated');
    if (this.opts.resident) this.pack();
    else if (this.opts.packOnClose) this.unpacked = true;
    else await scheduleMaintenance(repo);
    return { commit, summary: lines, events };
  }

  /** The tree reader: the session's own when resident, else none (the scan starts one per attempt). */
  private treeIO(): TreeIO | undefined {
    if (!this.opts.resident) return undefined;
    this.io ??= new TreeIO(this.repo.root);
    return this.io;
  }

  /** Writes the commit and moves the branch: through the long-lived importer when resident. */
  private async commit(input: FastCommitInput): Promise<string> {
    if (!this.opts.resident) return fastCommit(this.repo.root, input);
    this.committer ??= new FastCommitter(this.repo.root);
    const commit = await this.committer.commit(input);
    // A long-lived importer only warns when it cannot move the branch: look.
    if ((await this.treeIO()!.read(`${BRANCH}^{commit}`))?.oid !== commit) {
      throw new RaceError(`${BRANCH} moved while recording; nothing recorded, try again`);
    }
    return commit;
  }

  /**
   * Packs the new tree versions as deltas (see maintain.ts) alongside the next records
   * (resident; a one-shot record schedules it instead). The commit is already safe: a
   * failure here only leaves a pack that the next run folds in.
   */
  private pack(): void {
    this.packing ??= maintainUntilDone(this.repo)
      .then(
        () => undefined,
        (e: Error) => this.opts.onWarning?.(`packing skipped: ${e.message}`),
      )
      .finally(() => (this.packing = null));
  }

  private async endProcesses(): Promise<void> {
    this.io?.close();
    this.io = null;
    const committer = this.committer;
    this.committer = null;
    await committer?.close();
  }

  /** Resolves when the packing that earlier records started has ended (benchmarks wait so). */
  async packed(): Promise<void> {
    if (this.packing) await this.packing;
  }

  /** Ends the session's git processes and waits for its packing (or, with `packOnClose`, schedules it). */
  async close(): Promise<void> {
    await this.endProcesses();
    await this.packed();
    if (!this.unpacked) return;
    this.unpacked = false;
    await scheduleMaintenance(this.repo);
  }
}

/**
 * Records everything the mail client changed as one commit on the branch, in a one-shot
 * {@link RecordSession}. Returns `null` when there is nothing to record.
 */
export async function record(repo: LockedRepo, opts: RecordOptions = {}): Promise<RecordResult | null> {
  const session = new RecordSession(repo);
  try {
    return await session.record(repo, opts);
  } finally {
    await session.close();
  }
}

/**
 * Records the edits in place that no record found yet (a file written into, its directory
 * unchanged since) in the messages an apply of `changes` would overwrite or remove, before
 * it does: a sync then merges them as the edits they are (against the other side's edit or
 * deletion of the message) instead of writing over them. Only a file changed since its
 * directory's last audit is read. Returns null when there was none.
 */
export async function recordDroppedEdits(repo: LockedRepo, changes: readonly PathChange[]): Promise<RecordResult | null> {
  const edited = await unrecordedEdits(repo, droppedMessages(changes));
  if (edited.length === 0) return null;
  await addSuspects(repo, edited);
  return record(repo);
}

/** What a record would commit, made in the object store only (see {@link previewRecord}). */
export interface RecordPreview {
  /** The commit a record would make on HEAD; no ref points to it. */
  commit: string;
  /** Its per-folder lines, as the record would say them. */
  summary: string[];
}

/**
 * What {@link record} would commit now, written as blobs, a tree and a commit in the
 * object store only: no ref, no index, no directory cache moves and the Maildir is left
 * as it is (a dry run's sync plans its merges on it). `null` when nothing changed. An
 * apply left unfinished, or a refused plain git move to put right, is refused (exit 75):
 * the real record would finish or repair it first.
 */
export async function previewRecord(repo: LockedRepo): Promise<RecordPreview | null> {
  await checkGitView(repo, { readOnly: true });
  if (await applyPending(repo))
    throw new MailgitError(
      'a sync was stopped while writing mail into the Maildir: a dry run cannot plan on that; run the command without -n, which finishes it first',
      'EPENDING',
      EX.TEMPFAIL,
    );
  if (await refusedMovePending(repo))
    throw new MailgitError(
      "a plain git command rewrote the Maildir before mailgit's hook refused it: a dry run cannot plan on that; run the command without -n, which puts HEAD's mail back first",
      'EPENDING',
      EX.TEMPFAIL,
    );
  const scan = await scanChanges(repo);
  if (scan.edits.length === 0) return null;
  const summary = formatEvents(await scanSummary(repo, scan));
  const now = Date.now();
  const message = await commitMessage(repo, scan, { lines: summary, given: undefined, now });
  const tree = await editTree(repo.root, scan.head, scan.edits);
  return { commit: await commitTree(repo.root, { tree, parents: scan.head ? [scan.head] : [], message, time: now }), summary };
}
