/**
 * Plain git that rewrote the Maildir and was then refused. `git reset --hard C` (also
 * `--keep`, `--merge`), a fast-forward `git merge` and `git checkout -B main C` write C's
 * tree into the index and the work tree first and only then ask to move `main`, which
 * mailgit's reference-transaction hook refuses (gitGuards.ts). HEAD stays, the files are
 * C's: recorded as they are, every message that arrived since C would be a deletion of
 * the user's, every deletion since C would come back and every flag set since would be
 * cleared. So the hook notes C in `.git/mailgit/refused-moves`, and the next record (by
 * any verb) first puts HEAD's mail back where git's rewrite still stands:
 *
 * - C must be reachable from a ref (`rev-list C --not --all` is empty): a commit git
 *   made itself from the index (`git commit -n`, `--amend`, a merge commit) is not a tree
 *   git wrote into the work tree, and reverting it would drop what the client did.
 * - Only the paths of C → HEAD where the index still differs from HEAD are put back
 *   (with every path of the same message): where a person already took the way back
 *   (`git reset --merge`, `git checkout -f`, `git stash`), the index is HEAD's again and
 *   what the client did since is kept.
 * - The paths are written by the apply's race rules (apply.ts: restoreWorktree): a message
 *   git renamed back that the client renamed since gets both renames, one a client deleted
 *   stays deleted, and a message a person `git add`ed is in no diff of C and stays.
 *
 * - A `git stash` made while a move is noted saves git's rewrite as a change: the stash
 *   puts HEAD's files back (nothing stands at the next record), and its pop, before or
 *   after that record, takes them again. The hook notes such a stash beside the target
 *   (`.git/mailgit/stashed-rewrites`), and once the stash is gone from the stash list,
 *   the next record puts HEAD's version back at the paths where the stash holds the
 *   target's (git's rewrite; the client's own stashed changes stay).
 *
 * Costs nothing when no move was refused (a failed open of each note); a note goes, or
 * loses its line, once its repair is done, so a run killed in between repairs again
 * (each put-back is idempotent).
 */
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readHead } from '../git/commit.js';
import { diffTrees } from '../git/diff.js';
import type { PathChange } from '../git/diff.js';
import { git, splitZ } from '../git/run.js';
import { parseMessagePath } from '../maildir/name.js';
import { restoreWorktree } from './apply.js';
import { REFUSED_MOVES, STASHED_REWRITES } from './gitGuards.js';
import type { LockedRepo } from './lock.js';
import { stateDir } from './repo.js';

/** At most this many of the latest refused targets are looked at. */
const LATEST = 16;

function notePath(repo: Pick<LockedRepo, 'gitDir'>, name = REFUSED_MOVES): string {
  return join(stateDir(repo), name);
}

/** The refused targets, latest first; empty when none was noted. */
async function refusedTargets(repo: LockedRepo): Promise<string[]> {
  const text = await readFile(notePath(repo), 'utf8').catch(() => '');
  const ids = text.split('\n').filter((l) => /^[0-9a-f]{40,64}$/.test(l));
  return ids.slice(-LATEST).reverse();
}

/** True when `commit` is a commit some ref reaches (not one plain git made from the index and could not keep). */
async function reachable(root: string, commit: string): Promise<boolean> {
  const r = await git(['rev-list', '-n1', `${commit}^{commit}`, '--not', '--all'], { cwd: root, okCodes: [128] });
  return r.code === 0 && r.stdout.length === 0;
}

/** The paths whose index entry is not HEAD's; null when git cannot read the index (then every path counts). */
async function stagedPaths(root: string): Promise<Set<string> | null> {
  const r = await git(['diff-index', '--cached', '-z', '--no-renames', '--name-only', 'HEAD'], { cwd: root, okCodes: [128] });
  return r.code === 0 ? new Set(splitZ(r.stdout)) : null;
}

/**
 * The paths of `changes` git's rewrite still stands on: those `staged` holds (all when
 * null), with every other path of the same message (key), so that a rename back is put
 * right as one move.
 */
export function standing(changes: readonly PathChange[], staged: ReadonlySet<string> | null): PathChange[] {
  if (staged === null) return [...changes];
  const keyOf = (path: string) => parseMessagePath(path)?.key;
  const keys = new Set(changes.filter((c) => staged.has(c.path)).map((c) => keyOf(c.path) ?? `\0${c.path}`));
  return changes.filter((c) => staged.has(c.path) || keys.has(keyOf(c.path) ?? `\0${c.path}`));
}

/** True when a refused plain git command was noted and the next record may put mail back (a dry run cannot plan on that). */
export async function refusedMovePending(repo: LockedRepo): Promise<boolean> {
  return (await refusedTargets(repo)).length > 0;
}

/**
 * Puts HEAD's mail back where refused plain git commands rewrote the Maildir (see the
 * module comment), before a record scans, and says so on stderr in one line. Every target
 * noted since the last record is put back, the latest first: a later rewrite can keep an
 * earlier one's at some paths (after a refused `reset --hard HEAD~1`, a fast-forward
 * `git merge` keeps the index's deletion of a message both commits have: seed 831706 of
 * the plaingit torture), and the index is read once, before any is put back (each
 * rebuilds it from HEAD). A stash that saved a rewrite (noted by the hook) is put back
 * from once it is gone from the stash list ({@link putBackPopped}).
 */
