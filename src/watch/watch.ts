/**
 * `watch`: record what mail clients do as they do it.
 *
 *   events ──► debounce (quiet period, capped) ──► [lock → record → unlock] ──► sync?
 *                       periodic full check ──┘
 *
 * One worker runs the steps in turn, so a record and a sync never overlap inside this
 * process; other processes (a `mailgit sync`, `deliver`, cron `fetch`) are kept out by the
 * repo lock, which the worker waits for a while and otherwise retries later.
 *
 * Its own applies are not re-recorded: a sync leaves the work tree equal to HEAD, so the
 * record that the apply's file events trigger finds nothing and makes no commit.
 */
import type { Repo } from '../repo/repo.js';
import { withRepoLock } from '../repo/lock.js';
import { record } from '../repo/record.js';
import type { RecordResult } from '../repo/record.js';
import { ListingCache } from '../repo/listingCache.js';
import { TreeIO } from '../git/treeio.js';
import { FastCommitter } from '../git/fastCommit.js';
import { maintainUntilDone } from '../repo/maintenance.js';
import { LockedError } from '../util/errors.js';
import { DirWatcher } from './dirwatch.js';
import type { WatchEvent } from './dirwatch.js';
import type { SyncOutcome } from './sync.js';

/** Options for {@link startWatch}. */
export interface WatchOptions {
  /** Quiet time after the last event before recording (default 300 ms). */
  quietMs?: number;
  /** Longest a continuous stream of events delays a commit (default 5 s). */
  maxDelayMs?: number;
  /** Period of the full check (re-walk folders, record, sync), default 300 s; 0 disables. */
  intervalMs?: number;
  /** How long one attempt waits for the repo lock (default 10 s); then it retries later. */
  lockWaitMs?: number;
  /** Syncs with the remotes; called after commits (rate-limited) and every interval. */
  sync?: () => Promise<SyncOutcome>;
  /** Least time between two syncs triggered by commits (default 10 s). */
  syncGapMs?: number;
  /** Called after each commit. */
  onCommit?: (r: RecordResult) => void;
  /** Called after each sync. */
  onSync?: (outcome: SyncOutcome, ms: number) => void;
  /** Called for trouble that the watcher survives (lock held, sync failed). */
  onWarning?: (message: string) => void;
}

/** A running watch. */
export interface Watch {
  /** Number of directory watches. */
  readonly watches: number;
  /** Number of folders watched. */
  readonly folders: number;
  /** Commits made so far. */
  readonly commits: number;
  /** Resolves when nothing is pending or running (for tests and shutdown). */
  idle(): Promise<void>;
  /** Forces a full check now (re-walk, record, sync). */
  check(): Promise<void>;
  /** Stops watching, records what is pending, and resolves when done. */
  stop(): Promise<void>;
}

