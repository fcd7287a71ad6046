/**
 * What `init` looks at before it writes anything: the tree's folders and layout, whether
 * it can write everything it must, and how to put the tree back exactly as it was when a
 * later step fails. Order (src/repo/init.ts), crash-safe at every step:
 *   1. plan and check (read only);
 *   2. `git init` into `.mailgit-init/` (a name of ours: a leftover is removed by the rerun),
 *      settings and the plan as a journal (`mailgit/init.json`) inside that `.git`;
 *   3. rename that `.git` to the root's `.git`, then write files, markers, `cur/ new/ tmp/`;
 *   4. record the first commit, then delete the journal.
 * A failure undoes what the plan says init added. After a crash, the rerun finds the
 * journal in a `.git` whose `main` has no commit, undoes the same way and starts afresh.
 */
import { access, chmod, constants, mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Layout } from '../maildir/layout.js';
import { detectLayout, fitsLayout, folderMarker } from '../maildir/layout.js';
import { ROOT_FILES } from '../maildir/paths.js';
import { MailgitError, EX, PermissionError, UsageError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { walkWorktree } from './walk.js';
import { checkOwner } from './owner.js';
import { git } from '../git/run.js';

/** What init found, and what it will add to a tree that exists. */
export interface InitPlan {
  root: string;
  /** The topmost directory init must create (the root or an ancestor), or `null` when the root exists. */
  creates: string | null;
  /** The root's permission bits before init, when it existed. */
  rootMode: number | null;
  layout: Layout;
  /** True when a Maildir tree is adopted. */
  adopted: boolean;
  /** True when the layout was detected, not given. */
  detected: boolean;
  /** Folder directories of an adopted tree (repo-relative, `""` for a root Maildir). */
  folders: string[];
  /** Folder markers (`maildirfolder`) the tree lacks and init will write. */
  newMarkers: string[];
  /** `cur/ new/ tmp/` directories the tree lacks and init will make. */
  newDirs: string[];
  /** Root files (`.gitignore`, `.gitattributes`) that exist, with their bytes (base64) and mode. */
  saved: Record<string, { data: string; mode: number }>;
  /** Whether `.mailgit/` existed (without a config: that is "already a mail repo"). */
  hadMetaDir: boolean;
}

async function statOrNull(path: string): Promise<import('node:fs').Stats | null> {
  try {
    return await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Returns the topmost missing directory on the way to `dir`. */
async function topMissing(dir: string): Promise<string> {
  let top = dir;
  while (dirname(top) !== top && (await statOrNull(dirname(top))) === null) top = dirname(top);
  return top;
}

/** Refuses `wanted` for the tree at `root` when it has one of `folders` that layout cannot hold (it looks like `found`), naming the folder. */
function checkFits(root: string, { wanted, found, folders }: { wanted: Layout; found: Layout; folders: string[] }): void {
  const misfit = folders.find((d) => !fitsLayout(wanted, d));
  if (misfit === undefined) return;
  const what = misfit === '' ? 'a Maildir at its root, which that layout does not have' : `folder directory ${misfit}/, which that layout would not make`;
  throw new UsageError(`${root} does not fit --layout ${wanted}: it has ${what}; it looks like ${found} (use --layout ${found}, or leave --layout out)`);
}

/**
 * Looks at `root` without writing anything and returns the plan for init, or throws:
 * a non-directory (64), a non-empty directory without Maildir (65), a tree that does not
 * fit the layout asked for (64).
 */
export async function planInit(root: string, wanted?: Layout): Promise<InitPlan> {
  const st = await statOrNull(root);
  if (st && !st.isDirectory()) throw new UsageError(`${root} is not a directory`);
  const plan: InitPlan = {
    root,
    creates: st ? null : await topMissing(root),
    rootMode: st ? st.mode & 0o7777 : null,
    layout: wanted ?? 'fs',
    adopted: false,
    detected: false,
    folders: [],
    newMarkers: [],
    newDirs: [],
    saved: {},
    hadMetaDir: st !== null && (await statOrNull(join(root, '.mailgit'))) !== null,
  };
  if (!st || (await readdir(root)).length === 0) return plan;
  const walk = await walkWorktree(root, { readOnly: true });
  plan.folders = [...walk.folders].sort();
  const found = detectLayout(plan.folders);
  if (found === null) {
    throw new MailgitError(`${root} is not empty and holds no Maildir (no folder with cur/ or new/); refusing`, 'ENOMAILDIR', EX.DATAERR);
  }
  if (wanted) checkFits(root, { wanted, found, folders: plan.folders });
  Object.assign(plan, { layout: wanted ?? found, adopted: true, detected: !wanted });
  for (const f of plan.folders) {
    const rel = (name: string) => (f === '' ? name : `${f}/${name}`);
    const marker = folderMarker(f);
    if (marker !== null && !walk.files.has(marker)) plan.newMarkers.push(marker);
    for (const sub of ['cur', 'new', 'tmp']) if ((await statOrNull(join(root, rel(sub)))) === null) plan.newDirs.push(rel(sub));
  }
  for (const name of ROOT_FILES) {
    const s = await statOrNull(join(root, name));
    if (s?.isFile()) plan.saved[name] = { data: (await readFile(join(root, name))).toString('base64'), mode: s.mode & 0o777 };
  }
  return plan;
}

/**
 * Checks, before anything is written, that init can write every directory it must write
 * into: the root (or the existing parent of what it creates) and each adopted folder that
 * gets a marker or a missing `cur/ new/ tmp/`. Throws a {@link PermissionError} (77) or,
 * on a read-only file system, exit 73, naming the directory.
 */
export async function checkWritable(plan: InitPlan): Promise<void> {
  // git would refuse to work in a root another user owns once init had written `.git`.
  if (!plan.creates) await checkOwner(plan.root, '; nothing was changed');
  const dirs = new Set<string>([plan.creates ? dirname(plan.creates) : plan.root]);
  for (const p of [...plan.newMarkers, ...plan.newDirs]) dirs.add(join(plan.root, dirname(p)));
  for (const d of dirs) {
    try {
      await access(d, constants.W_OK | constants.X_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EROFS') throw new MailgitError(`cannot write ${d}: read-only file system; nothing was changed`, 'EROFS', EX.CANTCREAT);
      throw new PermissionError(`cannot write ${d} (${code === 'ENOENT' ? 'missing' : 'permission denied'}); nothing was changed`);
    }
  }
}

/**
 * Puts the tree back as the plan found it: removes what init created (the root it made,
 * `.git`, `.mailgit`, markers, `cur/ new/ tmp/`), restores the root files it replaced and
 * the root's mode. Best effort: each step runs even when an earlier one fails.
 */
export async function undoInit(plan: InitPlan): Promise<void> {
  const { root } = plan;
  const quiet = (p: Promise<unknown>) => p.catch(() => undefined);
  if (plan.creates) return void (await quiet(rm(plan.creates, { recursive: true, force: true })));
  await quiet(rm(join(root, STAGING), { recursive: true, force: true }));
  if (!plan.adopted) {
    // The root was empty: everything in it is init's.
    for (const name of await readdir(root).catch(() => [])) await quiet(rm(join(root, name), { recursive: true, force: true }));
  } else {
    await quiet(rm(join(root, '.git'), { recursive: true, force: true }));
    await quiet(rm(join(root, plan.hadMetaDir ? '.mailgit/config.json' : '.mailgit'), { recursive: true, force: true }));
    for (const name of ROOT_FILES) {
      const old = plan.saved[name];
      await quiet(old ? writeFileAtomic(join(root, name), Buffer.from(old.data, 'base64'), { mode: old.mode }) : rm(join(root, name), { force: true }));
      if (old) await quiet(chmod(join(root, name), old.mode));
    }
    for (const m of plan.newMarkers) await quiet(rm(join(root, m), { force: true }));
    for (const d of plan.newDirs) await quiet(rmdir(join(root, d)));
  }
  if (plan.rootMode !== null) await quiet(chmod(root, plan.rootMode));
}

/** Where init makes its `.git` before it moves it into place. */
const STAGING = '.mailgit-init';

const JOURNAL = join('mailgit', 'init.json');

/**
 * Creates the repo's `.git` with `setup(gitDir)` (git init, settings) and the plan as its
 * journal, in `.mailgit-init/` first, then moves it to the root (steps 2 and 3 above).
 */
export async function stageGitDir(plan: InitPlan, setup: (worktree: string) => Promise<void>): Promise<void> {
  const staging = join(plan.root, STAGING);
  await setup(staging);
  await mkdir(join(staging, '.git', 'mailgit'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(staging, '.git', JOURNAL), JSON.stringify(plan), { mode: 0o600 });
  await rename(join(staging, '.git'), join(plan.root, '.git'));
  await rmdir(staging);
}

/** Deletes the journal once the first commit is in (step 4). */
export async function finishInit(root: string): Promise<void> {
  await unlink(join(root, '.git', JOURNAL));
}

/**
 * Puts back a tree whose init was killed: removes a leftover `.mailgit-init/`, and undoes an
 * init whose journal is still in `.git` while `main` has no commit. Returns quietly when
 * there is nothing of a killed init.
 */
export async function recoverInit(root: string): Promise<void> {
  if ((await statOrNull(join(root, STAGING))) !== null && (await statOrNull(join(root, '.git'))) === null) {
    await rm(join(root, STAGING), { recursive: true, force: true });
  }
  let plan: InitPlan;
  try {
    plan = JSON.parse(await readFile(join(root, '.git', JOURNAL), 'utf8')) as InitPlan;
  } catch {
    return;
  }
  if (plan.root !== root) return;
  const main = await git(['rev-parse', '--verify', '-q', 'refs/heads/main'], { cwd: root, okCodes: [1] });
  // Killed after the first commit (while the index was being written, say): the repo is
  // whole, only the journal is left; the index is rebuilt by the next record.
  if (main.code === 0) await finishInit(root);
  else await undoInit(plan);
}
