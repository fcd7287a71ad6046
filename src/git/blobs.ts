/**
 * Writing the blobs of new files into the object store, one git process per batch.
 *
 * A few files go through `hash-object -w --stdin-paths` (loose objects, one batched
 * fsync). Many files — an adopted Maildir, a big delivery — go through
 * `git fast-import`, which writes one pack instead of a loose file per message: at
 * 100k messages that is one fsync instead of 100k, and a compressed pack instead of
 * 100k files in `.git/objects`. Files are read by mailgit itself, so an unreadable file
 * is named in the error and nothing is recorded. Thousands of files (an adopt) are split
 * between one fast-import per core, each writing its own pack; every pack is complete
 * and fsynced when its process exits, before the caller writes trees or moves a ref.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { git, GitError, gitText, spawnGit } from './run.js';
import type { RepoPaths } from './run.js';
import { IoError } from '../util/errors.js';
import type { Progress } from '../fetch/progress.js';

/** At or above this many files, blobs are written with `fast-import` into one pack. */
export const FAST_IMPORT_MIN = 200;

/**
 * The git blob id of `data`, as `git hash-object` computes it, for a repo whose object
 * ids are as long as `like` (40 hex digits: SHA-1; 64: SHA-256). Used to tell whether a
 * file still holds the bytes a commit recorded, without a git process.
 */
export function blobIdOf(data: Buffer, like: string): string {
  return createHash(like.length === 64 ? 'sha256' : 'sha1')
    .update(`blob ${data.length}\0`)
    .update(data)
    .digest('hex');
}

/** Most fast-import processes run at once, and fewest files each one is given. */
const IMPORT_JOBS_MAX = 4;
const IMPORT_JOB_MIN = 2000;
/** The code of an import stopped because a parallel one failed. */
const STOPPED = 'ESTOPPED';

const NEWLINE = Buffer.from('\n');

/**
 * glibc returns freed heap to the kernel when more than 128 KB is free at its top. zlib's
 * deflate state for every object is about that big, so fast-import grew and shrank its
 * heap for every blob: 40,000 brk calls and 190,000 page faults for 10k messages, ~60% of
 * its wall time on the benchmark VM. A 4 MB threshold keeps the pages (other C libraries
 * ignore the variable; a GLIBC_TUNABLES the user set is kept in front).
 */
const GIT_MALLOC_ENV = { GLIBC_TUNABLES: [process.env.GLIBC_TUNABLES, 'glibc.malloc.trim_threshold=4194304'].filter(Boolean).join(':') };

function readError(path: string, e: unknown): IoError {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOSPC') return new IoError(`disk full while reading ${path}`, 'ENOSPC');
  const why = err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : err.code === 'ENOENT' ? 'file vanished' : (err.message ?? String(e));
  return new IoError(`cannot read ${path}: ${why}; nothing recorded`, 'EREAD');
}

function gitFailure(args: string[], stderr: string, code: number): Error {
  if (/No space left on device/i.test(stderr)) return new IoError(`disk full: git ${args[0]}: ${stderr.trim().split('\n').pop()}`, 'ENOSPC');
  return new GitError(args, stderr, code);
}

async function hashLoose(root: string, paths: string[], write = true): Promise<string[]> {
  try {
    const args = ['-c', 'core.fsyncMethod=batch', 'hash-object', ...(write ? ['-w'] : []), '--no-filters', '--stdin-paths'];
    const out = await git(args, { cwd: root, input: `${paths.join('\n')}\n` });
    return out.stdout.toString('utf8').trim().split('\n');
  } catch (e) {
    if (e instanceof GitError) {
      const m = /could not open '([^']*)'[^:]*: (.*)/.exec(e.stderr) ?? /unable to (?:open|read|hash) ([^:\n]*)/.exec(e.stderr);
      throw new IoError(m ? `cannot read ${m[1]}: ${m[2] ?? 'unreadable'}; nothing recorded` : `cannot record: ${e.message}`, 'EREAD');
    }
    throw e;
  }
}

/** Bytes of a write to fast-import's stdin: many small messages go in one write. */
const CHUNK = 256 * 1024;
/** Writes queued (not yet taken by the pipe) before reading waits for git. */
const WINDOW = 4;

