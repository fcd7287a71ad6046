/**
 * Creating a mail repo, or adopting an existing Maildir tree as one.
 */
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Layout } from '../maildir/layout.js';
import { folderDir, folderMarker } from '../maildir/layout.js';
import { git } from '../git/run.js';
import { EX, MailgitError, UsageError } from '../util/errors.js';
import { ATTRIBUTES, IGNORE_LINES } from './ignore.js';
import { CONFIG_PATH } from './repo.js';
import type { Repo } from './repo.js';
import { walkWorktree } from './walk.js';
import { record } from './record.js';
import type { RecordOptions, RecordResult } from './record.js';
import { LOCK_WAIT_MS, withRepoLock } from './lock.js';
import { writeFileAtomic } from '../util/atomic.js';
import { MAIL_DIR_MODE, MAIL_FILE_MODE, mailExposure, useTreeUmask } from './perms.js';
import { checkWritable, finishInit, planInit, recoverInit, stageGitDir, undoInit } from './initPlan.js';
import type { InitPlan } from './initPlan.js';
import { markWorktree, newReplicaId } from './identity.js';
import { installGitGuards } from './gitGuards.js';

/** Options for {@link initRepo}. */
export interface InitOptions {
  /** Replica name (default: the host name). */
  name?: string;
  /** Layout; detected from an existing tree when omitted. */
  layout?: Layout;
  /** Told of the messages an adopt reads into git. */
  progress?: RecordOptions['progress'];
}

/** The default replica name of this machine. */
export function defaultReplicaName(): string {
  return (
    hostname()
      .split('.')[0]!
      .replace(/[^A-Za-z0-9._-]/g, '-') || 'replica'
  );
}

/** Checks that a replica name is a safe single token. */
export function checkReplicaName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new UsageError(`invalid replica name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-'`);
  }
  return name;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/**
 * Writes the git settings every mail repo has (byte-exact files, durable writes) into a
 * repo that `git init` has just created. They are appended to `.git/config` in one
 * atomic write instead of one `git config` process per key: seven processes were
 * ~0.15 s of an adopt (see docs/design.md). Later sections override earlier ones, as with
 * `git config`; every value is a fixed word, a checked replica name or the new replica
 * id, which is returned. Then the guards against plain git and a peer's attributes
 * (gitGuards.ts), before anything is checked out, and the work-tree marker (`identity.ts`).
 */
export async function configureGit(root: string, replica: string): Promise<string> {
  checkReplicaName(replica);
  const id = newReplicaId();
  const settings: Record<string, [string, string][]> = {
    core: [
      ['autocrlf', 'false'],
      ['safecrlf', 'false'],
      ['fsync', 'committed'],
      ['quotePath', 'false'],
    ],
    // A push to a checked-out replica must never move its branch under its Maildir, over
    // any transport: it lands in refs/mailgit/incoming/* instead (see docs/design.md).
    receive: [['denyCurrentBranch', 'refuse']],
    gc: [['auto', '0']],
    mailgit: [
      ['replica', replica],
      ['id', id],
    ],
  };
  const path = join(root, '.git', 'config');
  const text = Object.entries(settings)
    .map(([section, kv]) => `[${section}]\n${kv.map(([k, v]) => `\t${k} = ${v}\n`).join('')}`)
    .join('');
  const old = await readFile(path, 'utf8');
  await writeFileAtomic(path, (old === '' || old.endsWith('\n') ? old : `${old}\n`) + text, { mode: (await stat(path)).mode & 0o777 });
  await installGitGuards({ gitDir: join(root, '.git') });
  await markWorktree(root);
  return id;
}

/** Makes sure every folder has `cur/ new/ tmp/`, so that mail clients can open it at once; returns the folders. */
export async function ensureMaildirs(root: string): Promise<string[]> {
  const walk = await walkWorktree(root);
  for (const f of walk.folders) {
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(root, f, sub), { recursive: true, mode: MAIL_DIR_MODE });
  }
  return [...walk.folders];
}

