/**
 * `mailgit status [--json]`
 */
import { scanChanges } from '../repo/scan.js';
import { summarize } from '../repo/record.js';
import { copyAliases } from '../repo/copies.js';
import { formatEvents } from '../maildir/describe.js';
import { readHead } from '../git/commit.js';
import type { GlobalArgs } from './context.js';
import { printJson, repoFromArgs } from './context.js';
import { remoteStatus } from '../sync/remoteStatus.js';
import { checkGitView } from '../repo/gitIndex.js';

/** The `status` verb: prints what `commit` would record, per folder, and how each remote stands. */
export async function handler(argv: GlobalArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  await checkGitView(repo, { readOnly: true });
  // Hash without writing objects: status must work in a read-only repo.
  const scan = await scanChanges(repo, { write: false });
  const events = summarize(repo, scan, await copyAliases(repo.root, scan.added, scan.removed));
  const head = await readHead(repo.root);
  const remotes = await remoteStatus(repo);
  if (argv.json) {
    const folders = Object.fromEntries([...events].map(([f, m]) => [f, Object.fromEntries(m)]));
    printJson({ replica: repo.replica, head, clean: scan.edits.length === 0, folders, remotes });
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