/** Reads all of `fd` from offset 0 into `scratch` (grown as needed); returns the length. */
function readAll(fd: number, scratch: { buf: Buffer }): number {
  let n = 0;
  for (;;) {
    if (n === scratch.buf.length) {
      const bigger = Buffer.allocUnsafe(scratch.buf.length * 2);
      scratch.buf.copy(bigger, 0, 0, n);
      scratch.buf = bigger;
    }
    const got = readSync(fd, scratch.buf, n, scratch.buf.length - n, n);
    if (got === 0) return n;
    n += got;
  }
}

/**
 * Opens a file to import: non-blocking, so that a FIFO put in place of a message cannot
 * hang the read, and refusing anything but a regular file. Returns the fd and its size.
 */
function openMessage(path: string): { fd: number; size: number } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EFTYPE' });
    return { fd, size: st.size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** One fast-import's share of {@link writeBlobs}: its files, the flag that stops all jobs, the progress to tell. */
interface ImportJob {
  repo: RepoPaths;
  paths: string[];
  stop: { failed: boolean };
  progress: Progress | undefined;
}

/**
 * Streams files into `git fast-import` as blobs (marks 1..n) and returns their ids in
 * order. Files are read here, synchronously, into chunks of many messages; up to
 * {@link WINDOW} chunks wait in the pipe, so reading (node, one core) and deflating and
 * hashing (git, the other core) overlap. fast-import runs with `--depth=0` (no delta
 * search between unrelated messages) and a glibc heap that is not trimmed after every
 * object (see docs/design.md for both measurements).
 */
async function importBlobs({ repo, paths, stop, progress }: ImportJob): Promise<string[]> {
  const marks = join(repo.gitDir, `mailgit-marks.${process.pid}.${randomBytes(4).toString('hex')}`);
  const args = ['-c', 'core.fsyncMethod=batch', '-c', 'pack.compression=1', 'fast-import', '--quiet', '--done', '--depth=0', `--export-marks=${marks}`];
  const child = spawnGit(repo.root, args, GIT_MALLOC_ENV);
  child.stdout.resume(); // --quiet: nothing comes, but a pipe nobody reads could block it
  const err: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => err.push(d));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', (e) => reject(new IoError(`cannot run git: ${e.message}`)));
    child.on('close', (code) => resolve(code ?? 128));
  });
  let broken = false;
  child.stdin.on('error', () => {
    broken = true;
  });
  // Chunks handed to the pipe whose write has not completed yet, oldest first.
  const pending: Promise<void>[] = [];
  const send = async (b: Buffer): Promise<void> => {
    pending.push(
      new Promise<void>((r) =>
        child.stdin.write(b, (e) => {
          if (e) broken = true;
          r();
        }),
      ),
    );
    if (pending.length >= WINDOW) await pending.shift();
    // Let the event loop move queued bytes into the pipe before the next chunk is read.
    else await new Promise<void>((r) => setImmediate(r));
  };
  try {
    const scratch = { buf: Buffer.allocUnsafe(64 * 1024) };
    let chunk = Buffer.allocUnsafe(CHUNK);
    let used = 0;
    let reported = 0;
    const flush = async (done: number) => {
      progress?.advance(done - reported, 0);
      reported = done;
      if (used === 0) return;
      const full = chunk.subarray(0, used);
      chunk = Buffer.allocUnsafe(CHUNK);
      used = 0;
      await send(full);
    };
    // Synchronous reads on purpose: a message is a few KB in the page cache, and
    // open/fstat/read/close on the main thread cost a fraction of a promise round trip
    // through the thread pool each. A message is read straight into the chunk, after
    // its header, when its size at fstat is what the read returns (a file that changes
    // size meanwhile is read again whole).
    for (let i = 0; i < paths.length && !broken; i++) {
      if (stop.failed) throw new IoError('stopped: another import failed', STOPPED);
      const path = paths[i]!;
      let n = -1;
      let fd = -1;
      try {
        const f = openMessage(join(repo.root, path));
        fd = f.fd;
        const head = `blob\nmark :${i + 1}\ndata ${f.size}\n`;
        const size = head.length + f.size + 1;
        if (size + 1 > CHUNK - used) await flush(i);
        if (size + 1 <= CHUNK - used) {
          const at = used + head.length;
          if (readSync(fd, chunk, at, f.size + 1, 0) === f.size) {
            chunk.write(head, used, 'latin1');
            used = at + f.size;
            chunk[used++] = 0x0a;
            continue;
          }
        }
        n = readAll(fd, scratch);
      } catch (e) {
        throw readError(path, e);
      } finally {
        if (fd >= 0) closeSync(fd);
      }
      // Bigger than a chunk, or changed size while read.
      const head = Buffer.from(`blob\nmark :${i + 1}\ndata ${n}\n`, 'latin1');
      if (head.length + n + 1 > CHUNK - used) await flush(i);
      if (head.length + n + 1 > CHUNK) {
        await send(Buffer.concat([head, scratch.buf.subarray(0, n), NEWLINE]));
        continue;
      }
      used += head.copy(chunk, used);
      used += scratch.buf.copy(chunk, used, 0, n);
      chunk[used++] = 0x0a;
    }
    if (used + 5 > CHUNK) await flush(paths.length);
    chunk.write('done\n', used, 'latin1');
    used += 5;
    await flush(paths.length);
    child.stdin.end();
    await Promise.all(pending);
    const code = await exited;
    if (code !== 0) throw gitFailure(args.slice(2), Buffer.concat(err).toString('utf8'), code);
    const oids = new Array<string>(paths.length);
    for (const line of (await readFile(marks, 'utf8')).split('\n')) {
      const m = /^:(\d+) ([0-9a-f]{40,64})$/.exec(line);
      if (m) oids[Number(m[1]) - 1] = m[2]!;
    }
    for (let i = 0; i < oids.length; i++) if (!oids[i]) throw new IoError(`git fast-import lost ${paths[i]}`, 'EIO');
    return oids;
  } catch (e) {
    stop.failed = true;
    child.kill('SIGTERM');
    await exited.catch(() => undefined);
    throw e;
  } finally {
    await rm(marks, { force: true });
  }
}

