/**
 * `mailgit deliver [--folder F] [--flags S]` — an MDA: one message on stdin.
 *
 * Exit status as MTAs expect: 0 delivered, 65 empty input, 64 bad options, and 75 for
 * every other failure (lock held too long, repo missing, disk full): nothing was
 * delivered and the MTA retries.
 */
import { deliver } from '../deliver/deliver.js';
import type { GlobalArgs } from './context.js';
import { printJson, repoFromArgs } from './context.js';
import { EX, MailgitError, messageOf } from '../util/errors.js';

interface DeliverArgs extends GlobalArgs {
  folder?: string;
  flags?: string;
  wait?: number;
  message?: string;
}

/** The `deliver` verb: delivers the message on stdin and commits it. */
export async function handler(argv: DeliverArgs): Promise<void> {
  let r;
  try {
    const repo = await repoFromArgs(argv);
    r = await deliver(repo, process.stdin, {
      folder: argv.folder,
      flags: argv.flags,
      lockWaitMs: Math.max(0, (argv.wait ?? 30) * 1000),
      message: argv.message,
    });
  } catch (e) {
    // Nothing was delivered. Only bad input is permanent; anything else (the repo not
    // there because a disk is not mounted, a full disk, a bug) must not bounce mail:
    // 75 makes the MTA keep the message and retry.
    if (e instanceof MailgitError && (e.exitCode === EX.DATAERR || e.exitCode === EX.USAGE || e.exitCode === EX.TEMPFAIL)) throw e;
    throw new MailgitError(`${messageOf(e)} (nothing delivered; the MTA will retry)`, e instanceof MailgitError ? e.code : 'EDELIVER', EX.TEMPFAIL);
  }
  if (argv.json) {
    printJson({ path: r.path, size: r.size, commit: r.record?.commit ?? null, warning: r.warning ?? null });
    return;
  }
  if (r.warning) process.stderr.write(`mailgit: warning: ${r.warning}\n`);
  if (argv.verbose) console.log(`delivered ${r.path}${r.record ? ` [main ${r.record.commit.slice(0, 10)}]` : ''}`);
}
