/**
 * The messages that were deleted, from history: for each commit made on a replica
 * (merges are skipped, so each deletion is shown once, where it happened), the message
 * files it removed that no file it added explains: not a flag change or a move (same
 * key), not a move by copy and delete (same blob, or same Message-ID: see copies.ts).
 * One `git log --raw` of the branch; headers are read from the removed blobs through
 * one `cat-file --batch`.
 */
import { git } from '../git/run.js';
import { readHead } from '../git/commit.js';
import { CatFile } from '../git/catfile.js';
import { folderName } from '../maildir/layout.js';
import { flagsOf, parseMessagePath } from '../maildir/name.js';
import type { Delta } from '../maildir/describe.js';
import type { MessageHeaders } from '../maildir/headers.js';
import { parseRawLog, RAW_LOG_ARGS } from './history.js';
import type { RawLogEntry } from './history.js';
import { copyAliases } from './copies.js';
import { folderDirOf, holding, readTreeMessages } from './treeMessages.js';
import type { Repo } from './repo.js';

/** One deletion. */
export interface DeletedMessage extends MessageHeaders {
  key: string;
  /** Logical folder it was deleted from. */
  folder: string;
  /** Its path and blob just before the deletion. */
  path: string;
  oid: string;
  flags: string;
  /** The commit that deleted it, when (seconds since the epoch) and on which replica. */
  commit: string;
  time: number;
  replica: string;
  /** Where a message with this key or content is now (HEAD), or null while it is gone. */
  now: string | null;
}

/** Filters for {@link listDeleted}; times in seconds since the epoch. */
export interface DeletedFilter {
  folder?: string;
  since?: number;
  until?: number;
  /** Only deletions after this commit (not in its history). */
  after?: string;
  /** Only deletions in this commit's history (instead of HEAD's). */
  upTo?: string;
  /** Read each message's subject, sender, date and Message-ID (default true). */
  headers?: boolean;
}

/** The message files a commit removed that nothing it added explains (see the module comment). */
async function deletionsOf(repo: Repo, entry: RawLogEntry): Promise<Delta[]> {
  const added: Delta[] = [];
  const removed: Delta[] = [];
  for (const c of entry.changes) {
    if (!parseMessagePath(c.path)) continue;
    if (c.newOid) added.push({ path: c.path, oid: c.newOid });
    if (c.oldOid) removed.push({ path: c.path, oid: c.oldOid });
  }
  if (removed.length === 0) return [];
  const keys = new Set(added.map((a) => parseMessagePath(a.path)!.key));
  const oids = new Set(added.map((a) => a.oid));
  for (const moved of (await copyAliases(repo.root, added, removed)).values()) oids.add(moved);
  return removed.filter((r) => !keys.has(parseMessagePath(r.path)!.key) && !oids.has(r.oid));
}

const NO_HEADERS: MessageHeaders = { subject: null, from: null, date: null, messageId: null };

/** Lists deletions, newest first (see the module comment). */
export async function listDeleted(repo: Repo, filter: DeletedFilter = {}): Promise<DeletedMessage[]> {
  const head = await readHead(repo.root);
  if (!head) return [];
  const dir = filter.folder === undefined ? null : folderDirOf(repo, filter.folder);
  const paths = dir === null ? [] : ['--full-diff', '--', dir === '' ? 'cur' : `${dir}/cur`, dir === '' ? 'new' : `${dir}/new`];
  const range = [...(filter.since !== undefined ? [`--since=@${filter.since}`] : []), ...(filter.until !== undefined ? [`--until=@${filter.until}`] : [])];
  const revs = [filter.upTo ?? head, ...(filter.after ? [`^${filter.after}`] : [])];
  const out = (await git([...RAW_LOG_ARGS, '--no-merges', ...range, ...revs, ...paths], { cwd: repo.root })).stdout.toString('utf8');
  const now = await readTreeMessages(repo, head);
  const found: DeletedMessage[] = [];
  for (const entry of parseRawLog(out)) {
    for (const d of await deletionsOf(repo, entry)) {
      const m = parseMessagePath(d.path)!;
      if (dir !== null && m.folder !== dir) continue;
      const back = holding(now, m.key, d.oid)?.path ?? null;
      found.push({
        ...NO_HEADERS,
        key: m.key,
        folder: folderName(repo.layout, m.folder),
        path: d.path,
        oid: d.oid,
        flags: flagsOf(m.info),
        commit: entry.commit,
        time: entry.time,
        replica: entry.replica,
        now: back,
      });
    }
  }
  if (filter.headers === false || found.length === 0) return found;
  // mailparser loads only when headers are wanted.
  const { readHeaders } = await import('../maildir/headers.js');
  const cat = new CatFile(repo.root);
  try {
    for (const f of found) Object.assign(f, await readHeaders(await cat.read(f.oid)));
  } finally {
    cat.close();
  }
  return found;
}