/** Writes the empty blob (a folder's marker) and returns its id; with `write: false` only computes it. */
export async function emptyBlob(root: string, opts: { write?: boolean } = {}): Promise<string> {
  return gitText(['hash-object', ...(opts.write === false ? [] : ['-w']), '--stdin'], { cwd: root, input: '' });
}

/**
 * Writes the files at `paths` (relative to `repo.root`) as blobs and returns their ids, in
 * order. Never runs a process per file. With `write: false` the ids are only computed
 * (for `status`, which must work in a read-only repo).
 */
export async function writeBlobs(repo: RepoPaths, paths: string[], opts: { write?: boolean; progress?: Progress } = {}): Promise<string[]> {
  if (paths.length === 0) return [];
  for (const p of paths) {
    if (p.includes('\n')) throw new IoError(`cannot record a file whose name contains a newline: ${JSON.stringify(p)}`, 'EBADNAME');
  }
  if (opts.write === false) return hashLoose(repo.root, paths, false);
  if (paths.length < FAST_IMPORT_MIN) return hashLoose(repo.root, paths);
  // One fast-import per core (up to 4), each writing its own pack from a slice of the
  // files: git's deflate and hash are the bottleneck, node's reading is not.
  const jobs = Math.max(1, Math.min(availableParallelism(), IMPORT_JOBS_MAX, Math.floor(paths.length / IMPORT_JOB_MIN)));
  const stop = { failed: false };
  const per = Math.ceil(paths.length / jobs);
  const parts: Promise<string[]>[] = [];
  opts.progress?.expect(paths.length);
  for (let k = 0; k < jobs; k++) parts.push(importBlobs({ repo, paths: paths.slice(k * per, (k + 1) * per), stop, progress: opts.progress }));
  const done = await Promise.allSettled(parts);
  // The error that stopped the others (the unreadable file), not their "stopped".
  const failed = done.filter((d): d is PromiseRejectedResult => d.status === 'rejected');
  const first = failed.find((d) => (d.reason as { code?: string }).code !== STOPPED) ?? failed[0];
  if (first) throw first.reason;
  return done.flatMap((d) => (d as PromiseFulfilledResult<string[]>).value);
}
