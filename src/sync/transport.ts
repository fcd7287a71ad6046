/**
 * Classifying git transport failures: an unreachable remote is exit 69, a refused
 * login or a repository owned by another user 77; anything else stays a git error.
 */
import { GitError } from '../git/run.js';
import { PermissionError, UnavailableError } from '../util/errors.js';

const UNREACHABLE = /Could not resolve|Connection refused|Connection timed out|No route to host|does not appear to be a git repository|Could not read from remote repository|not found|No such file or directory|unable to access|Network is unreachable|Connection closed|timed out/i;
const DENIED = /Permission denied|Authentication failed|Host key verification failed/i;
const FOREIGN = /detected dubious ownership in repository at '([^'\n]*)'/;

/** Maps an error from `git fetch`/`push`/`ls-remote` against `remote` to a typed error. */
export function transportError(err: unknown, remote: string): unknown {
  if (!(err instanceof GitError)) return err;
  const detail = err.stderr.split('\n').map((l) => l.replace(/^fatal: /, '').trim()).filter(Boolean)[0] ?? `exit ${err.status}`;
  if (DENIED.test(err.stderr)) return new PermissionError(`remote ${remote}: ${detail}`);
  const foreign = FOREIGN.exec(err.stderr);
  if (foreign) {
    // A hub made by another user of a shared group (docs/security.md): git's own check.
    return new PermissionError(`remote ${remote}: ${foreign[1]} belongs to another user; if it is a hub you share, declare it once with: git config --global --add safe.directory ${foreign[1]}`);
  }
  if (UNREACHABLE.test(err.stderr)) return new UnavailableError(`remote ${remote} is unreachable: ${detail}`);
  return err;
}
