/**
 * Keeping git's index true, so that plain `git status` agrees with mailgit. Recording
 * writes commits with fast-import, without the index; afterwards only the paths that
 * commit (or an apply) changed are written into the index, by one
 * `git update-index --index-info` on a split index (git rewrites only the small part
 * that changed; the shared part with every message is rewritten when a fifth of it
 * changed). `.git/mailgit/index.json` says which commit the index was last brought to
 * and the index file's stamp then; when that commit is not the one the change starts
 * from (a run killed in between, a repo made before this existed) the index is rebuilt
 * from the tree once (`read-tree --reset`, which keeps the stat data of unchanged paths).
 * Entries written from a commit carry no stat data: git reads those files once, at the
 * next `git status`, and keeps their stat data from then on. When the index file's stamp
 * is not the one saved, someone else wrote it (plain git): the entries where it differs
 * from the commit the change starts from (what a person staged, `git diff-index
 * --cached`) are written back as that commit has them in the same `update-index`, so a
 * staged name the client renamed since does not stay beside the recorded rename.
 *
 * A folder's `maildirfolder` marker can be in the tree and not on disk: the scan records
 * it without writing it into the client's folder (scan.ts, `unwritten`). Its index entry
 * gets git's skip-worktree bit, so `git status` does not list it as deleted and
 * `git commit -a` does not delete it; git keeps the bit through `stash`, `reset --hard`,
 * `checkout -f` and `read-tree --reset`. `.git/mailgit/index.json` lists the markers
 * marked so, so that a record marks only the new ones (no process when none is new, and
 * no one else wrote the index since).
 *
 * Order: copy `.git/index` to `.git/mailgit/index.next`, let git write that copy
 * (`GIT_INDEX_FILE`; its lock is `index.next.lock`, mailgit's own, which the repo lock
 * lets a later run remove), rename it over `.git/index`, then save the state. So a
 * SIGKILL never leaves `.git/index.lock` behind (which would stop every git command that
 * writes the index until a person removed it). Nothing here is fsynced, as git does not
 * fsync its index either: the index and its state are derived data, and an index that
 * a power loss damaged is rebuilt from the tree by the next run.
 */
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { git } from '../git/run.js';
import type { Repo } from './repo.js';
import { stateDir } from './repo.js';
import { installGitGuards } from './gitGuards.js';
import { checkHeadState, checkInProgress, GitStateError } from './headState.js';
import { MARKER } from '../maildir/layout.js';

/** Bumped when the guards change, so that every replica installs them again once. */
const GUARDS_VERSION = 3;

interface IndexState {
  /** The commit the index was last brought to by mailgit (null: rebuild it). */
  head: string | null;
  /** The last commit mailgit moved `main` to (the way back from a deleted `main`). */
  known?: string;
  /** The index file's (mtime, size, inode) right after that. */
  stamp: string | null;
  guards: number;
  /** The markers whose entries mailgit gave the skip-worktree bit in this index. */
  skipped?: string[];
}

/** One path whose index entry changes (oid null: removed). */
export interface IndexChange {
  path: string;
  oid: string | null;
}

function statePath(repo: Pick<Repo, 'gitDir'>): string {
  return join(stateDir(repo), 'index.json');
}

async function loadState(repo: Pick<Repo, 'gitDir'>): Promise<IndexState | null> {
  try {
    const s = JSON.parse(await readFile(statePath(repo), 'utf8')) as IndexState;
    return typeof s === 'object' && s !== null ? s : null;
  } catch {
    return null;
  }
}

async function indexStamp({ gitDir }: Pick<Repo, 'gitDir'>): Promise<string | null> {
  try {
    const st = await stat(join(gitDir, 'index'), { bigint: true });
    return `${st.mtimeNs}/${st.size}/${st.ino}`;
  } catch {
    return null;
  }
}

/** What {@link saveState} notes of the index (see IndexState): the commit it was brought to, the last `main`, the skipped markers. */
interface NotedIndex {
  head: string | null;
  known: string;
  skipped?: readonly string[];
}

