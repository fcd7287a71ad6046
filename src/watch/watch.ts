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
import { LOCK_WAIT_MS, withRepoLock } from '../repo/lock.js';
import { RecordSession } from '../repo/record.js';
import type { RecordResult } from '../repo/record.js';
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

/** The options of a watch with their defaults applied. */
type Settings = Required<Pick<WatchOptions, 'quietMs' | 'maxDelayMs' | 'intervalMs' | 'lockWaitMs' | 'syncGapMs'>> & { warn: (message: string) => void };

function settingsOf(opts: WatchOptions): Settings {
  return {
    quietMs: opts.quietMs ?? 300,
    maxDelayMs: opts.maxDelayMs ?? 5000,
    intervalMs: opts.intervalMs ?? 300_000,
    lockWaitMs: opts.lockWaitMs ?? LOCK_WAIT_MS.patient,
    syncGapMs: opts.syncGapMs ?? 10_000,
    warn: opts.onWarning ?? (() => undefined),
  };
}

/**
 * What the events since the last record named: the names per message directory, and the
 * directories with an event without a name (compared in full). Kept so that one flag
 * change costs little in a big folder.
 */
class EventHints {
  private named = new Map<string, Set<string>>();
  private unnamed = new Set<string>();
  /**
   * Set by the periodic full check: the next record compares every changed directory in
   * full, whatever events named (so that one whose events keep coming is still checked).
   */
  full = false;

  /** Notes what `e` names. */
  add(e: WatchEvent): void {
    if (e.type === 'change' && e.name !== null) {
      let names = this.named.get(e.dir);
      if (!names) this.named.set(e.dir, (names = new Set()));
      names.add(e.name);
    } else this.unnamed.add(e.dir);
  }

  /** The hints for the next record; the next ones start empty. */
  take(): Map<string, Set<string>> {
    const named = this.full ? new Map<string, Set<string>>() : this.named;
    for (const d of this.unnamed) named.delete(d);
    this.named = new Map();
    this.unnamed = new Set();
    this.full = false;
    return named;
  }
}

