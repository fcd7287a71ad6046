/**
 * Managing the remotes a replica syncs with: git remotes, plus what mailgit keeps per
 * remote (the refs a fetch parks in `refs/mailgit/fetched/NAME/`, the time of the last
 * sync in `remote.NAME.mailgitSynced`), which follow a rename and go with a removal.
 */
import { git } from '../git/run.js';
import { readHead } from '../git/commit.js';
import { record } from '../repo/record.js';
import type { Repo } from '../repo/repo.js';
import type { LockedRepo } from '../repo/lock.js';
import { EX, MailgitError, UsageError } from '../util/errors.js';
import { createHub } from './hub.js';
import { listRemotes } from './remoteStatus.js';
import { gitRemotes } from './remotes.js';
import { MAIN } from '../store/commitStore.js';

/** The git config key holding the time (Unix seconds) of the last sync with a remote. */
export const SYNCED_KEY = 'mailgitSynced';

/** Where a fetch parks what it found on remote `name` (see remotes.ts). */
const fetchedPrefix = (name: string): string => `refs/mailgit/fetched/${name}/`;

/** Refuses a remote name git or mailgit could not use in a ref name (exit 64). */
export function checkRemoteName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.includes('..') || name.endsWith('.lock') || name.endsWith('.')) {
    throw new UsageError(`bad remote name ${JSON.stringify(name)}: use letters, digits, ".", "-" and "_"`);
  }
}

/** No remote of that name (exit 64): the line names the command that lists them. */
export class UnknownRemoteError extends UsageError {
  /** Creates the error for remote `name`. */
  constructor(name: string) {
    super(`no remote named ${JSON.stringify(name)}; mailgit remote list shows the remotes`);
  }
}

async function remoteNames(repo: Repo): Promise<Set<string>> {
  return new Set((await listRemotes(repo)).map((r) => r.name));
}

/** What {@link addRemote} did. */
export interface Added {
  /** A hub was made at the URL. */
  created: boolean;
  /** This replica's history was pushed to the new hub's `main`. */
  pushed: boolean;
}

/**
 * Adds remote `name` at `url`. With `create`, first makes an empty hub there (hub.ts),
 * then records what the mail client changed and pushes this replica's `main` to it, so that a plain `git clone` of the hub checks out
 * the mail.
 */
export async function addRemote(repo: LockedRepo, spec: { name: string; url: string; create?: boolean }): Promise<Added> {
  checkRemoteName(spec.name);
  if ((await remoteNames(repo)).has(spec.name)) {
    throw new UsageError(`remote ${spec.name} exists already; mailgit remote remove ${spec.name} first, or pick another name`);
  }
  if (spec.create) await createHub(spec.url);
  await git(['remote', 'add', spec.name, spec.url], { cwd: repo.root });
  if (!spec.create) return { created: false, pushed: false };
  await record(repo);
  if (!(await readHead(repo.root))) return { created: true, pushed: false };
  const pushed = await gitRemotes(repo.root).push({ name: spec.name, url: spec.url }, MAIN);
  if (pushed !== 'pushed') throw new MailgitError(`could not push to the new hub ${spec.url} (${pushed}); run mailgit sync ${spec.name}`, 'EPUSH', EX.TEMPFAIL);
  await noteSynced(repo, [spec.name]);
  return { created: true, pushed: true };
}

/** Deletes every ref under `prefix`, or moves each to `to` + the same rest. One or two git processes. */
async function moveRefs(repo: Repo, prefix: string, to?: string): Promise<void> {
  const out = (await git(['for-each-ref', '--format=%(refname) %(objectname)', prefix], { cwd: repo.root })).stdout.toString('utf8');
  const refs = out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ') as [string, string]);
  if (refs.length === 0) return;
  const lines = refs.map(([ref, oid]) => `${to ? `create ${to}${ref.slice(prefix.length)} ${oid}\n` : ''}delete ${ref} ${oid}\n`);
  await git(['update-ref', '--stdin'], { cwd: repo.root, input: `start\n${lines.join('')}commit\n` });
}

async function mustExist(repo: Repo, name: string): Promise<void> {
  if (!(await remoteNames(repo)).has(name)) throw new UnknownRemoteError(name);
}

/** Removes remote `name` and what mailgit kept about it; the mail it brought stays. */
export async function removeRemote(repo: Repo, name: string): Promise<void> {
  await mustExist(repo, name);
  await git(['remote', 'remove', name], { cwd: repo.root });
  await moveRefs(repo, fetchedPrefix(name));
}

/** Renames remote `from` to `to`, with its tracking refs, fetched refs and last-sync time. */
export async function renameRemote(repo: Repo, from: string, to: string): Promise<void> {
  checkRemoteName(to);
  await mustExist(repo, from);
  if ((await remoteNames(repo)).has(to)) throw new UsageError(`remote ${to} exists already; pick another name`);
  await git(['remote', 'rename', from, to], { cwd: repo.root });
  await moveRefs(repo, fetchedPrefix(from), fetchedPrefix(to));
}

/** Notes that remotes `names` were synced just now (one git process each). */
export async function noteSynced(repo: Repo, names: string[], now = Date.now()): Promise<void> {
  for (const n of names) await git(['config', `remote.${n}.${SYNCED_KEY}`, String(Math.floor(now / 1000))], { cwd: repo.root });
}
