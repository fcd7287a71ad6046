/**
 * Undoing one recorded commit as a new commit: every message the commit changed goes
 * back to how it was before it (against its first parent), so a mass deletion comes back,
 * a fetch goes away, a flag change is reverted. For a merge commit with conflict
 * decisions, the decisions are undone: each decided message takes the side that lost
 * (a merge without decisions is undone against its first parent: what it brought in). Only mail is undone (messages, folder markers and data files),
 * never `.mailgit/` settings or checkpoints (a fetch undone is not fetched again).
 *
 * Per message (by key) and per other file (by path) the undo is decided against HEAD:
 * still as the commit left it → reverted; already as before the commit → nothing to
 * do; anything else (changed since: moved, re-flagged, deleted, restored elsewhere) →
 * ambiguous, and the whole undo is refused naming those messages, nothing changed.
 */
import { readHead } from '../git/commit.js';
import { readStamp } from '../git/stamps.js';
import { diffTrees } from '../git/diff.js';
import { git } from '../git/run.js';
import type { TreeEdit } from '../git/tree.js';
import { describeChanges, formatEvents } from '../maildir/describe.js';
import type { Delta } from '../maildir/describe.js';
import { parseMessagePath } from '../maildir/name.js';
import { classifyPath } from '../maildir/paths.js';
import { EX, MailgitError, UsageError } from '../util/errors.js';
import { commitChange } from './change.js';
import { record } from './record.js';
import { readTreeMessages } from './treeMessages.js';
import type { TreeMessages } from './treeMessages.js';
import { commitOf, isAncestor } from './when.js';
import type { Repo } from './repo.js';
import type { LockedRepo } from './lock.js';

/** What an undo did. */
export interface UndoReport {
  /** The commit undone, and the new commit (null when there was nothing left to undo). */
  undone: string;
  commit: string | null;
  lines: string[];
  /** Messages and files already as they were before the commit. */
  already: number;
}

/** A name's state: path → blob, sorted, as one comparable string. */
function state(entries: Iterable<[string, string]>): string {
  return [...entries]
    .map(([p, o]) => `${p} ${o}`)
    .sort()
    .join('\n');
}

interface Side {
  before: Map<string, string>;
  after: Map<string, string>;
}

