/**
 * `mailgit remote add NAME URL [--create]`, `remote list`, `remote remove NAME`,
 * `remote rename OLD NEW`
 */
import { LOCK_WAIT_MS, withRepoLock } from '../repo/lock.js';
import { addRemote, removeRemote, renameRemote } from '../sync/remoteAdmin.js';
import { remoteStatus } from '../sync/remoteStatus.js';
import type { RemoteStanding } from '../sync/remoteStatus.js';
import type { GlobalArgs } from './context.js';
import { printJson, repoFromArgs } from './context.js';
import { shortTime } from './time.js';

interface AddArgs extends GlobalArgs {
  name: string;
  url: string;
  create?: boolean;
}

interface NameArgs extends GlobalArgs {
  name: string;
}

interface RenameArgs extends GlobalArgs {
  old: string;
  new: string;
}

/** `remote add`: a git remote, and with `--create` a new hub there holding this replica's mail. */
export async function add(argv: AddArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  const spec = { name: argv.name, url: argv.url, create: argv.create };
  const done = await withRepoLock(repo, { what: 'remote add', waitMs: LOCK_WAIT_MS.patient }, (locked) => addRemote(locked, spec));
  if (argv.json) printJson({ name: argv.name, url: argv.url, ...done });
  else if (done.created && (process.stdout.isTTY || argv.verbose)) {
    console.log(`created hub ${argv.url}${done.pushed ? ` with this replica's mail; clone it elsewhere with: mailgit clone ${argv.url} DIR` : ''}`);
  }
}

/** How one remote stands, in a few words: "2 ahead, 1 behind", "identical", "never synced". */
export function standingWords(r: RemoteStanding): string {
  if (r.tracking === null && r.lastSync === null) return 'never synced';
  const when = r.lastSync ? `last sync ${shortTime(Date.parse(r.lastSync))}` : 'last sync unknown';
  if (r.identical) return `${when}, identical`;
  return `${when}, ${r.ahead} ahead, ${r.behind} behind`;
}

/** `remote list`: every remote with its URL, kind, last sync and standing (no network). */
export async function list(argv: GlobalArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  const remotes = await remoteStatus(repo);
  if (argv.json) {
    printJson(remotes);
    return;
  }
  if (remotes.length === 0 && (process.stdout.isTTY || argv.verbose)) console.log('no remotes; add one with: mailgit remote add NAME URL');
  const width = Math.max(0, ...remotes.map((r) => r.name.length));
  for (const r of remotes) console.log(`${r.name.padEnd(width)}  ${r.kind.padEnd(7)}  ${r.url}  (${standingWords(r)})`);
}

/** `remote remove`: forgets a remote; the mail it brought stays. */
export async function remove(argv: NameArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  await withRepoLock(repo, { what: 'remote remove', waitMs: LOCK_WAIT_MS.patient }, () => removeRemote(repo, argv.name));
}

/** `remote rename`: renames a remote with everything mailgit keeps about it. */
export async function rename(argv: RenameArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  await withRepoLock(repo, { what: 'remote rename', waitMs: LOCK_WAIT_MS.patient }, () => renameRemote(repo, argv.old, argv.new));
}
