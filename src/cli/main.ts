/**
 * The one place mailgit exits: parse the command line, run the verb, map errors to
 * sysexits codes. A {@link MailgitError} prints one clear line; anything else is a bug
 * and says so (exit 70) without a stack trace unless MAILGIT_DEBUG is set.
 */
import { readFileSync } from 'node:fs';
import { parseCommandLine } from './args.js';
import { EX, MailgitError, errnoMeaning } from '../util/errors.js';

/** The version in package.json (two directories up from `dist/cli/`). */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function errorLine(err: unknown): { line: string; code: number } {
  if (err instanceof MailgitError) return { line: err.message, code: err.exitCode };
  const e = err as NodeJS.ErrnoException | null;
  const known = errnoMeaning(err);
  if (known) return { line: `${known.what}: ${(known.exit === EX.IOERR ? undefined : e?.path) ?? e?.message}`, code: known.exit };
  return { line: `internal error: ${e?.message ?? String(err)}`, code: EX.SOFTWARE };
}

/**
 * Runs mailgit with the given arguments (without `node` and the script) and returns the
 * exit status. Only the verb that runs is loaded, with the modules it needs.
 */
export async function main(args: string[]): Promise<number> {
  try {
    const request = parseCommandLine(args);
    if (request.kind === 'help') process.stdout.write(request.text);
    else if (request.kind === 'version') process.stdout.write(`${version()}\n`);
    else await (await request.load())(request.argv as never);
  } catch (err) {
    const { line, code } = errorLine(err);
    process.stderr.write(`mailgit: ${line}\n`);
    if (process.env.MAILGIT_DEBUG && !(err instanceof MailgitError)) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return code;
  }
  return EX.OK;
}

/**
 * Entry point used by `bin/mailgit.js`. A status a handler set itself (`demo` when the
 * replicas differ) is kept when the run otherwise succeeded.
 */
export async function run(): Promise<void> {
  const code = await main(process.argv.slice(2));
  if (code !== EX.OK || !process.exitCode) process.exitCode = code;
}
