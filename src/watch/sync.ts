/**
 * The one call `watch --sync` makes to synchronise: kept in one place so that watch does
 * not depend on how sync is put together.
 */
import type { Repo } from '../repo/repo.js';
import { MailgitError, EX } from '../util/errors.js';

/** Returns a function that syncs `repo` with `remotes` (all remotes when empty). */
export function makeSync(repo: Repo, remotes: string[]): () => Promise<void> {
  void repo;
  void remotes;
  return async () => {
    throw new MailgitError('sync is not available in this build yet', 'ENOSYNC', EX.UNAVAILABLE);
  };
}
