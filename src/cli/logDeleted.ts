/**
 * `mailgit log --deleted [--folder F] [--since T] [--until T] [--json]`: the messages
 * that were deleted, newest first, with their subject, sender and date, and when, where
 * and on which replica each was deleted.
 */
import { printJson } from './context.js';
import type { LogArgs } from './log.js';
import { listDeleted } from '../repo/deleted.js';
import type { DeletedFilter } from '../repo/deleted.js';
import { readBound } from '../repo/when.js';
import type { Repo } from '../repo/repo.js';
import { shortTime } from './time.js';

/** Prints the deletions `argv` asks for. */
export async function showDeleted(repo: Repo, argv: LogArgs): Promise<void> {
  const filter: DeletedFilter = { folder: argv.folder };
  if (argv.since !== undefined) {
    const b = await readBound(repo, argv.since);
    if ('time' in b) filter.since = b.time;
    else filter.after = b.commit;
  }
  if (argv.until !== undefined) {
    const b = await readBound(repo, argv.until);
    if ('time' in b) filter.until = b.time;
    else filter.upTo = b.commit;
  }
  let list = await listDeleted(repo, filter);
  if (argv.n) list = list.slice(0, argv.n);
  if (argv.json) {
    printJson(list);
    return;
  }
  if (list.length === 0) console.log('no deleted messages');
  for (const d of list) {
    const state = d.now === null ? '' : `  (back: ${d.now})`;
    console.log(`${d.commit.slice(0, 10)} ${shortTime(d.time * 1000)} ${d.replica || '?'} deleted from ${d.folder}: ${d.key}${state}`);
    console.log(`    ${d.subject ?? '(no subject)'} — ${d.from ?? '(no sender)'}${d.date ? `, ${d.date.slice(0, 10)}` : ''}`);
  }
}
