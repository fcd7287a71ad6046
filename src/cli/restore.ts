/**
 * `mailgit restore X... [--at T]` and `mailgit restore --folder F --as-of T [--dry-run]`:
 * bring deleted mail back as a new, recorded change (see src/repo/restore.ts).
 */
import type { GlobalArgs } from './context.js';
import { printJson, repoFromArgs } from './context.js';
import { LOCK_WAIT_MS, withRepoLock } from '../repo/lock.js';
import { restoreMessages } from '../repo/restore.js';
import { restoreFolder } from '../repo/restoreFolder.js';
import type { RestoreReport } from '../repo/restore.js';
import { UsageError } from '../util/errors.js';
import { counted } from '../util/words.js';

interface RestoreArgs extends GlobalArgs {
  messages: string[];
  at?: string;
  folder?: string;
  asOf?: string;
  dryRun?: boolean;
  progress?: boolean;
}

function check(argv: RestoreArgs): void {
  if (argv.folder !== undefined) {
    if (argv.messages.length > 0) throw new UsageError('give messages or --folder, not both');
    if (argv.asOf === undefined) throw new UsageError('--folder needs --as-of TIME (a date, "2 days ago" or a commit)');
    if (argv.at !== undefined) throw new UsageError('with --folder, give the time as --as-of');
  } else {
    if (argv.messages.length === 0) throw new UsageError('name the messages to restore (key, file name, path or Message-ID), or --folder F --as-of T');
    if (argv.asOf !== undefined) throw new UsageError('--as-of goes with --folder; for messages use --at');
  }
}

function print(r: RestoreReport, dryRun: boolean): void {
  if (dryRun) {
    console.log(r.count === 0 ? 'nothing would come back' : `would restore ${counted(r.count, 'message')}:`);
    for (const m of r.restored) console.log(`  ${m.path}`);
  } else if (r.commit) {
    console.log(`[main ${r.commit.slice(0, 10)}]`);
    for (const line of r.lines) console.log(`  ${line}`);
  } else console.log('nothing to restore');
  for (const p of r.present) console.log(`already there: ${p.message.key} (${p.now})`);
}

/** The `restore` verb. */
export async function handler(argv: RestoreArgs): Promise<void> {
  check(argv);
  const repo = await repoFromArgs(argv);
  const { barProgress, silentProgress } = await import('../fetch/progress.js');
  const progress = (argv.progress ?? (process.stderr.isTTY === true && !argv.json)) ? barProgress() : silentProgress;
  progress.label('restore');
  const opts = { dryRun: argv.dryRun, list: argv.dryRun === true || argv.json === true, progress };
  const report = await withRepoLock(repo, { what: 'restore', waitMs: LOCK_WAIT_MS.patient }, (locked) =>
    argv.folder !== undefined
      ? restoreFolder(locked, { folder: argv.folder, asOf: argv.asOf! }, opts)
      : restoreMessages(locked, { names: argv.messages, at: argv.at }, opts),
  ).finally(() => progress.stop());
  if (argv.json) {
    printJson({
      commit: report.commit,
      restored: report.restored.map((m) => m.path),
      present: report.present.map((p) => ({ path: p.message.path, now: p.now })),
      lines: report.lines,
    });
    return;
  }
  print(report, argv.dryRun === true);
}
