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
import type { RepoPaths } from '../git/run.js';
import { writeFileAtomic } from '../util/atomic.js';
import { useTreeUmask } from './perms.js';
import { isReplicaId, newReplicaId } from './identity.js';

/** An open mail repo. */
export interface Repo extends RepoPaths {
  /** Folder layout of the tree. */
  layout: Layout;
  /** This machine's replica name (`mailgit.replica` in `.git/config`), for display: two replicas may share one. */
  replica: string;
  /**
   * This replica's identity (`mailgit.id` in `.git/config`): 16 random hex digits made by
   * `init`/`clone` (or on first use by an older repo), shared with no other replica. Peers
   * name the incoming refs of our pushes by it.
   */
  id: string;
}

/** Synced settings in `.mailgit/config.json`. */
export const CONFIG_PATH = '.mailgit/config.json';

/** Per-machine state directory inside `.git`. */
export function stateDir(repo: Pick<RepoPaths, 'gitDir'>): string {
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

/** The replica's name and id. */
interface Identity {
  replica: string;
  id: string;
}

/**
 * Makes a repo without a replica id a replica: a plain `git clone` of a hub at its first
 * mailgit command, or a repo made before ids existed (see `init.ts: adoptPlainClone`;
 * loaded only then). Two commands doing this at once may each write an id; the last one
 * stays, and a push made under the other is still merged by the peer: ids need only be
 * unique, not stable.
 */
async function createIdentity(root: string, replica: string | undefined): Promise<Identity> {
  const { adoptPlainClone } = await import('./init.js');
  return adoptPlainClone(root, replica);
}

/**
 * Reads `mailgit.replica` and `mailgit.id` from git's config (creating the id when
 * missing). A git process costs ~20 ms on the machines measured, a tenth of the budget
 * for recording one flag change, so the answer is kept in `.git/mailgit/replica.json`
 * with the (mtime, size, inode) of `.git/config` and reused while that file is unchanged.
 */
async function readIdentity({ root, gitDir }: RepoPaths): Promise<Identity> {
  const cachePath = join(gitDir, 'mailgit', 'replica.json');
  const configStamp = async () => {
    const st = await stat(join(gitDir, 'config'), { bigint: true });
    return `${st.mtimeNs}/${st.size}/${st.ino}`;
  };
  let stamp = '';
  try {
    stamp = await configStamp();
    const cached = JSON.parse(await readFile(cachePath, 'utf8')) as { stamp?: string; replica?: string; id?: string };
    if (cached.stamp === stamp && typeof cached.replica === 'string' && typeof cached.id === 'string') return { replica: cached.replica, id: cached.id };
  } catch {
    // no cache yet, or no config: ask git
  }
  const out = await gitText(['config', '--get-regexp', '^mailgit\\.(replica|id)$'], { cwd: root }).catch(() => '');
  const values = new Map([...out.matchAll(/^mailgit\.(replica|id) (.*)$/gm)].map((m) => [m[1]!, m[2]!] as const));
  let replica = values.get('replica') || 'replica';
  let id = values.get('id') ?? '';
  if (!isReplicaId(id)) {
    // A repo we cannot write (another user's, a read-only mount) gets an id for this run only.
    ({ replica, id } = await createIdentity(root, values.get('replica') || undefined).catch(() => ({ replica, id: newReplicaId() })));
    stamp = await configStamp().catch(() => '');
  }
  if (stamp !== '') await writeFileAtomic(cachePath, JSON.stringify({ stamp, replica, id }), { mode: 0o600 }).catch(() => undefined);
  return { replica, id };
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
      return { root: cur, gitDir, layout: await readLayout(cur), ...(await readIdentity({ root: cur, gitDir })) };
    }
    const up = dirname(cur);
    if (up === cur) throw new NotARepoError(resolve(dir));
    cur = up;
  }
}
