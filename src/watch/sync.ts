/**
 * The one call `watch --sync` makes to synchronise: kept in one place so that watch does
 * not depend on how sync is put together.
 */
import type { Repo } from '../repo/repo.js';
import { LOCK_WAIT_MS, withRepoLock } from '../repo/lock.js';
import { syncRepo } from '../sync/sync.js';

/** What one sync round told the person watching. */
export interface SyncOutcome {
  /** Lines worth printing: what came in, went out, conflicts decided. */
  lines: string[];
  /** One message per remote that failed (the others were still synced). */
  failures: string[];
}

/**
 * Returns a function that syncs `repo` with `remotes` (all remotes when empty), under
 * the repo lock (waiting up to `lockWaitMs` for it).
 */
export function makeSync(repo: Repo, remotes: string[], lockWaitMs: number = LOCK_WAIT_MS.patient): () => Promise<SyncOutcome> {
  return async () => {
    const report = await withRepoLock(repo, 'watch sync', (locked) => syncRepo(locked, remotes), { waitMs: lockWaitMs });
    const lines: string[] = [];
    for (const l of report.recorded) lines.push(`recorded ${l}`);
    for (const l of report.received) lines.push(`received ${l}`);
    const failures: string[] = [];
    for (const r of report.remotes) {
      if (!r.ok) {
        failures.push(`${r.remote}: ${r.error?.message ?? 'failed'}`);
        continue;
      }
      for (const l of r.incoming) lines.push(`${r.remote}: in  ${l}`);
      for (const l of r.outgoing) lines.push(`${r.remote}: out ${l}`);
      for (const l of r.decisions) lines.push(`${r.remote}: conflict: ${l}`);
    }
    return { lines, failures };
  };
}
