/**
 * Running the git CLI. Every call goes through {@link git}: no shell, a fixed safe
 * environment (no user hooks from the remote, no prompts), stdin as a buffer.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { IoError, MailgitError, EX } from '../util/errors.js';

/** Where a repository lives: its work tree root and its `.git` directory ({@link Repo} in src/repo/repo.ts has both). */
export interface RepoPaths {
  /** Absolute path of the work tree root. */
  root: string;
  /** Absolute path of the `.git` directory. */
  gitDir: string;
}

/** Options for one git invocation. */
export interface GitOptions {
  /** Working directory (`git -C`). */
  cwd: string;
  /** Bytes to write to stdin. */
  input?: string | Buffer;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Exit codes other than 0 that are not errors (e.g. 1 for `diff --quiet`). */
  okCodes?: number[];
  /**
   * Give up after this many ms: git is killed and its pipes are closed (so that a stalled
   * ssh it started cannot keep mailgit from exiting), and the promise rejects with `error()`.
   */
  timeout?: { ms: number; error: () => Error };
  /** Told of stderr as it arrives (git's `--progress` lines), besides keeping it. */
  onStderr?: (text: string) => void;
}

/** What git printed. */
export interface GitResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

/**
 * A git command that failed; `stderr` is kept for callers that classify failures. One that
 * failed because a lock file of this repository is held is a temporary failure (75) that
 * names the lock (the next run clears it once no git holds it: src/repo/gitLocks.ts).
 */
export class GitError extends MailgitError {
  /** Creates the error for a failed `git args…`. */
  constructor(
    readonly args: string[],
    readonly stderr: string,
    readonly status: number,
  ) {
    const lock = heldLock(stderr);
    super(
      lock
        ? `git ${args[0]}: ${lock} is held by another git command in this repository; try again when it has finished`
        : `git ${args[0]} failed: ${firstLine(stderr) || `exit ${status}`}`,
      lock ? 'EGITLOCK' : 'EGIT',
      lock ? EX.TEMPFAIL : EX.SOFTWARE,
    );
  }
}

/**
 * The lock file a local git found taken ("Unable to create 'X.lock': File exists"), or
 * null. A remote's lock (a line of `remote: …`) is not ours and is left to the caller.
 */
export function heldLock(stderr: string): string | null {
  return /^(?:error|fatal): (?:.*: )?Unable to create '([^'\n]+\.lock)': File exists/m.exec(stderr)?.[1] ?? null;
}

function firstLine(s: string): string {
  return (
    s
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-1)[0] ?? ''
  );
}

/**
 * The environment every git child runs with: no prompts, no pager, no system surprises,
 * and no hooks (`core.hooksPath=/dev/null`, added to any `GIT_CONFIG_COUNT` settings):
 * the hooks mailgit installs guard the repo against plain git (src/repo/gitGuards.ts)
 * and must neither block nor slow mailgit itself.
 */
function gitEnv(extra?: Record<string, string>): NodeJS.ProcessEnv {
  const n = Number(process.env.GIT_CONFIG_COUNT);
  const i = Number.isSafeInteger(n) && n > 0 ? n : 0;
  return {
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_PAGER: 'cat',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_COUNT: String(i + 1),
    [`GIT_CONFIG_KEY_${i}`]: 'core.hooksPath',
    [`GIT_CONFIG_VALUE_${i}`]: '/dev/null',
    ...extra,
  };
}

/**
 * Starts `git ARGS` in `cwd`: no shell, {@link gitEnv} (with `env` added), all three streams
 * piped. The one place a git child is made, for one-shot runs ({@link git}) and the
 * long-lived batch processes alike. A write to a git that has already exited is not thrown:
 * its exit status and stderr say why, to whoever listens for `close`.
 */
export function spawnGit(cwd: string, args: string[], env?: Record<string, string>): ChildProcessWithoutNullStreams {
  const child = spawn('git', args, { cwd, env: gitEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => undefined);
  return child;
}

/** Runs `git ARGS` and resolves with its output, or rejects with a {@link GitError}. */
export function git(args: string[], opts: GitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawnGit(opts.cwd, args, opts.env);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      err.push(d);
      opts.onStderr?.(d.toString('utf8'));
    });
    child.on('error', (e) => reject(new IoError(`cannot run git: ${e.message}`)));
    let timedOut = false;
    const timer = opts.timeout
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
          // A grandchild (ssh) may hold our pipes open: close our ends so nothing waits on it.
          child.stdout.destroy();
          child.stderr.destroy();
          child.stdin.destroy();
          reject(opts.timeout!.error());
        }, opts.timeout.ms)
      : undefined;
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) return;
      const stderr = Buffer.concat(err).toString('utf8');
      const status = code ?? 128;
      if (status === 0 || opts.okCodes?.includes(status)) {
        resolve({ stdout: Buffer.concat(out), stderr, code: status });
      } else if (/No space left on device/i.test(stderr)) {
        reject(new IoError(`disk full: git ${args[0]}: ${firstLine(stderr)}`, 'ENOSPC'));
      } else {
        reject(new GitError(args, stderr, status));
      }
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Runs `git ARGS` and yields its NUL-terminated output records as they arrive, in
 * batches (one per chunk read), so that a listing of 100,000 paths is never held whole:
 * git waits while the caller works on a batch. Throws a {@link GitError} when git fails;
 * a caller that stops early ends git.
 */
export async function* gitRecords(args: string[], opts: Pick<GitOptions, 'cwd' | 'env'>): AsyncGenerator<string[]> {
  const child = spawnGit(opts.cwd, args, opts.env);
  child.stdin.end();
  const err: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => err.push(d));
  const closed = new Promise<number>((resolve, reject) => {
    child.on('error', (e) => reject(new IoError(`cannot run git: ${e.message}`)));
    child.on('close', (code) => resolve(code ?? 128));
  });
  let rest: Buffer = Buffer.alloc(0);
  let done = false;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      const buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
      const end = buf.lastIndexOf(0);
      if (end < 0) {
        rest = buf;
        continue;
      }
      rest = Buffer.from(buf.subarray(end + 1));
      yield buf.subarray(0, end).toString('utf8').split('\0');
    }
    const status = await closed;
    done = true;
    if (status !== 0) throw new GitError(args, Buffer.concat(err).toString('utf8'), status);
  } finally {
    if (!done) {
      child.kill();
      await closed.catch(() => undefined);
    }
  }
}

/** Runs git and returns stdout as a trimmed string. */
export async function gitText(args: string[], opts: GitOptions): Promise<string> {
  return (await git(args, opts)).stdout.toString('utf8').trim();
}

/** Splits NUL-terminated output into records (dropping the empty tail). */
export function splitZ(buf: Buffer): string[] {
  const s = buf.toString('utf8');
  const parts = s.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}