/** Starts watching `repo`; resolves once the watches are in place and a first record ran. */
export async function startWatch(repo: Repo, opts: WatchOptions = {}): Promise<Watch> {
  const quietMs = opts.quietMs ?? 300;
  const maxDelayMs = opts.maxDelayMs ?? 5000;
  const intervalMs = opts.intervalMs ?? 300_000;
  const lockWaitMs = opts.lockWaitMs ?? 10_000;
  const syncGapMs = opts.syncGapMs ?? 10_000;
  const warn = opts.onWarning ?? (() => undefined);

  let stopped = false;
  let commits = 0;
  // What the worker has to do.
  let needRecord = false;
  let needRefresh = false;
  let needSync = false;
  let burstStart = 0;
  let timer: NodeJS.Timeout | null = null;
  let syncTimer: NodeJS.Timeout | null = null;
  let lastSync = 0;
  let running: Promise<void> | null = null;
  let idleWaiters: (() => void)[] = [];

  const onEvent = (e: WatchEvent) => {
    if (stopped) return;
    if (e.type === 'structure') needRefresh = true;
    if (e.type === 'change' && e.name !== null) {
      let names = hints.get(e.dir);
      if (!names) hints.set(e.dir, (names = new Set()));
      names.add(e.name);
    } else unhinted.add(e.dir);
    needRecord = true;
    const now = Date.now();
    if (timer === null) burstStart = now;
    if (timer !== null) clearTimeout(timer);
    const wait = Math.max(0, Math.min(quietMs, burstStart + maxDelayMs - now));
    timer = setTimeout(kick, wait);
  };

  const dirs = new DirWatcher(repo.root, onEvent);
  // Kept between records so that one flag change costs little in a big folder: HEAD's
  // listings of the directories recorded, one tree reader, and the names events named
  // (a directory with an event without a name is compared in full).
  const listings = new ListingCache();
  let io = new TreeIO(repo.root);
  let committer = new FastCommitter(repo.root);
  // Packing after a record runs here, alongside the next records (maintenance.ts).
  let packing: Promise<unknown> | null = null;
  const pack = () => {
    packing ??= maintainUntilDone(repo.root, repo.gitDir)
      .catch((e: Error) => warn(`packing skipped: ${e.message}`))
      .finally(() => (packing = null));
  };
  let hints = new Map<string, Set<string>>();
  let unhinted = new Set<string>();
  // Set by the periodic full check: the next record compares every changed directory in
  // full, whatever events named (so that one whose events keep coming is still checked).
  let fullNext = false;
  const recordNow = (): Promise<RecordResult | null> => {
    const named = fullNext ? new Map<string, Set<string>>() : hints;
    for (const d of unhinted) named.delete(d);
    hints = new Map();
    unhinted = new Set();
    fullNext = false;
    return withRepoLock(repo, 'watch', () => record(repo, { cache: listings, hints: named, io, committer, callerPacks: true }), { waitMs: lockWaitMs }).then(
      (r) => {
        if (r) pack();
        return r;
      },
      async (e: unknown) => {
        // Readers and importer are replaced (their git may be gone); the next record
        // compares in full.
        io.close();
        io = new TreeIO(repo.root);
        await committer.close();
        committer = new FastCommitter(repo.root);
        throw e;
      },
    );
  };

  function kick(): void {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (running) return; // the worker loops until nothing is left
    running = work().finally(() => {
      running = null;
      if (!stopped && (needRecord || needRefresh) && timer === null) timer = setTimeout(kick, quietMs);
      if (timer === null && syncTimer === null) {
        const w = idleWaiters;
        idleWaiters = [];
        for (const f of w) f();
      }
    });
  }

  function scheduleSync(delay: number): void {
    if (!opts.sync || stopped) return;
    needSync = true;
    if (syncTimer !== null) return;
    syncTimer = setTimeout(
      () => {
        syncTimer = null;
        kick();
      },
      Math.max(delay, lastSync + syncGapMs - Date.now(), 0),
    );
  }

  async function work(): Promise<void> {
    for (;;) {
      if (needRefresh) {
        needRefresh = false;
        await dirs.refresh().catch((e: Error) => warn(`cannot watch a folder: ${e.message}`));
      }
      if (needRecord) {
        needRecord = false;
        try {
          const r = await recordNow();
          if (r) {
            commits++;
            opts.onCommit?.(r);
            scheduleSync(quietMs);
          }
        } catch (e) {
          needRecord = true;
          if (e instanceof LockedError) warn(`${e.message} (will retry)`);
          else warn(`cannot record: ${(e as Error).message} (will retry)`);
          if (!stopped) await sleep(1000);
          if (stopped) return;
          continue;
        }
      }
      if (needSync && syncTimer === null && opts.sync && !stopped) {
        needSync = false;
        const t0 = Date.now();
        try {
          const outcome = await opts.sync();
          opts.onSync?.(outcome, Date.now() - t0);
          for (const f of outcome.failures) warn(`sync: ${f} (will retry at the next change or check)`);
        } catch (e) {
          warn(`sync failed: ${(e as Error).message} (will retry at the next change or check)`);
        }
        lastSync = Date.now();
      }
      if (!needRecord && !needRefresh) return;
      if (timer !== null) return; // a burst is still going on: let the debounce decide
    }
  }

  // Full check: periodically, and at once after a wall-clock jump (a suspended laptop).
  let lastTick = Date.now();
  const tickMs = intervalMs > 0 ? Math.min(5000, intervalMs) : 5000;
  let sinceCheck = 0;
  const ticker = setInterval(() => {
    const now = Date.now();
    const jumped = now - lastTick > tickMs + 10_000;
    lastTick = now;
    sinceCheck += tickMs;
    if (jumped || (intervalMs > 0 && sinceCheck >= intervalMs)) {
      sinceCheck = 0;
      void check();
    }
  }, tickMs);
  ticker.unref();

  async function check(): Promise<void> {
    needRefresh = true;
    needRecord = true;
    fullNext = true;
    if (opts.sync) needSync = true;
    kick();
    await idle();
  }

  function idle(): Promise<void> {
    if (!running && timer === null && syncTimer === null) return Promise.resolve();
    return new Promise((r) => idleWaiters.push(r));
  }

  await dirs.refresh();
  needRecord = true; // record what changed while nobody watched
  kick();
  await running;
  scheduleSync(0); // and catch up with the other machines (not awaited: the network may be slow)

  return {
    get watches() {
      return dirs.size;
    },
    get folders() {
      return dirs.folders;
    },
    get commits() {
      return commits;
    },
    idle,
    check,
    async stop() {
      stopped = true;
      clearInterval(ticker);
      dirs.close();
      if (syncTimer !== null) clearTimeout(syncTimer);
      syncTimer = null;
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
      if (running) await running;
      // Record what is pending (one attempt); a sync is left to the next run.
      if (needRecord) {
        try {
          const r = await recordNow();
          if (r) {
            commits++;
            opts.onCommit?.(r);
          }
        } catch (e) {
          warn(`not recorded at exit: ${(e as Error).message}; the next commit records it`);
        }
      }
      io.close();
      await committer.close();
      if (packing) await packing;
      const w = idleWaiters;
      idleWaiters = [];
      for (const f of w) f();
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
