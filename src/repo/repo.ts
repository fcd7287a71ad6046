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
import { writeFileAtomic } from '../util/atomic.js';
import { useTreeUmask } from './perms.js';

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
 * Reads `mailgit.replica` from git's config. A git process costs ~20 ms on the machines
 * measured, a tenth of the budget for recording one flag change, so the answer is kept
 * in `.git/mailgit/replica.json` with the (mtime, size, inode) of `.git/config` and
 * reused while that file is unchanged.
 */
async function readReplicaName(root: string, gitDir: string): Promise<string> {
  const cachePath = join(gitDir, 'mailgit', 'replica.json');
  let stamp = '';
  try {
    const st = await stat(join(gitDir, 'config'), { bigint: true });
    stamp = `${st.mtimeNs}/${st.size}/${st.ino}`;
    const cached = JSON.parse(await readFile(cachePath, 'utf8')) as { stamp?: string; replica?: string };
    if (cached.stamp === stamp && typeof cached.replica === 'string') return cached.replica;
  } catch {
    // no cache yet, or no config: ask git
  }
  const replica = (await gitText(['config', '--get', 'mailgit.replica'], { cwd: root }).catch(() => '')) || 'replica';
  if (stamp !== '') await writeFileAtomic(cachePath, JSON.stringify({ stamp, replica }), 0o600).catch(() => undefined);
  return replica;
}

/**
 * Finds the mail repo that contains `dir` (walking up like git does) and opens it; the
 * process umask follows the repo root's mode from then on (src/repo/perms.ts).
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
      await useTreeUmask(cur);
      return { root: cur, gitDir, layout: await readLayout(cur), replica: await readReplicaName(cur, gitDir) };
    }
    const up = dirname(cur);
    if (up === cur) throw new NotARepoError(resolve(dir));
    cur = up;
  }
}
