/**
 * Holding the repo lock in a test as a verb does: what record, applyCommit and syncRepo
 * require (a LockedRepo, src/repo/lock.ts).
 */
import type { LockedRepo } from '../../src/repo/lock.js';
import { withRepoLock } from '../../src/repo/lock.js';
import { openRepo } from '../../src/repo/repo.js';

/** Runs `fn` with the repo at `dir` opened and its lock held. */
export async function withLockedRepo<T>(dir: string, fn: (repo: LockedRepo) => Promise<T>): Promise<T> {
  return withRepoLock(await openRepo(dir), { what: 'test' }, fn);
}
