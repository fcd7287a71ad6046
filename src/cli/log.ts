/**
 * `mailgit log [--folder F] [--since T] [--until T] [--json] [-n N]`,
 * `mailgit log MSG... [--json]` (or `--message MSG`, repeatable),
 * `mailgit log --deleted [--folder F] [--since T] [--until T] [--json]`
 */
import type { GlobalArgs } from './context.js';
import { printJson, repoFromArgs } from './context.js';
import { folderInHistory, messageStory, readHistory } from '../repo/history.js';
import type { HistoryEntry, HistoryQuery } from '../repo/history.js';
import { gitCommitStore } from '../store/gitCommitStore.js';
import { locate } from '../repo/locate.js';
import { readBound } from '../repo/when.js';
import { readHead } from '../git/commit.js';
import type { Repo } from '../repo/repo.js';
import { EX, MailgitError, UsageError } from '../util/errors.js';
import { shortTime } from './time.js';

/** The arguments of `log`. */
export interface LogArgs extends GlobalArgs {
  folder?: string;
  messages: string[];
  message?: string[];
  n?: number;
  deleted?: boolean;
  since?: string;
  until?: string;
}

/** When a change was made: its clock (wall time in ms when made) where it has one, else the commit time. */
function changedAt(e: HistoryEntry): number {
  return e.clock > 0 ? e.clock : e.time * 1000;
}

function show(e: HistoryEntry): void {
  const merge = e.merge && !e.note?.startsWith('merged ') ? ' merge' : '';
  console.log(`${e.commit.slice(0, 10)} ${shortTime(changedAt(e))} ${e.replica || '?'}${merge}${e.note ? `: ${e.note}` : ''}`);
  for (const line of e.lines) console.log(`    ${line}`);
}

/** An entry for `--json`: the commit's fields with its time as ISO 8601 (docs/json.md). */
function entryJson(e: HistoryEntry): Record<string, unknown> {
  return { ...e, changedAt: new Date(changedAt(e)).toISOString() };
}

async function query(repo: Repo, argv: LogArgs): Promise<HistoryQuery> {
  return {
    folder: argv.folder,
    limit: argv.n,
    since: argv.since === undefined ? undefined : await readBound(repo, argv.since),
    until: argv.until === undefined ? undefined : await readBound(repo, argv.until),
  };
}

/**
 * `log MSG...`: the story of every message the names match (a Message-ID may match
 * several), each once, in the order named. Every name is looked up before anything is
 * printed, so that an unknown one fails (66) with no half output, as `git log` does.
 */
async function showStories(repo: Repo, argv: LogArgs, names: readonly string[]): Promise<void> {
  const head = await readHead(repo.root);
  if (!head) throw new MailgitError(`no message ${JSON.stringify(names[0])}: this repo has no history yet`, 'ENOMSG', EX.NOINPUT);
  const keys = new Set<string>();
  for (const name of names) for (const m of await locate(repo, { name, at: { commit: head, time: null } })) keys.add(m.key);
  // mailparser loads only for a message's story.
  const { readHeaders } = await import('../maildir/headers.js');
  const stories = [];
  for (const key of keys) {
    const story = await messageStory(repo, key);
    const h = story.blob ? await readHeaders(await gitCommitStore(repo.root).readBlob(story.blob)) : null;
    stories.push({ key, subject: h?.subject ?? null, from: h?.from ?? null, date: h?.date ?? null, entries: story.entries });
  }
  if (argv.json) {
    printJson(stories.map((s) => ({ ...s, entries: s.entries.map(entryJson) })));
    return;
  }
  for (const s of stories) {
    console.log(`${s.key}: ${s.subject ?? '(no subject)'} — ${s.from ?? '(no sender)'}${s.date ? `, ${s.date.slice(0, 10)}` : ''}`);
    for (const e of s.entries) show(e);
  }
}

/** The `log` verb: prints history in a person's words, for the repo, a folder, or one message. */
export async function handler(argv: LogArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  if (argv.deleted) return (await import('./logDeleted.js')).showDeleted(repo, argv);
  const names = [...(argv.message ?? []), ...argv.messages];
  if (names.length > 0) {
    if (argv.folder !== undefined || argv.since !== undefined || argv.until !== undefined) {
      throw new UsageError("a message's story is told whole: it takes no --folder, --since or --until");
    }
    return showStories(repo, argv, names);
  }
  const entries = await readHistory(repo, await query(repo, argv));
  if (entries.length === 0 && argv.folder !== undefined && !(await folderInHistory(repo, argv.folder))) {
    throw new MailgitError(`no folder ${JSON.stringify(argv.folder)} in this repo's history`, 'ENOFOLDER', EX.NOINPUT);
  }
  if (argv.json) {
    printJson(entries.map(entryJson));
    return;
  }
  if (entries.length === 0) console.log('no history');
  for (const e of entries) show(e);
}
