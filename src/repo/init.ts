/**
 * Creating a mail repo, or adopting an existing Maildir tree as one.
 */
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Layout } from '../maildir/layout.js';
import { folderDir, isFolderDir } from '../maildir/layout.js';
import { git } from '../git/run.js';
import { EX, MailgitError, UsageError } from '../util/errors.js';
import { ATTRIBUTES, IGNORE_LINES } from './ignore.js';
import { CONFIG_PATH } from './repo.js';
import type { Repo } from './repo.js';
import { walkWorktree } from './walk.js';
import { record } from './record.js';
import type { RecordResult } from './record.js';
import { withRepoLock } from './lock.js';
import { writeFileAtomic } from '../util/atomic.js';
import { installGitGuards } from './gitGuards.js';

/** Options for {@link initRepo}. */
export interface InitOptions {
  /** Replica name (default: the host name). */
  name?: string;
  /** Layout; detected from an existing tree when omitted. */
  layout?: Layout;
}

/** The default replica name of this machine. */
export function defaultReplicaName(): string {
  return hostname().split('.')[0]!.replace(/[^A-Za-z0-9._-]/g, '-') || 'replica';
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

/** Detects the layout of an existing Maildir tree, or `null` when it holds no Maildir. */
export async function detectLayout(dir: string): Promise<Layout | null> {
  const walk = await walkWorktreeReadOnly(dir);
  if (walk.size === 0) return null;
  if (walk.has('')) return 'maildir++';
  const dotted = [...walk].every((f) => !f.includes('/') && f.startsWith('.'));
  return dotted ? 'maildir++' : 'fs';
}

async function walkWorktreeReadOnly(dir: string): Promise<Set<string>> {
  const folders = new Set<string>();
  const visit = async (rel: string): Promise<void> => {
    const entries = await readdir(join(dir, rel), { withFileTypes: true });
    const folder = isFolderDir(entries);
    if (folder) folders.add(rel);
    for (const e of entries) {
      if (!e.isDirectory() || ['tmp', '.git', '.notmuch'].includes(e.name) || (folder && (e.name === 'cur' || e.name === 'new'))) continue;
      await visit(rel === '' ? e.name : `${rel}/${e.name}`);
    }
  };
  await visit('');
  return folders;
}

/**
 * Writes the git settings every mail repo has (byte-exact files, durable writes) into a
 * repo that `git init` has just created. They are appended to `.git/config` in one
 * atomic write instead of one `git config` process per key: seven processes were
 * ~0.15 s of an adopt (see docs/design.md). Later sections override earlier ones, as with
 * `git config`; every value is a fixed word or a checked replica name. Then the guards
 * against plain git and a peer's attributes (gitGuards.ts), before anything is checked out.
 */
export async function configureGit(root: string, replica: string): Promise<void> {
  checkReplicaName(replica);
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
    mailgit: [['replica', replica]],
  };
  const path = join(root, '.git', 'config');
  const text = Object.entries(settings)
    .map(([section, kv]) => `[${section}]\n${kv.map(([k, v]) => `\t${k} = ${v}\n`).join('')}`)
    .join('');
  const old = await readFile(path, 'utf8');
  await writeFileAtomic(path, (old === '' || old.endsWith('\n') ? old : old + '\n') + text, (await stat(path)).mode & 0o777);
  await installGitGuards(join(root, '.git'));
}

/** Makes sure every folder has `cur/ new/ tmp/`, so that mail clients can open it at once. */
export async function ensureMaildirs(root: string): Promise<void> {
  const walk = await walkWorktree(root);
  for (const f of walk.folders) {
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(root, f, sub), { recursive: true, mode: 0o700 });
  }
}

/**
 * Creates an empty mail repo in `dir` (INBOX ready), or adopts the Maildir tree that is
 * already there, committing every message as it is. Refuses a git repo of something
 * else and a non-empty directory that holds no Maildir.
 */
export async function initRepo(dir: string, opts: InitOptions = {}): Promise<{ repo: Repo; result: RecordResult | null; adopted: boolean }> {
  const root = resolve(dir);
  const replica = checkReplicaName(opts.name ?? defaultReplicaName());
  if (await exists(join(root, CONFIG_PATH))) {
    throw new MailgitError(`${root} is already a mail repo`, 'EEXIST', EX.CANTCREAT);
  }
  if (await exists(join(root, '.git'))) {
    throw new MailgitError(`${root} is a git repository of something else; refusing to turn it into a mail repo`, 'EFOREIGNREPO', EX.CANTCREAT);
  }
  await mkdir(root, { recursive: true, mode: 0o700 });
  if (!(await stat(root)).isDirectory()) throw new UsageError(`${root} is not a directory`);
  const entries = await readdir(root);
  let layout: Layout = opts.layout ?? 'fs';
  let adopted = false;
  if (entries.length > 0) {
    const found = await detectLayout(root);
    if (found === null) {
      throw new MailgitError(`${root} is not empty and holds no Maildir (no folder with cur/ or new/); refusing`, 'ENOMAILDIR', EX.DATAERR);
    }
    if (opts.layout && opts.layout !== found) {
      throw new UsageError(`${root} looks like a ${found} Maildir tree, not ${opts.layout}`);
    }
    layout = found;
    adopted = true;
  }
  await chmod(root, 0o700);
  await git(['init', '-q', '-b', 'main'], { cwd: root });
  await configureGit(root, replica);
  await writeFileAtomic(join(root, '.gitignore'), IGNORE_LINES.join('\n') + '\n', 0o600);
  await writeFileAtomic(join(root, '.gitattributes'), ATTRIBUTES, 0o600);
  await mkdir(join(root, '.mailgit'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(root, CONFIG_PATH), JSON.stringify({ version: 1, layout }, null, 2) + '\n', 0o600);
  if (!adopted) {
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(root, folderDir(layout, 'INBOX'), sub), { recursive: true, mode: 0o700 });
  }
  await ensureMaildirs(root);
  if (layout === 'fs' && !adopted) await writeFile(join(root, 'INBOX', 'maildirfolder'), '', { mode: 0o600 });
  // The repo as openRepo would find it, without a `git config --get` process.
  const repo: Repo = { root, gitDir: join(root, '.git'), layout, replica };
  const result = await withRepoLock(repo, 'init', () => record(repo, { message: adopted ? 'adopt existing Maildir' : 'init' }));
  return { repo, result, adopted };
}
