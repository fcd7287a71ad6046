/**
 * The one place mailgit exits: parse the command line, run the verb, map errors to
 * sysexits codes. A {@link MailgitError} prints one clear line; anything else is a bug
 * and says so (exit 70) without a stack trace unless MAILGIT_DEBUG is set.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { COMMANDS } from './commands.js';
import { EX, MailgitError } from '../util/errors.js';

function errorLine(err: unknown): { line: string; code: number } {
  if (err instanceof MailgitError) return { line: err.message, code: err.exitCode };
  const e = err as NodeJS.ErrnoException;
  if (e && e.code === 'ENOSPC') return { line: `disk full: ${e.message}`, code: EX.IOERR };
  if (e && (e.code === 'EACCES' || e.code === 'EPERM')) return { line: `permission denied: ${e.path ?? e.message}`, code: EX.NOPERM };
  if (e && e.code === 'EROFS') return { line: `read-only file system: ${e.path ?? e.message}`, code: EX.CANTCREAT };
  if (e && (e.code === 'EIO' || e.code === 'EDQUOT')) return { line: `i/o error: ${e.message}`, code: EX.IOERR };
  return { line: `internal error: ${e?.message ?? String(err)}`, code: EX.SOFTWARE };
}

/** Runs mailgit with the given arguments and returns the exit status. */
export async function main(args: string[]): Promise<number> {
  let usageFailed = false;
  const parser = yargs(args)
    .scriptName('mailgit')
    .option('C', { type: 'string', describe: 'run as if started in DIR', global: true, requiresArg: true })
    .option('verbose', { alias: 'v', type: 'boolean', describe: 'say more', global: true })
    .option('json', { type: 'boolean', describe: 'machine-readable output', global: true })
    .command(COMMANDS)
    .demandCommand(1, 'name a command (see mailgit --help)')
    .strict()
    .recommendCommands()
    .fail((msg, err, y) => {
      if (err) throw err;
      usageFailed = true;
      process.stderr.write(`${y.help() && ''}mailgit: ${msg}\n`);
    })
    .help()
    .version();
  try {
    await parser.parseAsync();
  } catch (err) {
    const { line, code } = errorLine(err);
    process.stderr.write(`mailgit: ${line}\n`);
    if (process.env.MAILGIT_DEBUG && !(err instanceof MailgitError)) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return code;
  }
  return usageFailed ? EX.USAGE : EX.OK;
}

/** Entry point used by `bin/mailgit.js`. */
export async function run(): Promise<void> {
  const code = await main(hideBin(process.argv));
  process.exitCode = code;
}
