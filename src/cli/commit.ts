/**
 * `mailgit commit [-m MSG]`
 */
import { record } from '../repo/record.js';
import { LOCK_WAIT_MS, withRepoLock } from '../repo/lock.js';
import type { GlobalArgs } from './context.js';
import { chatty, printJson, repoFromArgs } from './context.js';
import { eventsJson } from '../maildir/describe.js';

interface CommitArgs extends GlobalArgs {
  message?: string;
}

/** The `commit` verb: records everything the mail client changed as one commit. */
export async function handler(argv: CommitArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  const result = await withRepoLock(repo, { what: 'commit', waitMs: LOCK_WAIT_MS.none }, (locked) => record(locked, { message: argv.message }));
  if (argv.json) {
    printJson({ commit: result?.commit ?? null, summary: result?.summary ?? [], folders: eventsJson(result?.events ?? new Map()) });
    return;
  }
  if (!chatty(argv)) return;
  if (!result) {
    console.log('nothing to record');
    return;
  }
  console.log(`[main ${result.commit.slice(0, 10)}]`);
  for (const line of result.summary) console.log(`  ${line}`);
}
