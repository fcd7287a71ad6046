/**
 * Classifying git transport failures into one line that names the remote, says what is
 * wrong and what to do: a repository another user owns is exit 77 like a refused login,
 * a damaged remote repository (truncated pack, missing objects, a ref to a missing
 * commit) 65, an unreachable remote or a connection cut mid-transfer 69; anything else
 * stays a git error.
 */
import { GitError } from '../git/run.js';
import { PermissionError, UnavailableError, UnsafeDataError } from '../util/errors.js';

const UNREACHABLE =
  /early EOF|unexpected disconnect|the remote end hung up|Could not resolve|Connection refused|Connection timed out|No route to host|does not appear to be a git repository|Could not read from remote repository|not found|No such file or directory|unable to access|Network is unreachable|Connection closed|timed out/i;
const DENIED = /Permission denied|Authentication failed|Host key verification failed|insufficient permission/i;
const FOREIGN = /detected dubious ownership in repository at '([^'\n]*)'/;
const DAMAGED =
  /not our ref|possible repository corruption|does not match index|bad pack header|unable to read [0-9a-f]{7,}|pack has bad object|did not send all necessary objects|missing necessary objects|bad object [0-9a-f]{7,}|packfile .* cannot be accessed/i;

/** The first line of git's complaint that says something, without `fatal:`/`remote:` prefixes. */
function detail(err: GitError, pattern?: RegExp): string {
  const lines = err.stderr
    .split('\n')
    .map((l) =>
      l
        .replace(/^(remote: )?(fatal|error): /, '')
        .replace(/^remote: /, '')
        .trim(),
    )
    .filter(Boolean);
  return (pattern && lines.find((l) => pattern.test(l))) || lines[0] || `exit ${err.status}`;
}

/**
 * ssh refused the host: its key is not in known_hosts (ssh runs without a terminal to ask,
 * as under cron) or it changed since it was accepted. Exit 69, saying what to do.
 */
function hostKeyError(stderr: string, remote: string): UnavailableError | undefined {
  if (!/Host key verification failed/.test(stderr)) return undefined;
  const host = /host key is known for (\S+)/.exec(stderr)?.[1] ?? /Host key for (\S+) has changed/.exec(stderr)?.[1] ?? 'the host';
  if (/IDENTIFICATION HAS CHANGED|has changed/.test(stderr)) {
    return new UnavailableError(
      `remote ${remote}: the ssh host key of ${host} has changed since you accepted it; ask its owner whether that is expected before removing the old key (ssh-keygen -R ${host})`,
    );
  }
  const [, name, port] = /^\[([^\]]+)\]:(\d+)$/.exec(host) ?? [undefined, host, undefined];
  return new UnavailableError(
    `remote ${remote}: the ssh host key of ${host} is not known here; connect once with "ssh ${port ? `-p ${port} ` : ''}${name}" to check its fingerprint and accept it, then run mailgit again`,
  );
}

/** Maps an error from `git fetch`/`push`/`ls-remote` against `remote` to a typed error. */
export function transportError(err: unknown, remote: string): unknown {
  if (!(err instanceof GitError)) return err;
  const s = err.stderr;
  const foreign = FOREIGN.exec(s);
  if (foreign) {
    // A hub made by another user of a shared group (docs/security.md): git's own check.
    return new PermissionError(
      `remote ${remote}: ${foreign[1]} belongs to another user; if it is a hub you share, declare it once with: git config --global --add safe.directory ${foreign[1]}`,
    );
  }
  const hostKey = hostKeyError(s, remote);
  if (hostKey) return hostKey;
  if (DENIED.test(s)) return new PermissionError(`remote ${remote}: ${detail(err, DENIED)}; check your key or login and the repository's permissions`);
  if (DAMAGED.test(s)) {
    return new UnsafeDataError(
      `remote ${remote}'s repository is damaged (${detail(err, DAMAGED)}); nothing was merged; repair it there (git fsck) or sync through another replica`,
    );
  }
  if (UNREACHABLE.test(s))
    return new UnavailableError(
      `remote ${remote} is unreachable: ${detail(err, UNREACHABLE)}; check its URL (mailgit remote list) and the network, then sync again`,
    );
  return err;
}