async function saveState(repo: Pick<Repo, 'gitDir'>, { head, known, skipped = [] }: NotedIndex): Promise<void> {
  const s: IndexState = { head, known, stamp: await indexStamp(repo), guards: GUARDS_VERSION, skipped: [...skipped] };
  await mkdir(stateDir(repo), { recursive: true, mode: 0o700 });
  const tmp = `${statePath(repo)}.tmp`;
  await writeFile(tmp, JSON.stringify(s), { mode: 0o600 });
  await rename(tmp, statePath(repo));
}

/** Git options for every index write: a split index, so a small change writes a small file. */
const SPLIT = ['-c', 'core.splitIndex=true'];

/**
 * The size of `.git/index` from which the next update folds it into the shared index
 * (`--split-index` again). git keeps every entry whose stat data a `git status` refreshed
 * in the small part, so after the first status of an adopt it held all 100k entries
 * (6.4 MB), and each record copied, rewrote and fsynced all of it (+300 ms at 100k).
 */
const FOLD_BYTES = 256 * 1024;

/** Runs one git index write on a copy of `.git/index` and puts the copy in place (see the module comment). */
async function writeIndex(repo: Repo, args: string[], opts: { input?: string; fresh?: boolean } = {}): Promise<void> {
  const index = join(repo.gitDir, 'index');
  const next = join(stateDir(repo), 'index.next');
  await mkdir(stateDir(repo), { recursive: true, mode: 0o700 });
  // Leftovers of a killed run are mailgit's own: the caller holds the repo lock.
  await rm(`${next}.lock`, { force: true });
  await rm(next, { force: true });
  if (!opts.fresh) {
    await copyFile(index, next).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
  await git([...SPLIT, ...args], { cwd: repo.root, input: opts.input, env: { GIT_INDEX_FILE: next } });
  await rename(next, index);
}

/**
 * Checks, before a record, that plain git left the repo in a state mailgit can record
 * in (see headState.ts; also an index with unmerged paths, looked for only when someone
 * else wrote the index since mailgit did), and installs the guards into a repo that
 * lacks them (not with `readOnly`, for status). Throws {@link GitStateError}. Unmerged
 * paths are named before a detached HEAD or another branch: git refuses their way back
 * (`git checkout main`) while the index has them (a stash pop stopped on a conflict
 * after a checkout of an old commit: seed 720840 of the plaingit torture).
 */
export async function checkGitView(repo: Repo, opts: { readOnly?: boolean } = {}): Promise<void> {
  const s = await loadState(repo);
  checkInProgress(repo);
  if (s && s.stamp !== (await indexStamp(repo))) {
    // An index git cannot read is no merge stopped half way: it is rebuilt after the record.
    const unmerged = (await git([...SPLIT, 'ls-files', '-u', '-z'], { cwd: repo.root }).catch(() => null))?.stdout ?? [];
    if (unmerged.length > 0) {
      throw new GitStateError('the git index has unmerged paths (a plain git stash pop, merge or checkout stopped on a conflict)', 'git reset --merge');
    }
  }
  checkHeadState(repo, s?.known ?? s?.head ?? null);
  if (s?.guards !== GUARDS_VERSION && !opts.readOnly) await installGitGuards(repo);
}

/** A move of the index for {@link syncGitIndex}: from one commit (null: none yet) to another, and the paths that changed. */
export interface IndexMove {
  from: string | null;
  to: string;
  /** Null when the apply wrote them in batches and kept no list: the index is rebuilt from `to`. */
  changes: readonly IndexChange[] | null;
  /** Folder markers in `to` that are not on disk (given the skip-worktree bit). */
  unwritten?: readonly string[];
}

/**
 * Brings the index from commit `from` to commit `to`, given the paths that changed
 * between them (see the module comment), or rebuilt from `to` when `changes` is null (an
 * apply that wrote them in batches and kept no list), and gives the skip-worktree bit to
 * the markers in `unwritten` (in `to`, not on disk). When someone else wrote the index
 * since mailgit did (plain git), what they staged is put back too (see
 * {@link stagedSince}). Never fails the caller's command: the commit is made; an index
 * that could not be written is rebuilt by the next run, from the tree alone when git
 * cannot read the old one.
 */
export async function syncGitIndex(repo: Repo, { from, to, changes, unwritten = [] }: IndexMove): Promise<void> {
  const s = await loadState(repo);
  try {
    const changed = new Set((changes ?? []).map((c) => c.path));
    // An index someone else wrote since (plain git) may have lost the bits: marked again.
    const ours = s !== null && s.stamp === (await indexStamp(repo));
    let kept = ours ? (s.skipped ?? []).filter((p) => !changed.has(p)) : [];
    let wanted = unwritten;
    const fast = s?.head === from && from !== null && changes !== null;
    // An index git cannot read is rebuilt below.
    const staged = fast && !ours ? await stagedSince(repo, from).catch(() => null) : [];
    if (fast && staged !== null) {
      const lines = [...staged.filter((e) => !changed.has(e.path)), ...changes.map(({ path, oid }) => ({ path, oid, mode: '100644' }))];
      if (lines.length > 0) {
        const input = lines.map((c) => (c.oid === null ? `0 ${'0'.repeat(40)}\t${c.path}\0` : `${c.mode} ${c.oid}\t${c.path}\0`)).join('');
        const big = ((await stat(join(repo.gitDir, 'index')).catch(() => null))?.size ?? 0) > FOLD_BYTES;
        await writeIndex(repo, ['update-index', ...(big ? ['--split-index'] : []), '-z', '--index-info'], { input });
      }
    } else {
      await writeIndex(repo, ['read-tree', '--reset', to]).catch(() => writeIndex(repo, ['read-tree', to], { fresh: true }));
      // A rebuilt index may have lost the bits: every marker missing on disk is marked again.
      kept = [];
      wanted = [...new Set([...unwritten, ...(await missingMarkers(repo))])];
    }
    const keptSet = new Set(kept);
    const toSkip = wanted.filter((p) => !keptSet.has(p));
    if (toSkip.length > 0) await writeIndex(repo, ['update-index', '-z', '--skip-worktree', '--stdin'], { input: toSkip.map((p) => `${p}\0`).join('') });
    // Nothing written and nothing new to note: the state stays as it is.
    if (ours && s.head === to && from === to && toSkip.length === 0) return;
    await saveState(repo, { head: to, known: to, skipped: [...kept, ...toSkip] });
  } catch {
    // Left for the next run, which rebuilds.
    await saveState(repo, { head: null, known: to }).catch(() => undefined);
  }
}

/** An index entry to write: a blob at a path (oid null: the entry is removed). */
interface IndexLine extends IndexChange {
  mode: string;
}

/**
 * The entries where the index differs from commit `head`, written back as `head` has
 * them (removed where `head` lacks the path): what a person staged (`git add -A` of a
 * name the client renamed since, `git rm --cached`) and mailgit, which records the work
 * tree, did not. Asked only when someone else wrote the index since mailgit did (its
 * stamp moved): one `git diff-index --cached`, which reads the index and `head`'s tree
 * and no file of the work tree (at 100k messages: docs/design.md, "Plain git in a mail
 * repo"). Rejects when git cannot read the index.
 */
async function stagedSince(repo: Repo, head: string): Promise<IndexLine[]> {
  const out = await git([...SPLIT, 'diff-index', '--cached', '-z', '--no-renames', head], { cwd: repo.root });
  const fields = out.stdout.toString('utf8').split('\0');
  const lines: IndexLine[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    // ":<head's mode> <index's mode> <head's oid> <index's oid> <status>", then the path.
    const [mode, , oid] = fields[i]!.slice(1).split(' ');
    lines.push({ path: fields[i + 1]!, mode: mode!, oid: /^0+$/.test(mode!) ? null : oid! });
  }
  return lines;
}

/** The folder markers the index has and the work tree lacks (git stats only those entries). */
async function missingMarkers(repo: Repo): Promise<string[]> {
  const out = await git([...SPLIT, 'ls-files', '-z', '--deleted', '--', `:(glob)**/${MARKER}`], { cwd: repo.root });
  return out.stdout.toString('utf8').split('\0').filter(Boolean);
}

/** Notes that the index was just written for commit `head` by a checkout (clone). */
export async function markGitIndex(repo: Pick<Repo, 'gitDir'>, head: string): Promise<void> {
  await saveState(repo, { head, known: head });
}
