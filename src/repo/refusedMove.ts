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
 * Costs nothing when no move was refused (one failed open of the note); the note goes
 * once the repair is done, so a run killed in between repairs again.
 */
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { readHead } from '../git/commit.js';
import { diffTrees } from '../git/diff.js';
import type { PathChange } from '../git/diff.js';
import { git, splitZ } from '../git/run.js';
import { parseMessagePath } from '../maildir/name.js';
import { restoreWorktree } from './apply.js';
import { REFUSED_MOVES } from './gitGuards.js';
import type { LockedRepo } from './lock.js';
import { stateDir } from './repo.js';

/** At most this many of the latest refused targets are looked at. */
const LATEST = 16;

function notePath(repo: Pick<LockedRepo, 'gitDir'>): string {
  return join(stateDir(repo), REFUSED_MOVES);
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
 * rebuilds it from HEAD).
 */
export async function repairRefusedMove(repo: LockedRepo): Promise<void> {
  const targets = await refusedTargets(repo);
  if (targets.length === 0) return;
  const head = await readHead(repo.root);
  if (head !== null) {
    const staged = await stagedPaths(repo.root);
    const done: string[] = [];
    let messages = 0;
    const notes: string[] = [];
    for (const t of new Set(targets)) {
      if (t === head || !(await reachable(repo.root, t))) continue;
      const put = await putBack(repo, { from: t, to: head, staged });
      if (put === null) continue;
      done.push(t.slice(0, 10));
      messages += put.messages;
      notes.push(...put.notes);
    }
    const tail = notes.length > 0 ? `; ${notes.join('; ')}` : '';
    const which = done.length === 1 ? `commit ${done[0]}'s` : `commits ${done.join(', ')}'s`;
    if (done.length > 0)
      process.stderr.write(
        `mailgit: warning: plain git wrote ${which} files into the Maildir before mailgit's hook refused to move main there: put HEAD's back (${messages} message paths)${tail}\n`,
      );
  }
  await unlink(notePath(repo)).catch(() => undefined);
}

/** What {@link putBack} did: how many message paths it put back and the apply's notes. */
interface PutBack {
  messages: number;
  notes: string[];
}

/** Puts HEAD `to`'s version back at the paths of `from` → `to` that git's rewrite still stands on (`staged`: read before any put back); null when there are none. */
async function putBack(repo: LockedRepo, { from, to, staged }: { from: string; to: string; staged: ReadonlySet<string> | null }): Promise<PutBack | null> {
  const changes = standing(await diffTrees(repo.root, { from, to }), staged);
  if (changes.length === 0) return null;
  const { notes } = await restoreWorktree(repo, { from, to, changes, origin: 'HEAD' });
  return { messages: changes.filter((c) => parseMessagePath(c.path) !== null).length, notes };
}
