/**
 * What every command handler gets: the global options, already parsed.
 */
import { openRepo } from '../repo/repo.js';
import type { Repo } from '../repo/repo.js';

/** Global options every verb accepts. */
export interface GlobalArgs {
  /** Run as if started in this directory (`git -C`). */
  C?: string;
  /** Print more. */
  verbose?: boolean;
  /** Machine-readable output where the verb supports it. */
  json?: boolean;
}

/** Opens the repo the command runs in (`-C DIR` or the current directory). */
export function repoFromArgs(argv: GlobalArgs): Promise<Repo> {
  return openRepo(argv.C ?? process.cwd());
}

/** Prints a value as JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
}
