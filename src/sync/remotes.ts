/**
 * Talking to git remotes: fetch and push with git's own transport, never running code
 * from the remote's repository (its hooks are switched off for local-path remotes, whose
 * hooks would otherwise run as us), with a time limit for a stalled remote.
 */
import { git, GitError } from '../git/run.js';
import { transportError } from './transport.js';
import { RemoteLockError, clearLocalRemoteLeftovers, remoteHeldLock } from './remoteLocks.js';
import { UnavailableError } from '../util/errors.js';
import { WORKTREE_REF } from '../repo/identity.js';
import type { PushResult, RefStore, RefTarget, Remote, RemoteRole } from '../store/commitStore.js';
import type { SyncBars } from './replica.js';

export type { PushResult } from '../store/commitStore.js';

/** True for a remote URL that git reaches through the local file system. */
export function isLocalUrl(url: string): boolean {
  if (/^file:\/\//i.test(url)) return true;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return false;
  const colon = url.indexOf(':');
  const slash = url.indexOf('/');
  // git reads `host:path` (no slash before the first colon) as scp-like ssh.
  return colon < 0 || (slash >= 0 && slash < colon);
}

const SAFE_UPLOAD = 'git -c core.hooksPath=/dev/null upload-pack';
// A checked-out peer must refuse a push to its branch whatever its own config says
// (`ignore`/`warn` would move its HEAD under its Maildir, and its next record would take
// the pushed mail for deleted; `updateInstead` would check out without mailgit): the
// refusal sends the push to the peer's incoming ref instead.
const SAFE_RECEIVE = 'git -c core.hooksPath=/dev/null -c receive.denyCurrentBranch=refuse receive-pack';
/**
 * How a hub stays small with only git on it (docs/design.md, "The hub"): a push is kept as
 * a pack (a small push unpacked would leave a loose full copy of each rewritten 36k-entry
 * `cur/` tree), and git's own `gc --auto`, which receive-pack starts after a push, folds
 * the small packs together once there are more than three (the bases that `index-pack
 * --fix-thin` appended to each are then stored once), leaving the big packs of adopted
 * mail alone. Written into a hub's config when mailgit creates it (hub.ts), and given to a
 * local hub's receive-pack on every push to its `main` (a hub made by hand); not for a
 * push to a replica's incoming ref: a replica packs itself.
 */
export const HUB_PACKING: readonly (readonly [string, string])[] = [
  ['receive.unpackLimit', '1'],
  ['receive.autogc', 'true'],
  ['gc.autoPackLimit', '3'],
  ['gc.bigPackThreshold', '32m'],
];
const HUB_RECEIVE = SAFE_RECEIVE.replace(/ receive-pack$/, `${HUB_PACKING.map(([k, v]) => ` -c ${k}=${v}`).join('')} receive-pack`);

/** Seconds a single fetch or push may take before the remote counts as unreachable. */
export function transportTimeoutMs(): number {
  const s = Number(process.env.MAILGIT_TIMEOUT ?? '600');
  return (Number.isFinite(s) && s > 0 ? s : 600) * 1000;
}

/** The time limit of one fetch or push: git (and the pipes of an ssh it started) is killed. */
function limit(remote: string): { ms: number; error: () => Error } {
  const ms = transportTimeoutMs();
  return { ms, error: () => new UnavailableError(`remote ${remote} did not answer within ${ms / 1000} s`) };
}

/** What one fetch found on a remote. */
export interface Fetched {
  /** The remote's `main` as just fetched (not yet accepted), or null when it has none. */
  main: RefTarget | null;
  /** The remote holds {@link WORKTREE_REF}: a replica with a Maildir checked out. */
  worktree: boolean;
  /** Its `main` as we last accepted it or pushed it (`refs/remotes/NAME/main`), or null. */
  lastSeen: string | null;
}

/** Where a fetch puts what it found, until sync accepts it into `refs/remotes/NAME/main`. */
export function fetchedRef(name: string, what: 'main' | 'worktree' | 'incoming'): string {
  return `refs/mailgit/fetched/${name}/${what}`;
}

async function readFetched(store: RefStore, name: string, found: boolean): Promise<Fetched> {
  const tracking = `refs/remotes/${name}/main`;
  const refs = new Map((await store.listRefs(`refs/mailgit/fetched/${name}/`, tracking)).map((r) => [r.ref, { oid: r.oid, type: r.type }] as const));
  const last = refs.get(tracking);
  return {
    main: found ? (refs.get(fetchedRef(name, 'main')) ?? null) : null,
    worktree: found && refs.has(fetchedRef(name, 'worktree')),
    lastSeen: last?.type === 'commit' ? last.oid : null,
  };
}

/**
 * Runs one fetch from remote `name`; false when the remote lacks the first refspec's ref.
 * `--refmap=` keeps git from also moving `refs/remotes/NAME/*` on its own.
 */
async function runFetch({ cwd, remote: { name, url }, refspecs, bars }: Transfer & { refspecs: string[] }): Promise<boolean> {
  const extra = isLocalUrl(url) ? [`--upload-pack=${SAFE_UPLOAD}`] : [];
  const bar = bars?.git(`sync ${name}`);
  try {
    const args = ['fetch', bar ? '--progress' : '-q', '--no-tags', '--no-write-fetch-head', '--prune', '--refmap=', ...extra, name, ...refspecs];
    await git(['-c', 'protocol.ext.allow=never', ...args], { cwd, okCodes: [], timeout: limit(name), onStderr: bar?.onStderr });
    return true;
  } catch (e) {
    if (e instanceof GitError && /couldn't find remote ref /.test(e.stderr)) return false;
    throw transportError(e, name);
  } finally {
    bar?.stop();
  }
}

/** One fetch or push: the repo, the remote, and the bars a person at a terminal sees. */
interface Transfer {
  cwd: string;
  remote: Remote;
  bars?: Pick<SyncBars, 'git'>;
}

/**
 * Fetches the remote's `main` into {@link fetchedRef} (sync moves `refs/remotes/NAME/main`
 * only once it has accepted it), and with it, in the same request, the remote's
 * {@link WORKTREE_REF} if it has one (`--prune` drops a marker the remote no longer has).
 */
export async function fetchRemote(store: RefStore & RemoteRole, remote: Remote): Promise<Fetched> {
  const { name } = remote;
  const found = await store.fetch(remote, [`+refs/heads/main:${fetchedRef(name, 'main')}`, `+${WORKTREE_REF}*:${fetchedRef(name, 'worktree')}*`]);
  return readFetched(store, name, found);
}

/** Fetches the remote's `ref` into local `dst`; returns what it points to, or null when the remote has no such ref. */
export async function fetchRef(store: RefStore & RemoteRole, remote: Remote, { ref, dst }: { ref: string; dst: string }): Promise<RefTarget | null> {
  if (!(await store.fetch(remote, [`+${ref}:${dst}`]))) return null;
  const got = await store.readRef(dst);
  return got && { oid: got.oid, type: got.type };
}

/** git's own transport for the repository at `cwd`, as the remote role of the history port (with git's progress in `bars`). */
export function gitRemotes(cwd: string, bars?: Pick<SyncBars, 'git'>): RemoteRole {
  return { fetch: (remote, refspecs) => runFetch({ cwd, remote, refspecs, bars }), push: (remote, ref) => pushRemote({ cwd, remote, bars }, ref) };
}

/**
 * Pushes HEAD to the remote's `ref` (never forced); tells apart a rejection that needs a merge first. A
 * lock a killed git left on a local remote is cleared and the push made once more.
 */
async function pushRemote(t: Transfer, ref: string): Promise<PushResult> {
  try {
    return await pushOnce(t, ref);
  } catch (e) {
    if (!(e instanceof RemoteLockError) || !isLocalUrl(t.remote.url) || !(await clearLocalRemoteLeftovers(t.remote.url))) throw e;
    return pushOnce(t, ref);
  }
}

async function pushOnce({ cwd, remote: { name, url }, bars }: Transfer, ref: string): Promise<PushResult> {
  const extra = isLocalUrl(url) ? [`--receive-pack=${ref === 'refs/heads/main' ? HUB_RECEIVE : SAFE_RECEIVE}`] : [];
  const bar = bars?.git(`sync ${name}`);
  try {
    const args = ['push', bar ? '--progress' : '-q', '--no-verify', ...extra, name, `HEAD:${ref}`];
    await git(['-c', 'protocol.ext.allow=never', ...args], { cwd, timeout: limit(name), onStderr: bar?.onStderr });
    return 'pushed';
  } catch (e) {
    if (e instanceof GitError) {
      const held = remoteHeldLock(e.stderr);
      if (held) throw new RemoteLockError(name, held);
      // Not "current branch": git's hint for a non-fast-forward says "the tip of your current branch is behind".
      if (/currently checked out|refusing to update checked out|denyCurrentBranch/i.test(e.stderr)) return 'checked-out';
      // A rival push that won the race for the ref shows as "cannot lock ref … is at X but
      // expected Y" on a line of its own, then "[remote rejected] … (failed to update ref)".
      if (/\[rejected\]|non-fast-forward|fetch first|cannot lock ref|\(failed to update ref\)|incorrect old value/i.test(e.stderr)) return 'rejected';
    }
    throw transportError(e, name);
  } finally {
    bar?.stop();
  }
}
