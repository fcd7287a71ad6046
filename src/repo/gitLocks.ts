/**
 * Git lock files left behind by a killed git (`index.lock`, `HEAD.lock`, `config.lock`,
 * `packed-refs.lock`, `shallow.lock`, `refs/…/X.lock`, `objects/info/commit-graph.lock`,
 * …). git never removes a lock it did not create: every later git that needs it fails with
 * "remove the file manually to continue". A SIGKILLed mailgit (or a git child it killed on
 * a timeout, or a user's own killed git) would so wedge the replica until a person acted.
 *
 * How a leftover is told from a lock that a live git holds (the rule that decides whether
 * mailgit may delete a file that is not its own):
 *   1. Only while holding the repo lock: no other mailgit is running git in this repo.
 *   2. The lock is at least {@link MIN_AGE_MS} old (a younger one is waited for). A git
 *      holds a lock for milliseconds unless it waits for a person (an editor), and such a
 *      git has its working directory in the repository (rule 3).
 *   3. No process but this one can be using the repository. On Linux (`/proc`): no git
 *      (`git`, `git-receive-pack`, …) has its working directory in the work tree or `.git`
 *      (git enters its repository before it locks anything; so does the receive-pack of a
 *      peer's push), no process at all has a file open under `.git` (a libgit2 tool keeps
 *      its lock open), and no git runs whose directory cannot be read. A shell or a mail
 *      client that merely sits in the Maildir does not count.
 *      Without `/proc`: no process named `git…` other than this one's children runs at all.
 *      While a possible holder lives, mailgit waits up to {@link WAIT_MS}, then leaves the
 *      lock alone; a git command that then meets it fails with a clear "try again" (75).
 *   4. Just before removing it, the lock is still the same file (inode, mtime) as when the
 *      check began. A git that starts after the check cannot be its holder: it would have
 *      found the lock there and failed to take it.
 * Who left the lock does not matter: with no one able to hold it, removing it loses
 * nothing (a lock holds only a git's unfinished new version of its file).
 *
 * The same rules clear what a killed `fast-import` leaves in `objects/pack/` (a SIGKILLed
 * `watch` leaves its long-lived importer's): the `.keep` files it writes for each pack
 * until it ends (they would keep those packs out of every later repack) and its
 * unfinished `tmp_pack_*`. Only leftovers older than this process count, so that the
 * importer of a running `watch` (its own child) never loses its keeps.
 */
import { readFile, readdir, readlink, stat, unlink } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { join, relative, sep } from 'node:path';
import type { Repo } from './repo.js';

/** A lock younger than this may belong to a git that is about to finish. */
export const MIN_AGE_MS = 2_000;
/** How long to wait for processes using the repository before leaving the locks alone. */
export const WAIT_MS = 5_000;

interface Found {
  path: string;
  ino: number;
  mtimeMs: number;
}

async function locksIn(dir: string, recurse: boolean, out: Found[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory() && recurse) await locksIn(p, true, out);
    else if (e.isFile() && e.name.endsWith('.lock')) {
      const st = await stat(p).catch(() => null);
      if (st) out.push({ path: p, ino: st.ino, mtimeMs: st.mtimeMs });
    }
  }
}

/** When this process started: a pack leftover younger than that may be a child's, still at work. */
const STARTED_MS = Date.now() - process.uptime() * 1000;
/** The `.keep` a git writes while it adds a pack and removes when done (a user's own keeps say something else). */
const TRANSIENT_KEEP = /^(fast-import|receive-pack |fetch-pack )/;

/**
 * A killed importer's pack leftovers: the `.keep` files fast-import (or a receive-pack or
 * fetch-pack) removes when it ends, which would keep their packs out of every repack
 * for good, and its unfinished `tmp_pack_*` / `tmp_idx_*` files.
 */
async function packLeftovers(packDir: string, out: Found[]): Promise<void> {
  for (const name of await readdir(packDir).catch(() => [] as string[])) {
    const keep = name.endsWith('.keep');
    if (!keep && !/^tmp_(pack|idx|rev)_/.test(name)) continue;
    const p = join(packDir, name);
    const st = await stat(p).catch(() => null);
    if (!st?.isFile() || st.mtimeMs >= STARTED_MS) continue;
    if (keep && !TRANSIENT_KEEP.test(await readFile(p, 'utf8').catch(() => ''))) continue;
    out.push({ path: p, ino: st.ino, mtimeMs: st.mtimeMs });
  }
}

/**
 * Every git lock file of the repository (mailgit's own locks live in `.git/mailgit/` and
 * are not git's), and the pack leftovers of a killed importer made before this process
 * started.
 */
