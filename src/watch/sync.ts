/**
 * The one call `watch --sync` makes to synchronise: kept in one place so that watch does
 * not depend on how sync is put together.
 */
import type { Repo } from '../repo/repo.js';
import { LOCK_WAIT_MS, withRepoLock } from '../repo/lock.js';
import { syncRepo } from '../sync/sync.js';

/**
 * What one sync round told the person watching. Each change is said once, where it
 * reached this replica: watch's commit line said the local ones, so what a push carried
 * is not said again (nor what came in from one remote and went out to another), only
 * where it went.
 */
export interface SyncOutcome {
  /** Lines worth printing: what sync recorded or received itself, what came in, conflicts decided. */
  lines: string[];
  /** The remotes that gained something from this replica. */
  pushed: string[];
  /** One message per remote that failed (the others were still synced). */
  failures: string[];
}

/**
 * Returns a function that syncs `repo` with `remotes` (all remotes when empty), under
 * the repo lock (waiting up to `lockWaitMs` for it).
 */
export function makeSync(repo: Repo, remotes: string[], lockWaitMs: number = LOCK_WAIT_MS.patient): () => Promise<SyncOutcome> {
  return async () => {
    const report = await withRepoLock(repo, { what: 'watch sync', waitMs: lockWaitMs }, (locked) => syncRepo(locked, remotes));
    const lines: string[] = [];
    for (const l of report.recorded) lines.push(`recorded ${l}`);
    for (const l of report.received) lines.push(`received ${l}`);
    const failures: string[] = [];
    const pushed: string[] = [];
    for (const r of report.remotes) {
      if (!r.ok) {
        failures.push(`${r.remote}: ${r.error?.message ?? 'failed'}`);
        continue;
      }
      for (const l of r.incoming) lines.push(`${r.remote}: in  ${l}`);
      for (const l of r.decisions) lines.push(`${r.remote}: conflict: ${l}`);
      if (r.outgoing.length > 0) pushed.push(r.remote);
      if (r.outgoing.length > 0 && r.pushed === 'incoming') lines.push(`${r.remote} will merge it at its next sync`);
    }
    return { lines, pushed, failures };
  };
}
