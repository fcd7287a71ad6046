/**
 * `mailgit log [--folder F] [--message KEY] [--json] [-n N]`,
 * `mailgit log --deleted [--folder F] [--since T] [--until T] [--json]`
 */
import type { GlobalArgs } from './context.js';
import { printJson, repoFromArgs } from './context.js';
import { readHistory, messageStory } from '../repo/history.js';
import { gitCommitStore } from '../store/gitCommitStore.js';
import type { HistoryEntry } from '../repo/history.js';
import { UsageError } from '../util/errors.js';

/** The arguments of `log`. */
export interface LogArgs extends GlobalArgs {
  folder?: string;
  message?: string;
  n?: number;
  deleted?: boolean;
  since?: string;
  until?: string;
}

function show(e: HistoryEntry): void {
  const when = new Date(e.time * 1000).toISOString().replace('T', ' ').slice(0, 16);
  console.log(`${e.commit.slice(0, 10)} ${when} ${e.replica || '?'} (clock ${e.clock})${e.merge ? ' merge' : ''}`);
  for (const line of e.lines) console.log(`    ${line}`);
}

/** The `log` verb: prints history in a person's words, for the repo, a folder, or one message. */
export async function handler(argv: LogArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  if (argv.deleted) return (await import('./logDeleted.js')).showDeleted(repo, argv);
  if (argv.since !== undefined || argv.until !== undefined) throw new UsageError('--since and --until go with --deleted');
  if (argv.message) {
    const story = await messageStory(repo, argv.message);
    // mailparser loads only for a message's story.
    const { readHeaders } = await import('../maildir/headers.js');
    const headers = story.blob ? await readHeaders(await gitCommitStore(repo.root).readBlob(story.blob)) : null;
    if (argv.json) {
      printJson(story.entries);
      return;
    }
    if (headers) console.log(`${headers.subject ?? '(no subject)'} — ${headers.from ?? '(no sender)'}${headers.date ? `, ${headers.date.slice(0, 10)}` : ''}`);
    if (story.entries.length === 0) console.log(`no history for message ${argv.message}`);
    for (const e of story.entries) show(e);
    return;
  }
  const entries = await readHistory(repo, { folder: argv.folder, limit: argv.n });
  if (argv.json) {
    printJson(entries);
    return;
  }
  if (entries.length === 0) console.log('no history');
  for (const e of entries) show(e);
}
