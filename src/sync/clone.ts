/**
 * Cloning a replica: git fetches, mailgit checks every path before anything is
 * written to the work tree, then checks out and prepares every folder for mail clients.
 */
import { chmod, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { git, GitError } from '../git/run.js';
import { lsTreeRecursive } from '../git/tree.js';
import { resolveCommit } from '../git/commit.js';
import { checkReplicaName, configureGit, defaultReplicaName, ensureMaildirs } from '../repo/init.js';
import { CONFIG_PATH, openRepo } from '../repo/repo.js';
import type { Repo } from '../repo/repo.js';
import { EX, MailgitError } from '../util/errors.js';
import { validateIncoming } from './validate.js';
import { gitCommitStore } from '../store/gitCommitStore.js';
import { transportError } from './transport.js';
import { useTreeUmask } from '../repo/perms.js';
import { markGitIndex } from '../repo/gitIndex.js';
import { noteSynced } from './remoteAdmin.js';
import { fsClock, noteCheckout } from '../repo/dirstate.js';

/**
 * Clones `src` (any git URL or path) into `dir` as a new replica. On any failure the
 * half-made directory is removed: nothing is left behind but what was there before.
 */
export async function cloneRepo(src: string, dir: string, opts: { name?: string; onGitProgress?: (text: string) => void } = {}): Promise<Repo> {
  const replica = checkReplicaName(opts.name ?? defaultReplicaName());
  let existed = false;
  try {
    existed = (await stat(dir)).isDirectory();
    if (existed && (await readdir(dir)).length > 0) {
      throw new MailgitError(`destination ${dir} exists and is not empty`, 'EEXIST', EX.CANTCREAT);
    }
  } catch (e) {
    if (e instanceof MailgitError) throw e;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  await useTreeUmask(dir);
  try {
    await git(['init', '-q', '-b', 'main'], { cwd: dir });
    await configureGit(dir, replica);
    await git(['remote', 'add', 'origin', src], { cwd: dir });
    try {
      const quiet = opts.onGitProgress ? '--progress' : '-q';
      await git(['fetch', quiet, '--no-tags', 'origin', '+refs/heads/main:refs/remotes/origin/main'], { cwd: dir, onStderr: opts.onGitProgress });
    } catch (e) {
      if (e instanceof GitError && /couldn't find remote ref/.test(e.stderr)) {
        throw new MailgitError(`${src} is not a mail repo (it has no main branch); nothing was cloned`, 'ENOTREPO', EX.DATAERR);
      }
      throw transportError(e, 'origin');
    }
    const head = await resolveCommit(dir, 'refs/remotes/origin/main');
    if (!head) throw new MailgitError(`${src} has no mail history (no main branch)`, 'ENOTREPO', EX.NOINPUT);
    const entries = await lsTreeRecursive(dir, head);
    if (!entries.some((e) => e.path === CONFIG_PATH)) {
      throw new MailgitError(`${src} is a git repo but not a mail repo (no ${CONFIG_PATH}); nothing was cloned`, 'ENOTREPO', EX.DATAERR);
    }
    await validateIncoming(gitCommitStore(dir), entries, `clone of ${src}`);
    await git(['update-ref', 'refs/heads/main', head], { cwd: dir });
    const started = await fsClock({ gitDir: join(dir, '.git') });
    await git(['-c', 'core.splitIndex=true', 'checkout', opts.onGitProgress ? '--progress' : '-q', '-f', 'main'], { cwd: dir, onStderr: opts.onGitProgress });
    await markGitIndex({ gitDir: join(dir, '.git') }, head);
    await git(['branch', '-q', '--set-upstream-to=origin/main', 'main'], { cwd: dir });
    const folders = await ensureMaildirs(dir);
    const repo = await openRepo(dir);
    await noteCheckout(repo, { head, folders, started });
    await noteSynced(repo, ['origin']);
    return repo;
  } catch (e) {
    if (existed) {
      for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
    } else {
      await rm(dir, { recursive: true, force: true });
    }
    throw e;
  }
}
