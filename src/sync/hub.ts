/**
 * Making a hub: an empty bare repository whose HEAD is `main`, at a local path or over
 * ssh, readable by its owner only (`core.sharedRepository=0600`). A plain `git clone` of it, once a replica has pushed,
 * checks out `main`: a working Maildir.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { git } from '../git/run.js';
import { EX, MailgitError, PermissionError, UnavailableError, UsageError } from '../util/errors.js';
import { HUB_PACKING, isLocalUrl } from './remotes.js';

/** Where an ssh URL points: `[user@]host`, an optional port and the path as git reads it. */
export interface SshTarget {
  host: string;
  port: string | null;
  path: string;
}

/**
 * Reads an ssh remote URL the way git does: `ssh://[user@]host[:port]/path` (a path
 * starting `/~` is relative to a home directory), or scp-like `[user@]host:path`. Null
 * for any other URL.
 */
export function parseSshUrl(url: string): SshTarget | null {
  const full = /^(?:ssh|git\+ssh|ssh\+git):\/\/([^/:]+|\[[^\]]+\])(?::(\d*))?(\/.*)$/i.exec(url);
  if (full) return { host: full[1]!, port: full[2] || null, path: full[3]!.startsWith('/~') ? full[3]!.slice(1) : full[3]! };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || isLocalUrl(url)) return null;
  const colon = url.indexOf(':');
  return { host: url.slice(0, colon), port: null, path: url.slice(colon + 1) || '.' };
}

/** Quotes a path for a POSIX shell, leaving a leading `~` or `~user` to expand. */
export function shellPath(path: string): string {
  const tilde = /^~[^/]*/.exec(path)?.[0] ?? '';
  const rest = path.slice(tilde.length);
  return `${tilde}${rest === '' ? '' : `'${rest.replace(/'/g, `'\\''`)}'`}`;
}

/** Files of a hub are its owner's only (directories 0700): git keeps this on every push. */
const HUB_MODE = '0600';

function exists(url: string): MailgitError {
  return new MailgitError(`${url} already exists and is not empty; to use it as it is, run mailgit remote add without --create`, 'EEXIST', EX.CANTCREAT);
}

async function createLocalHub(path: string): Promise<void> {
  const dir = resolve(path.replace(/^file:\/\//i, ''));
  try {
    if ((await readdir(dir)).length > 0) throw exists(path);
  } catch (e) {
    if (e instanceof MailgitError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await git(['init', '-q', '--bare', `--shared=${HUB_MODE}`, dir], { cwd: '/' });
  await git(['symbolic-ref', 'HEAD', 'refs/heads/main'], { cwd: dir });
  for (const [key, value] of HUB_PACKING) await git(['config', key, value], { cwd: dir });
}

/** The ssh command git would use: GIT_SSH_COMMAND, else `ssh`. */
function sshCommand(): string {
  return process.env.GIT_SSH_COMMAND || process.env.GIT_SSH || 'ssh';
}

/** Runs `script` on the ssh target through the shell; resolves with its status and stderr. */
function runOverSsh(target: SshTarget, script: string): Promise<{ status: number; stderr: string }> {
  const args = ['-c', `${sshCommand()} "$@"`, 'ssh', ...(target.port ? ['-p', target.port] : []), '--', target.host.replace(/^\[|\]$/g, ''), script];
  return new Promise((done, fail) => {
    const child = spawn('sh', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', (e) => fail(new UnavailableError(`cannot run ssh: ${e.message}`)));
    child.on('close', (code) => done({ status: code ?? 255, stderr }));
  });
}

async function createSshHub(url: string, target: SshTarget): Promise<void> {
  const p = shellPath(target.path);
  // Exit 3: not empty; 4: git missing there. git init then HEAD -> main works with any git.
  const script = [
    'umask 077',
    `if [ -e ${p} ] && [ -n "$(ls -A ${p} 2>/dev/null)" ]; then exit 3; fi`,
    'command -v git >/dev/null 2>&1 || exit 4',
    [
      `mkdir -p ${p}`,
      `git init -q --bare --shared=${HUB_MODE} ${p}`,
      `git --git-dir=${p} symbolic-ref HEAD refs/heads/main`,
      ...HUB_PACKING.map(([key, value]) => `git --git-dir=${p} config ${key} ${value}`),
    ].join(' && '),
  ].join('; ');
  const { status, stderr } = await runOverSsh(target, script);
  if (status === 0) return;
  if (status === 3) throw exists(url);
  if (status === 4) throw new UnavailableError(`${target.host} has no git on its PATH; install git there first`);
  const line = stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit ${status}`;
  if (/Permission denied|Host key verification failed/i.test(stderr)) throw new PermissionError(`ssh to ${target.host}: ${line}`);
  throw new UnavailableError(`could not create ${url}: ${line}`);
}

/**
 * Creates an empty hub at `url`: a local path (or `file://`), or over ssh (the ssh that
 * git would use, GIT_SSH_COMMAND included). Refuses a place that exists and is not empty
 * (exit 73) and any other kind of URL (exit 64).
 */
export async function createHub(url: string): Promise<void> {
  if (isLocalUrl(url)) return createLocalHub(url);
  const target = parseSshUrl(url);
  if (!target)
    throw new UsageError(`--create makes hubs at a local path or over ssh, not at ${url}; create it there, then run mailgit remote add without --create`);
  return createSshHub(url, target);
}
