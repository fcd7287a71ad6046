/**
 * Reading history back in a person's words: the per-folder lines that every mailgit
 * commit carries, and one message's story rebuilt from the commits that touched it.
 */
import { git } from '../git/run.js';
import { describeChanges, formatEvents } from '../maildir/describe.js';
import { parseMessagePath } from '../maildir/name.js';
import { readHead } from '../git/commit.js';
import type { Repo } from './repo.js';
import { folderDirOf } from './treeMessages.js';

/** One commit as `log` shows it. */
export interface HistoryEntry {
  commit: string;
  time: number;
  replica: string;
  clock: number;
  merge: boolean;
  subject: string;
  /**
   * What the subject says beyond the lines: a person's own (`commit -m`) or what mailgit
   * did (`init`, `merged hub`); null when the subject only repeats the lines.
   */
  note: string | null;
  /** "FOLDER: …" lines (or, for a message story, what happened to it). */
  lines: string[];
}

/** The `git log --format` of every history reader: fields split by 0x1f, records ended by 0x1e. */
export const FORMAT =
  '%H%x1f%ct%x1f%P%x1f%(trailers:key=Mailgit-Replica,valueonly,separator=%x20)%x1f%(trailers:key=Mailgit-Clock,valueonly,separator=%x20)%x1f%B%x1e';

/** A commit as the history readers parse it. */
export interface RawCommit {
  commit: string;
  time: number;
  parents: string[];
  replica: string;
  clock: number;
  body: string;
}

function parseRaw(rec: string): RawCommit {
  const [commit, time, parents, replica, clock, body] = rec.replace(/^\n+/, '').split('\x1f');
  return {
    commit: commit!,
    time: Number(time),
    parents: parents!.split(' ').filter(Boolean),
    replica: replica!.trim(),
    clock: Number(clock) || 0,
    body: body ?? '',
  };
}

function bodyLines(body: string): { subject: string; note: string | null; lines: string[] } {
  const all = body.split('\n');
  const subject = all[0] ?? '';
  const lines = all.slice(1).filter((l) => l.trim() !== '' && !/^Mailgit-[A-Za-z]+: /.test(l));
  const merged = /^sync: merge (.+)$/.exec(subject)?.[1];
  const repeats = subject === '' || lines.includes(subject) || /^record: \d+ folders changed$/.test(subject);
  return { subject, note: merged ? `merged ${merged}` : repeats ? null : subject, lines };
}

/** What {@link readHistory} reads. */
export interface HistoryQuery {
  /** Only lines about this folder and its subfolders (logical names: `Lists` takes `Lists/rust`). */
  folder?: string;
  limit?: number;
  /** Only commits made at or after this time (seconds), or after this commit. */
  since?: { time: number } | { commit: string };
  /** Only commits made at or before this time (seconds), or up to this commit. */
  until?: { time: number } | { commit: string };
}

/** Whether a commit line is about `folder` or a folder under it. */
function aboutFolder(line: string, folder: string): boolean {
  return line.startsWith(`${folder}: `) || line.startsWith(`${folder}/`) || line.startsWith(`${folder} `);
}

/** The `git log` revision and limits of a query. */
function rangeArgs(q: HistoryQuery): string[] {
  const tip = q.until && 'commit' in q.until ? q.until.commit : 'HEAD';
  return [
    ...(q.since && 'time' in q.since ? [`--since=@${q.since.time}`] : []),
    ...(q.until && 'time' in q.until ? [`--until=@${q.until.time}`] : []),
    q.since && 'commit' in q.since ? `${q.since.commit}..${tip}` : tip,
  ];
}

/** Reads the history of the branch, newest first, optionally only lines about one folder (and its subfolders) or a span of time. */
export async function readHistory(repo: Repo, q: HistoryQuery = {}): Promise<HistoryEntry[]> {
  if (!(await readHead(repo.root))) return [];
  const args = ['log', `--format=${FORMAT}`, ...(q.folder === undefined && q.limit ? [`-n${q.limit}`] : []), ...rangeArgs(q)];
  const out = (await git(args, { cwd: repo.root })).stdout.toString('utf8');
  const entries: HistoryEntry[] = [];
  for (const rec of out.split('\x1e')) {
    if (rec.trim() === '') continue;
    const raw = parseRaw(rec);
    const { subject, note, lines } = bodyLines(raw.body);
    const shown = q.folder === undefined ? (lines.length ? lines : [subject]) : lines.filter((l) => aboutFolder(l, q.folder!));
    if (shown.length === 0) continue;
    entries.push({ commit: raw.commit, time: raw.time, replica: raw.replica, clock: raw.clock, merge: raw.parents.length > 1, subject, note, lines: shown });
    if (q.limit && entries.length >= q.limit) break;
  }
  return entries;
}