export async function findLeftovers({ gitDir }: Pick<Repo, 'gitDir'>): Promise<Found[]> {
  const out: Found[] = [];
  await locksIn(gitDir, false, out);
  await locksIn(join(gitDir, 'refs'), true, out);
  await locksIn(join(gitDir, 'objects', 'info'), true, out);
  await locksIn(join(gitDir, 'objects', 'pack'), false, out);
  await packLeftovers(join(gitDir, 'objects', 'pack'), out);
  return out;
}

function inside(path: string, dirs: string[]): boolean {
  return dirs.some((d) => path === d || path.startsWith(d + sep));
}

async function procUsers(repo: Pick<Repo, 'root' | 'gitDir'>): Promise<number[] | null> {
  const pids = await readdir('/proc').catch(() => null);
  if (pids === null || !(await stat('/proc/self/cwd').catch(() => null))) return null;
  const users: number[] = [];
  for (const name of pids) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (await usesRepo(pid, repo)) users.push(pid);
  }
  return users;
}

async function usesRepo(pid: number, repo: Pick<Repo, 'root' | 'gitDir'>): Promise<boolean> {
  const isGit = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).startsWith('git');
  const cwd = await readlink(`/proc/${pid}/cwd`).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : null));
  if (cwd === '') return false; // gone meanwhile
  if (cwd === null) return isGit; // another user's: cannot look inside
  if (isGit && inside(cwd, [repo.root, repo.gitDir])) return true;
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) if (inside(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''), [repo.gitDir])) return true;
  return false;
}

/** Without /proc: the pids of every process named git… that is not a child of this one. */
function gitProcesses(): Promise<number[]> {
  return new Promise((done) => {
    execFile('ps', ['-A', '-o', 'pid=,ppid=,comm='], (err, stdout) => {
      if (err) return done([-1]); // cannot tell: assume someone
      const out: number[] = [];
      for (const line of stdout.split('\n')) {
        const [pid, ppid, ...comm] = line.trim().split(/\s+/);
        if (/(^|\/)git/.test(comm.join(' ')) && Number(ppid) !== process.pid) out.push(Number(pid));
      }
      done(out);
    });
  });
}

/** Processes other than this one (and its children) that may hold a lock in the repository. */
export async function repoUsers(repo: Pick<Repo, 'root' | 'gitDir'>): Promise<number[]> {
  const viaProc = await procUsers(repo);
  if (viaProc === null) return gitProcesses();
  const children = new Set<number>();
  for (const pid of viaProc) {
    const st = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === process.pid) children.add(pid);
  }
  return viaProc.filter((p) => !children.has(p));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Leftovers found held by a live process earlier in this process: not waited for again. */
const seenHeld = new Set<string>();
const idOf = (l: Found) => `${l.path}\0${l.ino}\0${l.mtimeMs}`;

/**
 * Removes the git lock files (and killed importers' pack leftovers) that no live process
 * can hold (rules in this module's comment); returns their paths relative to `.git`. The
 * caller holds the repo lock (for a remote, src/sync/remoteLocks.ts holds the peer's).
 * Costs a few directory reads when there is no leftover (the usual case). A lock found
 * held once is not waited for again by the same process (a long-running `watch` would
 * otherwise wait at every record while a user's `git commit` sits in its editor).
 */
export async function clearGitLeftovers(repo: Pick<Repo, 'root' | 'gitDir'>, opts: { waitMs?: number; minAgeMs?: number } = {}): Promise<string[]> {
  const locks = await findLeftovers(repo);
  if (locks.length === 0) return [];
  const fresh = locks.filter((l) => !seenHeld.has(idOf(l)));
  const minAge = opts.minAgeMs ?? MIN_AGE_MS;
  const ageWait = Math.min(minAge, Math.max(0, ...fresh.map((l) => l.mtimeMs)) + minAge - Date.now());
  if (ageWait > 0) await sleep(ageWait);
  const until = fresh.length === 0 ? 0 : Date.now() + (opts.waitMs ?? WAIT_MS);
  while ((await repoUsers(repo)).length > 0) {
    if (Date.now() >= until) {
      for (const l of locks) seenHeld.add(idOf(l));
      return [];
    }
    await sleep(100);
  }
  const removed: string[] = [];
  for (const l of locks) {
    const st = await stat(l.path).catch(() => null);
    if (!st || st.ino !== l.ino || st.mtimeMs !== l.mtimeMs) continue; // finished or replaced meanwhile
    await unlink(l.path).catch(() => undefined);
    removed.push(relative(repo.gitDir, l.path));
  }
  return removed;
}
