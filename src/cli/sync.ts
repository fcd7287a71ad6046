/**
 * `mailgit sync [REMOTE...] [--dry-run] [--allow-unrelated] [--allow-rewound] [--json]`
 */
import { LOCK_WAIT_MS, withRepoLock } from '../repo/lock.js';
import { syncRepo } from '../sync/sync.js';
import type { SyncReport } from '../sync/sync.js';
import type { GlobalArgs } from './context.js';
import { printJson, repoFromArgs, wantProgress } from './context.js';
import type { SyncBars } from '../sync/replica.js';
import { throwFirstFailure } from '../util/errors.js';

interface SyncArgs extends GlobalArgs {
  remotes?: string[];
  dryRun?: boolean;
  allowUnrelated?: boolean;
  allowRewound?: boolean;
}

/** The lines of a sync's report for a person at a terminal (or `-v`, or a dry run). */
function reportLines(report: SyncReport, dryRun: boolean): string[] {
  const lines: string[] = [];
  for (const l of report.recorded) lines.push(`${dryRun ? 'would record' : 'recorded'}  ${l}`);
  for (const l of report.received) lines.push(`received  ${l}`);
  for (const r of report.remotes) {
    if (!r.ok) continue;
    const quiet = r.incoming.length + r.outgoing.length + r.decisions.length === 0;
    lines.push(`${r.remote}: ${quiet ? 'up to date' : dryRun ? 'would sync' : 'synced'}`);
    for (const l of r.incoming) lines.push(`  in   ${l}`);
    for (const l of r.outgoing) lines.push(`  out  ${l}`);
    for (const l of r.decisions) lines.push(`  conflict: ${l}`);
    if (r.pushed === 'incoming') lines.push(`  ${r.remote} will merge it at its next sync`);
  }
  return lines;
}

/**
 * The lines worth printing under cron, where success is silent: decisions, including
 * those made merging what a peer pushed into refs/mailgit/incoming/, and a push refused
 * or dropped there.
 */
function cronLines(report: SyncReport): string[] {
  return [
    ...report.received.filter((l) => /^[^:]*: (conflict|refused|dropped)/.test(l)),
    ...report.remotes.flatMap((r) => r.decisions.map((l) => `${r.remote}: conflict: ${l}`)),
  ];
}

/** Bars for git's transfers and for big applies and records (cli-progress loads only then). */
async function progressBars(): Promise<SyncBars> {
  const { filesProgress, gitProgress } = await import('../fetch/progress.js');
  return { git: gitProgress, files: filesProgress };
}

/** The `sync` verb: records, then fetches, merges, applies and pushes, for every remote or the named ones. */
export async function handler(argv: SyncArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  const bars = wantProgress(argv) ? await progressBars() : undefined;
  const report = await withRepoLock(repo, { what: 'sync', waitMs: LOCK_WAIT_MS.patient }, (locked) =>
    syncRepo(locked, argv.remotes ?? [], { dryRun: argv.dryRun, allowUnrelated: argv.allowUnrelated, allowRewound: argv.allowRewound, bars }),
  );
  const failed = report.remotes.filter((r) => !r.ok);
  if (argv.json) printJson(report);
  else if (process.stdout.isTTY || argv.verbose || argv.dryRun) for (const l of reportLines(report, argv.dryRun === true)) console.log(l);
  else for (const l of cronLines(report)) console.log(l);
  throwFirstFailure(failed.map((r) => ({ message: r.error!.message, code: r.error!.code, exitCode: r.exitCode })));
}