/**
 * Makes a plain `git clone` of a hub a replica, at the first mailgit command in it (its
 * `.git/config` has no `mailgit.id`; a repo made before ids existed gets the same): the
 * work-tree marker and guards first, then the `cur/ new/ tmp/` of every folder, which git
 * cannot check out (it keeps no empty directory), then git configured as `mailgit clone`
 * configures it, named `replica` or else after this host. The id comes last, so a run
 * killed midway does it all again. Only directories are made, nothing is written into a
 * folder, so a mail client at work meanwhile loses nothing. Returns the name and the id.
 */
export async function adoptPlainClone(root: string, replica: string | undefined): Promise<{ replica: string; id: string }> {
  await markWorktree(root);
  await installGitGuards({ gitDir: join(root, '.git') });
  await ensureMaildirs(root);
  let name = replica ?? defaultReplicaName();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) name = 'replica';
  return { replica: name, id: await configureGit(root, name) };
}

/** What {@link initRepo} made. */
export interface InitResult {
  repo: Repo;
  result: RecordResult | null;
  adopted: boolean;
  /** True when the layout was detected in an adopted tree, not given. */
  detected: boolean;
  /** One line when other users can read the adopted mail (its permissions are kept). */
  warning: string | null;
}

/**
 * Creates an empty mail repo in `dir` (INBOX ready), or adopts the Maildir tree that is
 * already there, committing every message as it is. Refuses a git repo of something
 * else and a non-empty directory that holds no Maildir. It checks that it can write all
 * it must before it writes anything, and a failure after that leaves the tree as it was
 * (src/repo/initPlan.ts).
 */
export async function initRepo(dir: string, opts: InitOptions = {}): Promise<InitResult> {
  const root = resolve(dir);
  const replica = checkReplicaName(opts.name ?? defaultReplicaName());
  await recoverInit(root);
  if (await exists(join(root, CONFIG_PATH))) {
    throw new MailgitError(`${root} is already a mail repo`, 'EEXIST', EX.CANTCREAT);
  }
  if (await exists(join(root, '.git'))) {
    throw new MailgitError(`${root} is a git repository of something else; refusing to turn it into a mail repo`, 'EFOREIGNREPO', EX.CANTCREAT);
  }
  const plan = await planInit(root, opts.layout);
  await checkWritable(plan);
  try {
    return await createRepo(plan, replica, opts.progress);
  } catch (e) {
    await undoInit(plan);
    throw e;
  }
}

/** The writing half of {@link initRepo}: a new repo is private (0700); an adopted root keeps its mode. */
async function createRepo(plan: InitPlan, replica: string, progress: InitOptions['progress']): Promise<InitResult> {
  const { root, layout, adopted } = plan;
  await mkdir(root, { recursive: true, mode: 0o700 });
  if (!adopted) await chmod(root, 0o700);
  await useTreeUmask(root);
  let id = '';
  await stageGitDir(plan, async (dir) => {
    await git(['init', '-q', '-b', 'main', dir], { cwd: root });
    id = await configureGit(dir, replica);
  });
  await writeFileAtomic(join(root, '.gitignore'), `${IGNORE_LINES.join('\n')}\n`, { mode: 0o600 });
  await writeFileAtomic(join(root, '.gitattributes'), ATTRIBUTES, { mode: 0o600 });
  await mkdir(join(root, '.mailgit'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(root, CONFIG_PATH), `${JSON.stringify({ version: 1, layout }, null, 2)}\n`, { mode: 0o600 });
  if (!adopted) {
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(root, folderDir(layout, 'INBOX'), sub), { recursive: true, mode: MAIL_DIR_MODE });
  }
  await ensureMaildirs(root);
  const inboxMarker = folderMarker(folderDir(layout, 'INBOX'));
  if (inboxMarker !== null && !adopted) await writeFile(join(root, inboxMarker), '', { mode: MAIL_FILE_MODE });
  // The repo as openRepo would find it, without a `git config --get` process.
  const repo: Repo = { root, gitDir: join(root, '.git'), layout, replica, id };
  const result = await withRepoLock(repo, { what: 'init', waitMs: LOCK_WAIT_MS.none }, (locked) =>
    record(locked, { message: adopted ? 'adopt existing Maildir' : 'init', progress }),
  );
  await finishInit(root);
  const warning = adopted ? await mailExposure(root, plan.folders) : null;
  return { repo, result, adopted, detected: plan.detected, warning };
}
