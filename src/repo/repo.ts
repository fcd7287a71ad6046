/**
 * Opening a mail repo: a git work tree whose folders are Maildirs, with mailgit's
 * per-machine settings in `.git/config` and synced settings in `.mailgit/`.
 */
import { stat, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Layout } from '../maildir/layout.js';
import { LAYOUTS } from '../maildir/layout.js';
import { NotARepoError } from '../util/errors.js';
import { gitText } from '../git/run.js';

/** An open mail repo. */
export interface Repo {
  /** Absolute path of the work tree root. */
  root: string;
  /** Absolute path of the `.git` directory. */
  gitDir: string;
  /** Folder layout of the tree. */
  layout: Layout;
  /** This machine's replica name (`mailgit.replica` in `.git/config`). */
  replica: string;
}

/** Synced settings in `.mailgit/config.json`. */
export const CONFIG_PATH = '.mailgit/config.json';

/** Per-machine state directory inside `.git`. */
export function stateDir(repo: { gitDir: string }): string {
  return join(repo.gitDir, 'mailgit');
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** Reads the layout recorded in the repo's `.mailgit/config.json` (`fs` when absent). */
export async function readLayout(root: string): Promise<Layout> {
  try {
    const cfg = JSON.parse(await readFile(join(root, CONFIG_PATH), 'utf8')) as { layout?: string };
    return LAYOUTS.includes(cfg.layout as Layout) ? (cfg.layout as Layout) : 'fs';
  } catch {
    return 'fs';
  }
}

/**
 * Finds the mail repo that contains `dir` (walking up like git does) and opens it.
 * Throws {@link NotARepoError} when there is none.
 */
export async function openRepo(dir: string): Promise<Repo> {
  let cur = resolve(dir);
  try {
    await stat(cur);
  } catch {
    throw new NotARepoError(cur);
  }
  for (;;) {
    if (await isFile(join(cur, '.mailgit', 'config.json'))) {
      const gitDir = join(cur, '.git');
      try {
        if (!(await stat(gitDir)).isDirectory()) throw new Error('no .git');
      } catch {
        throw new NotARepoError(cur);
      }
      const replica = await gitText(['config', '--get', 'mailgit.replica'], { cwd: cur }).catch(() => '');
      return { root: cur, gitDir, layout: await readLayout(cur), replica: replica || 'replica' };
    }
    const up = dirname(cur);
    if (up === cur) throw new NotARepoError(resolve(dir));
    cur = up;
  }
}
