/**
 * `mailgit watch --fetch`: keeps the watched repo level with its IMAP accounts while the
 * watch runs.
 *
 *   the server says a folder changed ──────┐
 *   the watch committed a local change ─────┼──► fetch that account (repo lock) ──► next
 *   every interval, and after a retry wait ─┘
 *
 * One worker fetches one account at a time; a trigger that arrives during a fetch of the
 * same account makes one more run after it, so nothing that happened meanwhile waits for
 * the interval. A fetch is an ordinary two-way (or pull) `mailgit fetch` of the account:
 * it commits what it brought, and pushes what the watch recorded. A failed fetch (server
 * gone, lock held long) is said once per failure and tried again after a growing wait.
 *
 * One connection per account keeps INBOX in IDLE and, where the server has NOTIFY, hears
 * of every other folder's changes too; without NOTIFY, each folder of the account's
 * `idle` list gets a connection of its own, opened when the first connection found no
 * NOTIFY.
 */
import type { Repo } from '../repo/repo.js';
import { withRepoLock } from '../repo/lock.js';
import type { Account } from '../fetch/account.js';
import { fetchAccount, type AccountResult } from '../fetch/fetch.js';
import { startIdle, type Idle } from '../fetch/idle.js';

/** Options of {@link startFetchLoop}. */
export interface FetchLoopOptions {
  /** The accounts to keep level. */
  accounts: Account[];
  /** The password or access token of an account (asked at each connection). */
  secret(account: Account): Promise<string>;
  /** Every account is fetched at least this often (ms; 0: only when told). */
  intervalMs: number;
  /** How long a fetch waits for the repo lock (default 10 s). */
  lockWaitMs?: number;
  /** Called after each fetch. */
  onFetch?(result: AccountResult): void;
  /** Trouble the loop survives (the server unreachable, the lock held). */
  onWarning?(message: string): void;
}

/** A running fetch loop. */
export interface FetchLoop {
  /** The watch recorded a local change: fetch the two-way accounts (which sends it up). */
  localChanged(): void;
  /** Resolves when no fetch is pending or running. */
  idle(): Promise<void>;
  /** Closes the IDLE connections and waits for a running fetch. */
  stop(): Promise<void>;
}

/** Starts IDLE connections and the fetch worker for `opts.accounts` of `repo`. */
export function startFetchLoop(repo: Repo, opts: FetchLoopOptions): FetchLoop {
  const warn = opts.onWarning ?? (() => undefined);
  const pending = new Set<Account>();
  const retryWait = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let running: Promise<void> | null = null;
  let stopped = false;
  let waiters: (() => void)[] = [];

  const later = (fn: () => void, ms: number) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const trigger = (a: Account) => {
    if (stopped) return;
    pending.add(a);
    kick();
  };
  const kick = () => {
    if (running) return;
    running = work().finally(() => {
      running = null;
      if (pending.size && !stopped) kick();
      else for (const w of waiters.splice(0)) w();
    });
  };

  async function fetchOne(a: Account): Promise<void> {
    try {
      const secret = await opts.secret(a);
      const r = await withRepoLock(repo, { what: `watch --fetch ${a.name}`, waitMs: opts.lockWaitMs ?? 10_000 }, (locked) =>
        fetchAccount(locked, { account: a, password: secret }),
      );
      opts.onFetch?.(r);
      for (const w of r.warnings) warn(w);
      if (!r.error) {
        retryWait.delete(a.name);
        return;
      }
      warn(`${r.error.message} (will retry)`);
    } catch (e) {
      warn(`account ${a.name}: ${(e as Error).message} (will retry)`);
    }
    const wait = Math.min((retryWait.get(a.name) ?? 1000) * 2, 60_000);
    retryWait.set(a.name, wait);
    later(() => trigger(a), wait);
  }

  async function work(): Promise<void> {
    while (pending.size && !stopped) {
      const a = pending.values().next().value!;
      pending.delete(a);
      await fetchOne(a);
    }
  }

  const idles: Idle[] = [];
  const watchFolder = (a: Account, folder: string, notify: boolean) =>
    idles.push(
      startIdle(a, opts.secret, {
        folder,
        notify,
        onChange: () => trigger(a),
        onNotify: (every) => {
          if (!every) watchOthers(a);
        },
        onDown: (e, ms) => warn(`account ${a.name}: no IDLE connection on ${folder} (${e.detail}); trying again in ${Math.round(ms / 1000)} s`),
      }),
    );
  // Without NOTIFY, the account's `idle` folders get a connection each (once).
  const others = new Set<string>();
  const watchOthers = (a: Account) => {
    if (stopped || others.has(a.name)) return;
    others.add(a.name);
    for (const folder of a.idle ?? []) watchFolder(a, folder, false);
  };
  for (const a of opts.accounts) watchFolder(a, 'INBOX', true);
  const ticker = opts.intervalMs > 0 ? setInterval(() => opts.accounts.forEach(trigger), opts.intervalMs) : null;
  ticker?.unref();

  return {
    localChanged() {
      for (const a of opts.accounts) if (a.sync === 'both') trigger(a);
    },
    idle() {
      if (!running && pending.size === 0) return Promise.resolve();
      return new Promise((r) => waiters.push(r));
    },
    async stop() {
      stopped = true;
      if (ticker) clearInterval(ticker);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all(idles.map((i) => i.close()));
      if (running) await running;
      for (const w of waiters.splice(0)) w();
      waiters = [];
    },
  };
}