/** A running watch: the worker, its timers and what it has to do (see the module comment). */
class Watcher implements Watch {
  private readonly cfg: Settings;
  private readonly dirs: DirWatcher;
  /** One tree reader, one importer and HEAD's listings, kept between records; packs alongside. */
  private readonly session: RecordSession;
  private readonly hints = new EventHints();
  private stopped = false;
  private count = 0;
  // What the worker has to do.
  private needRecord = false;
  private needRefresh = false;
  private needSync = false;
  private burstStart = 0;
  private timer: NodeJS.Timeout | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private lastSync = 0;
  private running: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];
  private ticker: NodeJS.Timeout | null = null;

  constructor(
    private readonly repo: Repo,
    private readonly opts: WatchOptions,
  ) {
    this.cfg = settingsOf(opts);
    this.dirs = new DirWatcher(repo.root, (e) => this.onEvent(e));
    this.session = new RecordSession(repo, { resident: true, onWarning: this.cfg.warn });
  }

  get watches(): number {
    return this.dirs.size;
  }

  get folders(): number {
    return this.dirs.folders;
  }

  get commits(): number {
    return this.count;
  }

  /** Puts the watches in place, records what changed while nobody watched, and schedules a first sync. */
  async start(): Promise<void> {
    await this.dirs.refresh();
    this.needRecord = true;
    this.kick();
    await this.running;
    this.scheduleSync(0); // catch up with the other machines (not awaited: the network may be slow)
    this.startTicker();
  }

  private onEvent(e: WatchEvent): void {
    if (this.stopped) return;
    if (e.type === 'structure') this.needRefresh = true;
    this.hints.add(e);
    this.needRecord = true;
    // Debounce: a quiet period after the last event, capped from the first of a burst.
    const now = Date.now();
    if (this.timer === null) this.burstStart = now;
    else clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.cfg.quietMs, this.burstStart + this.cfg.maxDelayMs - now));
    this.timer = setTimeout(() => this.kick(), wait);
  }

  /** Starts the worker unless it runs (it loops until nothing is left). */
  private kick(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.running) return;
    this.running = this.work().finally(() => {
      this.running = null;
      if (!this.stopped && (this.needRecord || this.needRefresh) && this.timer === null) this.timer = setTimeout(() => this.kick(), this.cfg.quietMs);
      if (this.timer === null && this.syncTimer === null) this.wakeIdle();
    });
  }

  private wakeIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private scheduleSync(delay: number): void {
    if (!this.opts.sync || this.stopped) return;
    this.needSync = true;
    if (this.syncTimer !== null) return;
    const wait = Math.max(delay, this.lastSync + this.cfg.syncGapMs - Date.now(), 0);
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      this.kick();
    }, wait);
  }

  /** The worker: refresh the watches, record, sync, in turn, until nothing is left. */
  private async work(): Promise<void> {
    for (;;) {
      if (this.needRefresh) {
        this.needRefresh = false;
        await this.dirs.refresh().catch((e: Error) => this.cfg.warn(`cannot watch a folder: ${e.message}`));
      }
      if (this.needRecord) {
        this.needRecord = false;
        if (!(await this.recordStep())) {
          if (this.stopped) return;
          continue;
        }
      }
      if (this.needSync && this.syncTimer === null && this.opts.sync && !this.stopped) await this.syncStep(this.opts.sync);
      if (!this.needRecord && !this.needRefresh) return;
      if (this.timer !== null) return; // a burst is still going on: let the debounce decide
    }
  }

  /** Records what the events named, under the lock; false when it failed (retried after a second). */
  private async recordStep(): Promise<boolean> {
    try {
      if (await this.recordNow()) this.scheduleSync(this.cfg.quietMs);
      return true;
    } catch (e) {
      this.needRecord = true;
      if (e instanceof LockedError) this.cfg.warn(`${e.message} (will retry)`);
      else this.cfg.warn(`cannot record: ${(e as Error).message} (will retry)`);
      if (!this.stopped) await sleep(1000);
      return false;
    }
  }

  /** One record under the repo lock (waiting a while for it); counts and reports a commit. */
  private async recordNow(): Promise<RecordResult | null> {
    const hints = this.hints.take();
    const r = await withRepoLock(this.repo, { what: 'watch', waitMs: this.cfg.lockWaitMs }, (locked) => this.session.record(locked, { hints }));
    if (r) {
      this.count++;
      this.opts.onCommit?.(r);
    }
    return r;
  }

  private async syncStep(sync: () => Promise<SyncOutcome>): Promise<void> {
    this.needSync = false;
    const t0 = Date.now();
    try {
      const outcome = await sync();
      this.opts.onSync?.(outcome, Date.now() - t0);
      for (const f of outcome.failures) this.cfg.warn(`sync: ${f} (will retry at the next change or check)`);
    } catch (e) {
      this.cfg.warn(`sync failed: ${(e as Error).message} (will retry at the next change or check)`);
    }
    this.lastSync = Date.now();
  }

  /** Full check: periodically, and at once after a wall-clock jump (a suspended laptop). */
  private startTicker(): void {
    const { intervalMs } = this.cfg;
    let lastTick = Date.now();
    const tickMs = intervalMs > 0 ? Math.min(5000, intervalMs) : 5000;
    let sinceCheck = 0;
    this.ticker = setInterval(() => {
      const now = Date.now();
      const jumped = now - lastTick > tickMs + 10_000;
      lastTick = now;
      sinceCheck += tickMs;
      if (jumped || (intervalMs > 0 && sinceCheck >= intervalMs)) {
        sinceCheck = 0;
        void this.check();
      }
    }, tickMs);
    this.ticker.unref();
  }

  async check(): Promise<void> {
    this.needRefresh = true;
    this.needRecord = true;
    this.hints.full = true;
    if (this.opts.sync) this.needSync = true;
    this.kick();
    await this.idle();
  }

  idle(): Promise<void> {
    if (!this.running && this.timer === null && this.syncTimer === null) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker !== null) clearInterval(this.ticker);
    this.dirs.close();
    if (this.syncTimer !== null) clearTimeout(this.syncTimer);
    this.syncTimer = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.running) await this.running;
    // Record what is pending (one attempt); a sync is left to the next run.
    if (this.needRecord) {
      await this.recordNow().catch((e: Error) => this.cfg.warn(`not recorded at exit: ${e.message}; the next commit records it`));
    }
    await this.session.close();
    this.wakeIdle();
  }
}

/** Starts watching `repo`; resolves once the watches are in place and a first record ran. */
export async function startWatch(repo: Repo, opts: WatchOptions = {}): Promise<Watch> {
  const w = new Watcher(repo, opts);
  await w.start();
  return w;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
