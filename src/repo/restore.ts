/**
 * Getting mail back from history. A restore is a new commit that adds the messages
 * again, under the names (folder, flags) they had, and is applied to the Maildir like a
 * sync's merge (change.ts); history is never rewritten, so the restore replicates at the
 * next sync. A message that HEAD holds under its key or with its content (moved,
 * renamed) is left as it is: a restore never makes a second copy.
 *
 * Why a restore is not undone by a replica that did not see the deletion (the merge
 * rules of docs/design.md): the restored file has the key and blob it had before the
 * deletion. Against a merge base from before the deletion, the restoring side is then
 * unchanged for that message (rule 1: the other side's changes win, e.g. a flag set there
 * meanwhile); against a base after it, the message is new on the restoring side and
 * kept (rule 3). Only a deletion the other side made itself, concurrently, removes it.
 */
import { readHead } from '../git/commit.js';
import { emptyBlob } from '../git/blobs.js';
import type { TreeEdit } from '../git/tree.js';
import { folderMarker, folderName } from '../maildir/layout.js';
import { EX, MailgitError } from '../util/errors.js';
import { commitChange, countLines } from './change.js';
import type { ApplyOptions } from './apply.js';
import { locate } from './locate.js';
import type { Located } from './locate.js';
import { previewRecord, record } from './record.js';
import { holding, TreeCache } from './treeMessages.js';
import type { StoredMessage, TreeMessages } from './treeMessages.js';
import { resolveMoment } from './when.js';
import type { Moment } from './when.js';
import type { Repo } from './repo.js';
import type { LockedRepo } from './lock.js';
import { counted } from '../util/words.js';

/** What a restore brought back, or would (dry run). */
export interface RestoreReport {
  /** The commit made (null for a dry run or when nothing came back). */
  commit: string | null;
  /** How many messages came back (or would). */
  count: number;
  /** The messages that came back (or would); a folder restore lists them only when asked (`list`). */
  restored: StoredMessage[];
  /** Messages asked for that HEAD already holds, with where they are. */
  present: { message: StoredMessage; now: string }[];
  /** Per-folder lines of the commit. */
  lines: string[];
}

/** Options of a restore. */
export interface RestoreOptions {
  dryRun?: boolean;
  /** List every message brought back in the report (a dry run's listing, `--json`); a folder restore otherwise only counts them. */
  list?: boolean;
  /** Told about the files written (a progress bar on a terminal). */
  progress?: ApplyOptions['progress'];
}

/** Splits `wanted` into what comes back and what HEAD holds, and adds the markers of folders that come back. */
async function plan(repo: Repo, now: TreeMessages, wanted: StoredMessage[]): Promise<{ edits: TreeEdit[]; report: RestoreReport }> {
  const report: RestoreReport = { commit: null, count: 0, restored: [], present: [], lines: [] };
  const seen = new Set<string>();
  for (const m of wanted) {
    if (seen.has(m.path)) continue;
    seen.add(m.path);
    const there = holding(now, m.key, m.oid);
    if (there) report.present.push({ message: m, now: there.path });
    else report.restored.push(m);
  }
  report.count = report.restored.length;
  const edits: TreeEdit[] = report.restored.map((m) => ({ path: m.path, oid: m.oid }));
  const markers = [...new Set(report.restored.map((m) => folderMarker(m.folder)))].filter((p): p is string => p !== null && !now.files.has(p));
  if (markers.length > 0) {
    const oid = await emptyBlob(repo.root);
    for (const p of markers) edits.push({ path: p, oid });
  }
  report.lines = countLines(
    report.restored.map((m) => folderName(repo.layout, m.folder)),
    'restored',
  );
  return { edits, report };
}

/** A restore worked out: the HEAD it builds on, its commit's subject, the tree edits and the report. */
interface Planned {
  head: string;
  subject: string;
  edits: TreeEdit[];
  report: RestoreReport;
}

/** Commits and applies `planned` (not in a dry run, whose report is the plan); returns the report. */
async function finish(repo: LockedRepo, { head, subject, edits, report }: Planned, opts: RestoreOptions): Promise<RestoreReport> {
  if (opts.dryRun || report.restored.length === 0) return report;
  report.commit = await commitChange(repo, { head, change: { subject, lines: report.lines, edits }, progress: opts.progress });
  return report;
}

async function currentHead(repo: Repo): Promise<string> {
  const head = await readHead(repo.root);
  if (!head) throw new MailgitError('nothing to restore: the repo has no history yet', 'ENOHISTORY', EX.NOINPUT);
  return head;
}

/**
 * Resolves the moment `spec` against HEAD as the user saw it (so that `HEAD~1` means what
 * they read in the log), then records what the client changed and returns the moment and
 * the HEAD to build on. A dry run changes nothing: it builds on the commit the record
 * would make, written to the object store only ({@link previewRecord}), so that its plan
 * is the one the real run carries out.
 */
export async function prepare(repo: LockedRepo, spec: string | undefined, opts: RestoreOptions): Promise<{ head: string; moment: Moment | null }> {
  const seen = await currentHead(repo);
  const moment = spec === undefined ? null : await resolveMoment(repo, seen, spec);
  if (opts.dryRun) return { head: (await previewRecord(repo))?.commit ?? seen, moment };
  await record(repo, { message: 'record changes made before restore' });
  return { head: await currentHead(repo), moment };
}

/** Which messages {@link restoreMessages} brings back, and as of when. */
export interface MessagesRestore {
  /** Keys, file names, paths or Message-IDs. */
  names: string[];
  /** The moment (a date, "2 days ago", a commit); default: just before each was last removed. */
  at?: string | undefined;
}

/** Restores the messages `names` as they were at moment `at` (see {@link MessagesRestore}). */
export async function restoreMessages(repo: LockedRepo, { names, at }: MessagesRestore, opts: RestoreOptions = {}): Promise<RestoreReport> {
  const { head, moment } = await prepare(repo, at, opts);
  const wanted: Located[] = [];
  const trees = new TreeCache(repo);
  for (const x of names) wanted.push(...(await locate(repo, { name: x, at: moment ?? { commit: head, time: null }, trees })));
  const { edits, report } = await plan(repo, await trees.get(head), wanted);
  const subject = report.lines.length === 1 ? report.lines[0]! : `restore: ${counted(report.restored.length, 'message')}`;
  return finish(repo, { head, subject, edits, report }, opts);
}
