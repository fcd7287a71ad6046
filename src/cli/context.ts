/**
 * What every command handler gets: the global options, already parsed.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { checkOwner } from '../repo/owner.js';
import { openRepo } from '../repo/repo.js';
import { EX, MailgitError } from '../util/errors.js';
import type { Repo } from '../repo/repo.js';

/** Global options every verb accepts. */
export interface GlobalArgs {
  /** Run as if started in this directory (`git -C`). */
  C?: string;
  /** Print more. */
  verbose?: boolean;
  /** Machine-readable output where the verb supports it. */
  json?: boolean;
  /** Progress bars: `--progress` forces them, `--no-progress` turns them off. */
  progress?: boolean;
}

/** The directory the command runs in: `-C DIR`, which must be one, or the current directory. */
export async function baseDir(argv: GlobalArgs): Promise<string> {
  if (argv.C === undefined) return process.cwd();
  const dir = resolve(argv.C);
  const s = await stat(dir).catch(() => null);
  if (!s) throw new MailgitError(`-C ${argv.C}: no such directory`, 'ENOENT', EX.NOINPUT);
  if (!s.isDirectory()) throw new MailgitError(`-C ${argv.C}: not a directory`, 'ENOTDIR', EX.NOINPUT);
  return dir;
}

/** Opens the repo the command runs in (`-C DIR` or the current directory), refusing one another user owns. */
export async function repoFromArgs(argv: GlobalArgs): Promise<Repo> {
  const repo = await openRepo(await baseDir(argv));
  await checkOwner(repo.root);
  return repo;
}

/**
 * Whether a verb run from cron, an MTA or a script says what it did: only on a terminal or
 * with `-v`. Without one, success is silent, as cron mails whatever a job prints.
 */
export function chatty(argv: GlobalArgs): boolean {
  return argv.verbose === true || process.stdout.isTTY === true;
}

/** Whether steps that take a while show a bar on stderr: as `--progress` says, else on a terminal without `--json`. */
export function wantProgress(argv: GlobalArgs): boolean {
  return argv.progress ?? (process.stderr.isTTY === true && !argv.json);
}

/** Prints a value as JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
}
