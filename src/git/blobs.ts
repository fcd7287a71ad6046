/**
 * Writing the blobs of new files into the object store, one git process per batch.
 *
 * A few files go through `hash-object -w --stdin-paths` (loose objects, one batched
 * fsync). Many files — an adopted Maildir, a big delivery — go through
 * `git fast-import`, which writes one pack instead of a loose file per message: at
 * 100k messages that is one fsync instead of 100k, and a compressed pack instead of
 * 100k files in `.git/objects`. Files are read by mailgit itself, so an unreadable file
 * is named in the error and nothing is recorded.
 */
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { git, gitEnv, GitError } from './run.js';
import { IoError } from '../util/errors.js';

/** At or above this many files, blobs are written with `fast-import` into one pack. */
export const FAST_IMPORT_MIN = 200;

/** How many files are read ahead of the one being written. */
const READ_AHEAD = 32;

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
    const out = await git(args, { cwd: root, input: paths.join('\n') + '\n' });
    return out.stdout.toString('utf8').trim().split('\n');
  } catch (e) {
    if (e instanceof GitError) {
      const m = /could not open '([^']*)'[^:]*: (.*)/.exec(e.stderr) ?? /unable to (?:open|read|hash) ([^:\n]*)/.exec(e.stderr);
      throw new IoError(m ? `cannot read ${m[1]}: ${m[2] ?? 'unreadable'}; nothing recorded` : `cannot record: ${e.message}`, 'EREAD');
    }
    throw e;
  }
}

/**
 * Streams files into `git fast-import` as blobs (marks 1..n) and returns their ids in
 * order. Reading is done here, a window ahead, so the disk and git overlap.
 */
async function importBlobs(root: string, gitDir: string, paths: string[]): Promise<string[]> {
  const marks = join(gitDir, `mailgit-marks.${process.pid}.${randomBytes(4).toString('hex')}`);
  const args = ['-c', 'core.fsyncMethod=batch', 'fast-import', '--quiet', '--done', `--export-marks=${marks}`];
  const child = spawn('git', args, { cwd: root, env: gitEnv(), stdio: ['pipe', 'ignore', 'pipe'] });
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
  const write = (b: Buffer | string): Promise<void> | void => {
    if (broken || child.stdin.write(b)) return;
    return new Promise((r) => {
      const done = () => {
        child.stdin.off('drain', done);
        child.stdin.off('close', done);
        r();
      };
      child.stdin.on('drain', done);
      child.stdin.on('close', done);
    });
  };
  try {
    const reads: Promise<Buffer>[] = [];
    const start = (i: number) => {
      const p = readFile(join(root, paths[i]!));
      p.catch(() => undefined); // handled when awaited
      reads[i] = p;
    };
    for (let i = 0; i < Math.min(READ_AHEAD, paths.length); i++) start(i);
    for (let i = 0; i < paths.length; i++) {
      let data: Buffer;
      try {
        data = await reads[i]!;
      } catch (e) {
        throw readError(paths[i]!, e);
      }
      delete reads[i];
      if (i + READ_AHEAD < paths.length) start(i + READ_AHEAD);
      await write(`blob\nmark :${i + 1}\ndata ${data.length}\n`);
      await write(data);
      await write('\n');
      if (broken) break;
    }
    await write('done\n');
    child.stdin.end();
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
    child.kill('SIGTERM');
    await exited.catch(() => undefined);
    throw e;
  } finally {
    await rm(marks, { force: true });
  }
}

/**
 * Writes the files at `paths` (relative to `root`) as blobs and returns their ids, in
 * order. Never runs a process per file. With `write: false` the ids are only computed
 * (for `status`, which must work in a read-only repo).
 */
export async function writeBlobs(root: string, gitDir: string, paths: string[], opts: { write?: boolean } = {}): Promise<string[]> {
  if (paths.length === 0) return [];
  for (const p of paths) {
    if (p.includes('\n')) throw new IoError(`cannot record a file whose name contains a newline: ${JSON.stringify(p)}`, 'EBADNAME');
  }
  if (opts.write === false) return hashLoose(root, paths, false);
  return paths.length >= FAST_IMPORT_MIN ? importBlobs(root, gitDir, paths) : hashLoose(root, paths);
}