/** Files a commit added (against its first parent), with their blobs: one git process. */
async function addedInCommit(repo: Repo, commit: string): Promise<{ path: string; oid: string }[]> {
  const out = await git(['diff-tree', '-r', '-z', '--no-renames', '--no-abbrev', '--root', '--diff-filter=A', commit], { cwd: repo.root });
  const fields = out.stdout
    .toString('utf8')
    .split('\0')
    .filter((f) => f !== '');
  const list: { path: string; oid: string }[] = [];
  for (let i = 0; i + 1 < fields.length; i++) {
    if (!fields[i]!.startsWith(':')) continue;
    list.push({ path: fields[i + 1]!, oid: fields[i]!.split(' ')[3]! });
    i++;
  }
  return list;
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** One path a commit changed, as `git log --raw` gives it (blobs null where absent). */
export interface RawChange {
  path: string;
  oldOid: string | null;
  newOid: string | null;
}

/** A commit of a `git log --raw` run with the paths it changed. */
export interface RawLogEntry extends RawCommit {
  changes: RawChange[];
}

/** The `git log` options that make {@link readRawLog}'s input; the caller adds revisions and paths. */
export const RAW_LOG_ARGS = ['log', '--no-renames', '--raw', '--no-abbrev', '-z', `--format=%x1d${FORMAT}`];

const ZERO_OID = /^0+$/;

/** Parses the output of `git log` run with {@link RAW_LOG_ARGS}. */
export function parseRawLog(out: string): RawLogEntry[] {
  const entries: RawLogEntry[] = [];
  // Each record: \x1d header \x1e \0 raw-lines, where raw is ":modes oids status\0path\0" repeated.
  for (const rec of out.split('\x1d')) {
    const end = rec.indexOf('\x1e');
    if (end < 0) continue;
    const changes: RawChange[] = [];
    const fields = rec
      .slice(end + 1)
      .split('\0')
      .map((f) => f.replace(/^\n/, ''))
      .filter((f) => f !== '');
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const meta = fields[i]!.replace(/^:/, '').split(' ');
      changes.push({ path: fields[i + 1]!, oldOid: ZERO_OID.test(meta[2]!) ? null : meta[2]!, newOid: ZERO_OID.test(meta[3]!) ? null : meta[3]! });
    }
    entries.push({ ...parseRaw(rec.slice(0, end)), changes });
  }
  return entries;
}

/** The lines of merge commit `body` that decide a conflict about message `key`. */
function decisionsAbout(body: string, key: string): string[] {
  return bodyLines(body).lines.filter((l) => l.startsWith('conflict: ') && (l.includes(`/${key}:`) || l.includes(`/${key} `) || l.includes(`(as ${key})`)));
}

/**
 * Rebuilds one message's story, oldest first: delivered, read, flagged, moved, deleted —
 * with the replica and time of each step, and the blob it was last stored as. Every
 * replica's steps are told, those a merge later overruled too (`--full-history`), each
 * once, on the replica where it happened; a merge appears only for the conflict it
 * decided about the message, with both sides and the decision.
 */
export async function messageStory(repo: Repo, key: string): Promise<{ entries: HistoryEntry[]; blob: string | null }> {
  if (!(await readHead(repo.root))) return { entries: [], blob: null };
  let blob: string | null = null;
  const args = [...RAW_LOG_ARGS, '--reverse', '--full-history', '--topo-order', 'HEAD', '--', ...keyPathspecs(key)];
  const out = (await git(args, { cwd: repo.root })).stdout.toString('utf8');
  const entries: HistoryEntry[] = [];
  for (const raw of parseRawLog(out)) {
    const merge = raw.parents.length > 1;
    const lines = merge ? decisionsAbout(raw.body, key) : await stepLines(repo, raw, { key, stored: (oid) => (blob = oid) });
    if (lines.length === 0) continue;
    const { subject, note } = bodyLines(raw.body);
    entries.push({ commit: raw.commit, time: raw.time, replica: raw.replica, clock: raw.clock, merge, subject, note, lines });
  }
  // Both sides' steps in the order they were made (their clocks), not in git's walk order.
  return { entries: entries.sort((x, y) => x.clock - y.clock), blob };
}

/** What commit `raw` (not a merge) did to message `key`, as "FOLDER: …" lines; `stored` gets each blob it wrote. */
async function stepLines(repo: Repo, raw: RawLogEntry, { key, stored }: { key: string; stored: (oid: string) => void }): Promise<string[]> {
  const added = [];
  const removed = [];
  for (const c of raw.changes) {
    if (parseMessagePath(c.path)?.key !== key) continue;
    if (c.newOid) {
      added.push({ path: c.path, oid: c.newOid });
      stored(c.newOid);
    }
    if (c.oldOid) removed.push({ path: c.path, oid: c.oldOid });
  }
  if (removed.length > added.length) {
    // The key left without coming back: a client that copies and deletes (mutt's
    // save) gave the message a new name. Find the same blob added in this commit.
    const gone = new Set(removed.map((r) => r.oid));
    for (const a of await addedInCommit(repo, raw.commit)) if (gone.has(a.oid) && parseMessagePath(a.path)) added.push(a);
  }
  return formatEvents(describeChanges(repo.layout, { added, removed }));
}

/** Pathspecs that match every file name of message `key` in any folder. */
export function keyPathspecs(key: string): string[] {
  const k = globEscape(key);
  return [`:(glob)**/cur/${k}`, `:(glob)**/cur/${k}:*`, `:(glob)**/new/${k}`, `:(glob)**/new/${k}:*`];
}

/** Whether folder `folder` (a logical name) is in HEAD or was ever in history (one or two git processes). */
export async function folderInHistory(repo: Repo, folder: string): Promise<boolean> {
  const dir = folderDirOf(repo, folder);
  if (dir === '') return true;
  if ((await git(['cat-file', '-e', `HEAD:${dir}`], { cwd: repo.root, okCodes: [1, 128] })).code === 0) return true;
  return (await git(['log', '-1', '--format=%H', 'HEAD', '--', dir], { cwd: repo.root })).stdout.length > 0;
}
