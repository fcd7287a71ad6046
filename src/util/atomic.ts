/**
 * Crash-safe file writes. Order is important:
 *   1. write the whole content to a temporary name in the same directory,
 *   2. fsync the file, 3. rename it over the final name, 4. fsync the directory.
 * After a crash at any point the final name holds either the old or the new content.
 */
import { closeSync, fsync, openSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const fsyncFd = promisify(fsync);

/**
 * Fsyncs the file or directory at `path` (opened read-only): a file written and closed
 * earlier, or a directory, so that a rename or unlink inside it is durable. The one fsync by
 * path; code that holds an open handle calls its `sync()`. Only the fsync waits in libuv's
 * thread pool: the open and close are quick and made here, which halves the thread-pool
 * round trips of a fetch (one per message instead of three; see docs/benchmarks.md).
 */
export async function fsyncPath(path: string): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** Fsyncs a directory so that a rename or unlink inside it is durable ({@link fsyncPath}). */
export const fsyncDir: (dir: string) => Promise<void> = fsyncPath;

/** Returns a temporary file name next to `path` (or inside `tmpDir`, which must be on the same file system). */
export function tmpName(path: string, tmpDir?: string): string {
  const name = `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  return join(tmpDir ?? dirname(path), name);
}

/** Creates `path` exclusively with `mode`, writes `data` and fsyncs it; removes it again on failure. */
export async function writeNewFile(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const fh = await open(path, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw err;
  }
  await fh.close();
}

/** How {@link writeFileAtomic} writes: the new file's mode and where its tmp file goes. */
export interface AtomicWriteOptions {
  /** The new file's permission bits (default 0o600). */
  mode?: number;
  /** The directory for the tmp file (a Maildir's tmp/); default: beside `path`. */
  tmpDir?: string;
}

/** Writes `data` to `path` atomically and durably (tmp, fsync, rename, fsync dir). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tmpName(path, opts.tmpDir);
  await writeNewFile(tmp, data, opts.mode ?? 0o600);
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(path));
}
