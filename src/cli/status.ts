/**
 * `mailgit status [--json]`
 */
import { formatEvents } from '../maildir/describe.js';
import { workTreeStatus } from '../repo/status.js';
import type { GlobalArgs } from './context.js';
import { printJson, repoFromArgs } from './context.js';
import { remoteStatus } from '../sync/remoteStatus.js';

/** The `status` verb: prints what `commit` would record, per folder, and how each remote stands. */
export async function handler(argv: GlobalArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  const { head, clean, events } = await workTreeStatus(repo);
  const remotes = await remoteStatus(repo);
  if (argv.json) {
    const folders = Object.fromEntries([...events].map(([f, m]) => [f, Object.fromEntries(m)]));
    printJson({ replica: repo.replica, head, clean, folders, remotes });
    return;
  }
  console.log(`replica ${repo.replica}, head ${head ? head.slice(0, 10) : '(none)'}`);
  const lines = formatEvents(events);
  if (lines.length === 0) console.log('nothing to record');
  else for (const line of lines) console.log(`  ${line}`);
  for (const r of remotes) {
    const state = r.tracking === null ? 'never synced' : r.identical ? 'identical' : `${r.ahead} ahead, ${r.behind} behind`;
    console.log(`remote ${r.name}: ${state}`);
  }
}