/** Groups the commit's changes to mail by message key (`k:`) or file path (`f:`). */
function groupChanges(changes: Awaited<ReturnType<typeof diffTrees>>): Map<string, Side> {
  const groups = new Map<string, Side>();
  for (const c of changes) {
    const kind = classifyPath(c.path);
    if (kind !== 'message' && kind !== 'folder-file') continue;
    const id = kind === 'message' ? `k:${parseMessagePath(c.path)!.key}` : `f:${c.path}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { before: new Map(), after: new Map() }));
    if (c.oldOid) g.before.set(c.path, c.oldOid);
    if (c.newOid) g.after.set(c.path, c.newOid);
  }
  return groups;
}

function current(now: TreeMessages, id: string): Map<string, string> {
  if (id.startsWith('f:')) {
    const oid = now.files.get(id.slice(2));
    return new Map(oid ? [[id.slice(2), oid]] : []);
  }
  return new Map((now.byKey.get(id.slice(2)) ?? []).map((m) => [m.path, m.oid]));
}

interface Target {
  commit: string;
  parents: string[];
  subject: string;
  body: string;
}

async function checkedCommit(repo: Repo, head: string, spec: string): Promise<Target> {
  const commit = await commitOf(repo, spec);
  if (!commit) throw new UsageError(`no commit ${JSON.stringify(spec)}`);
  if (!(await isAncestor(repo, commit, head))) throw new UsageError(`commit ${spec} is not in this replica's history`);
  if ((await readStamp(repo.root, commit)).replica === '')
    throw new MailgitError(`commit ${spec} is not a mailgit commit (no Mailgit-Replica trailer); nothing undone`, 'ENOTMAILGIT', EX.DATAERR);
  const [parents, subject, body] = (await git(['log', '-1', '--format=%P%x1f%s%x1f%b', commit], { cwd: repo.root })).stdout.toString('utf8').split('\x1f');
  if (!parents?.trim()) throw new UsageError(`commit ${spec} is the repo's first commit; there is nothing before it to go back to`);
  return { commit, parents: parents.trim().split(' '), subject: subject ?? '', body: body ?? '' };
}

/** The message keys a merge commit's conflict lines name (`conflict: PATH: …`). */
function decidedKeys(body: string): string[] {
  const keys = body.split('\n').flatMap((l) => {
    const m = /^conflict: (.+?): /.exec(l);
    const key = m ? parseMessagePath(m[1]!)?.key : undefined;
    return key ? [key] : [];
  });
  return [...new Set(keys)];
}

/**
 * For a merge commit with conflict decisions: per decided message, the side that lost
 * (the parent whose version the merge did not keep) as `before`, the merge's as `after`.
 * A decision that kept both sides' changes has no losing side and is left out.
 */
async function decisionGroups(repo: Repo, t: Target, keys: string[]): Promise<Map<string, Side>> {
  const [merged, ours, theirs] = await Promise.all([t.commit, ...t.parents.slice(0, 2)].map((c) => readTreeMessages(repo, c)));
  const groups = new Map<string, Side>();
  for (const key of keys) {
    const id = `k:${key}`;
    const [m, a, b] = [merged, ours, theirs].map((tree) => current(tree!, id));
    if (state(m!) === state(a!)) groups.set(id, { before: b!, after: m! });
    else if (state(m!) === state(b!)) groups.set(id, { before: a!, after: m! });
  }
  return groups;
}

/** What the undo reverts: a merge's decisions when it has any, else the diff against the first parent. */
async function changesToUndo(repo: Repo, t: Target): Promise<Map<string, Side>> {
  const keys = t.parents.length > 1 ? decidedKeys(t.body) : [];
  if (keys.length > 0) return decisionGroups(repo, t, keys);
  return groupChanges(await diffTrees(repo.root, { from: t.parents[0]!, to: t.commit }));
}

function ambiguity(spec: string, changed: string[]): MailgitError {
  const shown = changed.slice(0, 3).join('; ');
  const more = changed.length > 3 ? `; and ${changed.length - 3} more` : '';
  return new MailgitError(
    `cannot undo ${spec}: ${changed.length} changed since, so undoing is ambiguous: ${shown}${more}; nothing changed`,
    'EAMBIGUOUS',
    EX.DATAERR,
  );
}

/** Describes the undo's edits, calling messages that come back "restored". */
function undoLines(repo: Repo, edits: TreeEdit[], reverted: Map<string, string>): string[] {
  const added: Delta[] = [];
  const removed: Delta[] = [];
  for (const e of edits) {
    if (!parseMessagePath(e.path)) continue;
    if (e.oid) added.push({ path: e.path, oid: e.oid });
    else removed.push({ path: e.path, oid: reverted.get(e.path)! });
  }
  const events = describeChanges(repo.layout, { added, removed });
  for (const m of events.values()) {
    const n = m.get('delivered');
    if (n === undefined) continue;
    m.delete('delivered');
    m.set('restored', n);
  }
  return formatEvents(events);
}

/**
 * Undoes commit `spec` (see the module comment). Throws a {@link MailgitError} (65) when
 * later changes make the undo ambiguous, or for a commit that is not mailgit's, and a
 * {@link UsageError} for one that is not in this replica's history.
 */
export async function undoCommit(repo: LockedRepo, spec: string): Promise<UndoReport> {
  // The commit is named as the user read it, before recording moves HEAD.
  const seen = await readHead(repo.root);
  if (!seen) throw new UsageError('the repo has no history yet');
  const target = await checkedCommit(repo, seen, spec);
  const { commit, subject } = target;
  await record(repo, { message: 'record changes made before undo' });
  const head = (await readHead(repo.root))!;
  const now = await readTreeMessages(repo, head);
  const edits: TreeEdit[] = [];
  const reverted = new Map<string, string>();
  const changed: string[] = [];
  let already = 0;
  for (const [id, side] of await changesToUndo(repo, target)) {
    const cur = current(now, id);
    if (state(cur) === state(side.before)) {
      already++;
      continue;
    }
    // Content the undo would bring back that HEAD holds under another key (moved since).
    const elsewhere = cur.size === 0 ? [...side.before.values()].map((o) => now.byOid.get(o)?.path).find((p) => p !== undefined) : undefined;
    if (state(cur) !== state(side.after) || elsewhere) {
      changed.push(`${id.slice(2)} (${elsewhere ? `now ${elsewhere}` : cur.size === 0 ? 'gone now' : `now ${[...cur.keys()].join(', ')}`})`);
      continue;
    }
    for (const [p, oid] of side.after) {
      if (side.before.has(p)) continue;
      edits.push({ path: p, oid: null });
      reverted.set(p, oid);
    }
    for (const [p, oid] of side.before) if (side.after.get(p) !== oid) edits.push({ path: p, oid });
  }
  if (changed.length > 0) throw ambiguity(spec, changed);
  const lines = undoLines(repo, edits, reverted);
  if (edits.length === 0) return { undone: commit, commit: null, lines, already };
  const made = await commitChange(repo, { head, change: { subject: `undo ${commit.slice(0, 10)}: ${subject}`, lines, edits } });
  return { undone: commit, commit: made, lines, already };
}
