/**
 * `mailgit undo COMMIT`: revert what one recorded commit did, as a new commit (see
 * src/repo/undo.ts).
 */
import type { GlobalArgs } from './context.js';
import { printJson, repoFromArgs } from './context.js';
import { LOCK_WAIT_MS, withRepoLock } from '../repo/lock.js';
import { undoCommit } from '../repo/undo.js';

interface UndoArgs extends GlobalArgs {
  commit: string;
}

/** The `undo` verb. */
export async function handler(argv: UndoArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  const r = await withRepoLock(repo, { what: 'undo', waitMs: LOCK_WAIT_MS.patient }, (locked) => undoCommit(locked, argv.commit));
  if (argv.json) {
    printJson(r);
    return;
  }
  if (!r.commit) {
    console.log(`nothing to undo: what ${r.undone.slice(0, 10)} did is undone already`);
    return;
  }
  console.log(`[main ${r.commit.slice(0, 10)}] undo of ${r.undone.slice(0, 10)}`);
  for (const line of r.lines) console.log(`  ${line}`);
}