export async function repairRefusedMove(repo: LockedRepo): Promise<void> {
  const head = await readHead(repo.root);
  const said = head === null ? [] : await putBackPopped(repo, head);
  const targets = await refusedTargets(repo);
  if (targets.length === 0) return warn(said);
  if (head !== null) {
    const staged = await stagedPaths(repo.root);
    for (const t of new Set(targets)) {
      if (t === head || !(await reachable(repo.root, t))) continue;
      const put = await putBack(repo, { from: t, to: head, changes: standing(await diffTrees(repo.root, { from: t, to: head }), staged) });
      if (put !== null) said.push({ ...put, from: t });
    }
  }
  warn(said);
  await unlink(notePath(repo)).catch(() => undefined);
}

/** One line on stderr for what was put back (nothing when nothing was). */
function warn(said: readonly (PutBack & { from: string })[]): void {
  if (said.length === 0) return;
  const done = [...new Set(said.map((p) => p.from.slice(0, 10)))];
  const which = done.length === 1 ? `commit ${done[0]}'s` : `commits ${done.join(', ')}'s`;
  const messages = said.reduce((n, p) => n + p.messages, 0);
  const notes = said.flatMap((p) => p.notes);
  const tail = notes.length > 0 ? `; ${notes.join('; ')}` : '';
  process.stderr.write(
    `mailgit: warning: plain git wrote ${which} files into the Maildir before mailgit's hook refused to move main there: put HEAD's back (${messages} message paths)${tail}\n`,
  );
}

/** The commits of the stash list (`.git/logs/refs/stash`: git drops an entry's line with the entry). */
async function stashEntries(repo: LockedRepo): Promise<Set<string>> {
  const log = await readFile(join(repo.gitDir, 'logs', 'refs', 'stash'), 'utf8').catch(() => '');
  return new Set(
    log
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((id) => /^[0-9a-f]{40,64}$/.test(id)),
  );
}

/**
 * The paths where stash `stash` saved git's rewrite to `target` (not the client's change):
 * those its work tree changed from its base to what `target` has there (removed where
 * `target` lacks the path).
 */
async function rewritePaths(repo: LockedRepo, { stash, target }: { stash: string; target: string }): Promise<Set<string>> {
  const base = `${stash}^1`;
  const targetAt = new Map((await diffTrees(repo.root, { from: target, to: base })).map((c) => [c.path, c.oldOid]));
  const out = new Set<string>();
  for (const c of await diffTrees(repo.root, { from: base, to: stash })) if (targetAt.has(c.path) && targetAt.get(c.path) === c.newOid) out.add(c.path);
  return out;
}

/**
 * Puts HEAD's mail back from each noted stash of a rewrite that is gone from the stash list
 * (popped, or dropped), at the paths where it saved git's rewrite: a pop takes those files
 * from disk again, records after the rewrite's own repair, and the record would take that
 * for the client's change (plaingit seeds 1156385, 1211818). After a drop the disk holds
 * HEAD's files there and nothing is written. The note keeps the stashes still listed.
 */
async function putBackPopped(repo: LockedRepo, head: string): Promise<(PutBack & { from: string })[]> {
  const text = await readFile(notePath(repo, STASHED_REWRITES), 'utf8').catch(() => '');
  if (text === '') return [];
  const listed = await stashEntries(repo);
  const kept: string[] = [];
  const said: (PutBack & { from: string })[] = [];
  for (const line of new Set(text.split('\n').filter(Boolean))) {
    const [stash, target] = line.split(' ');
    if (!stash || !target) continue;
    if (listed.has(stash)) {
      kept.push(line);
      continue;
    }
    // A stash or target git can no longer read says nothing: its line goes.
    const paths = await rewritePaths(repo, { stash, target }).catch(() => new Set<string>());
    const diff = paths.size > 0 ? await diffTrees(repo.root, { from: target, to: head }).catch(() => []) : [];
    const put = await putBack(repo, { from: target, to: head, changes: standing(diff, paths) });
    if (put !== null) said.push({ ...put, from: target });
  }
  if (kept.length > 0) await writeFile(notePath(repo, STASHED_REWRITES), kept.map((l) => `${l}\n`).join(''));
  else await unlink(notePath(repo, STASHED_REWRITES)).catch(() => undefined);
  return said;
}

/** What {@link putBack} did: how many message paths it put back and the apply's notes. */
interface PutBack {
  messages: number;
  notes: string[];
}

/** Puts HEAD `to`'s version back at `changes` (paths of `from` → `to`); null when there are none. */
async function putBack(repo: LockedRepo, { from, to, changes }: { from: string; to: string; changes: PathChange[] }): Promise<PutBack | null> {
  if (changes.length === 0) return null;
  const { notes } = await restoreWorktree(repo, { from, to, changes, origin: 'HEAD' });
  return { messages: changes.filter((c) => parseMessagePath(c.path) !== null).length, notes };
}
