/**
 * `mailgit sync [REMOTE...] [--dry-run] [--allow-unrelated] [--allow-rewound] [--json]`
 */
import { LOCK_WAIT_MS, withRepoLock } from '../repo/lock.js';
import { syncRepo } from '../sync/sync.js';
import type { GlobalArgs } from './context.js';
import { printJson, repoFromArgs } from './context.js';
import { throwFirstFailure } from '../util/errors.js';

interface SyncArgs extends GlobalArgs {
  remotes?: string[];
  dryRun?: boolean;
  allowUnrelated?: boolean;
  allowRewound?: boolean;
}

/** The `sync` verb: records, then fetches, merges, applies and pushes, for every remote or the named ones. */
export async function handler(argv: SyncArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  const report = await withRepoLock(
    repo,
    'sync',
    (locked) => syncRepo(locked, argv.remotes ?? [], { dryRun: argv.dryRun, allowUnrelated: argv.allowUnrelated, allowRewound: argv.allowRewound }),
    { waitMs: LOCK_WAIT_MS.patient },
  );
  const failed = report.remotes.filter((r) => !r.ok);
  if (argv.json) printJson(report);
  else if (process.stdout.isTTY || argv.verbose || argv.dryRun) {
    for (const l of report.recorded) console.log(`recorded  ${l}`);
    for (const l of report.received) console.log(`received  ${l}`);
    for (const r of report.remotes) {
      if (!r.ok) continue;
      const quiet = r.incoming.length + r.outgoing.length + r.decisions.length === 0;
      console.log(`${r.remote}: ${quiet ? 'up to date' : argv.dryRun ? 'would sync' : 'synced'}`);
      for (const l of r.incoming) console.log(`  in   ${l}`);
      for (const l of r.outgoing) console.log(`  out  ${l}`);
      for (const l of r.decisions) console.log(`  conflict: ${l}`);
    }
  } else {
    // Under cron: silent on success, but decisions are always worth a line, including
    // those made merging what a peer pushed into refs/mailgit/incoming/, and so is a push
    // refused or dropped there.
    for (const l of report.received) if (/^[^:]*: (conflict|refused|dropped)/.test(l)) console.log(l);
    for (const r of report.remotes) for (const l of r.decisions) console.log(`${r.remote}: conflict: ${l}`);
  }
  throwFirstFailure(failed.map((r) => ({ message: r.error!.message, code: r.error!.code, exitCode: r.exitCode })));
}
