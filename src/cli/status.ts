/**
 * `mailgit status [--json]`
 */
import { formatEvents } from '../maildir/describe.js';
import { workTreeStatus } from '../repo/status.js';
import type { GlobalArgs } from './context.js';
import { printJson, repoFromArgs } from './context.js';
import { remoteStatus, waitingPushes } from '../sync/remoteStatus.js';
import { eventsJson } from '../maildir/describe.js';
import { standingWords } from './remote.js';
import { unrecordable } from '../repo/check.js';

/**
 * The `status` verb: prints what `commit` would record, per folder, what it never records
 * (names no other replica could take, symlinks, directories among messages), how each
 * remote stands, and the pushes peers left for the next sync to merge.
 */
export async function handler(argv: GlobalArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  const { head, clean, events } = await workTreeStatus(repo);
  const remotes = await remoteStatus(repo);
  const waiting = await waitingPushes(repo);
  const skipped = await unrecordable(repo.root);
  if (argv.json) {
    const unrecorded = skipped.map((f) => ({ path: f.path, text: f.text }));
    printJson({ replica: repo.replica, head, clean, folders: eventsJson(events), unrecorded, remotes, waiting });
    return;
  }
  console.log(`replica ${repo.replica}, head ${head ? head.slice(0, 10) : '(none)'}`);
  const lines = formatEvents(events);
  if (lines.length === 0) console.log('nothing to record');
  else for (const line of lines) console.log(`  ${line}`);
  if (skipped.length > 0) console.log('never recorded (rename or move them to replicate them):');
  for (const f of skipped) console.log(`  ${f.text}`);
  for (const r of remotes) console.log(`remote ${r.name} (${r.kind}): ${standingWords(r)}`);
  for (const w of waiting) {
    console.log(`pushed by ${w.from}, waiting for mailgit sync to merge it:`);
    for (const line of w.lines.length ? w.lines : ['no mail changes']) console.log(`  ${line}`);
  }
}
