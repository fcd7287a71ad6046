/**
 * The file-system operations the apply performs, behind one small interface, so that
 * tests can make any one of them fail (ENOSPC, EACCES, ENAMETOOLONG, EIO) or do a mail
 * client's rename at a chosen moment. Production code always uses {@link nodeApplyFs}.
 */
import { mkdir, readFile, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { fsyncDir, writeNewFile } from '../util/atomic.js';
import { MAIL_DIR_MODE, MAIL_FILE_MODE } from './perms.js';

/** What the apply does to the file system; every path is absolute. */
export interface ApplyFs {
  /** True when `path` exists; false when it (or a parent) does not; throws on other errors. */
  exists(path: string): Promise<boolean>;
  /** Creates a directory and its parents (the mail directory mode, narrowed by the repo's umask); no error when it exists. */
  mkdir(path: string): Promise<void>;
  /** Lists a directory's names. */
  readdir(path: string): Promise<string[]>;
  /** Reads a small file as UTF-8 (the journal). */
  readFile(path: string): Promise<string>;
  /** Reads a file's bytes (a message about to be replaced); null when it is not there. */
  readBytes(path: string): Promise<Buffer | null>;
  /** Renames a file (atomic on one file system). */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file. */
  unlink(path: string): Promise<void>;
  /** Removes an empty directory. */
  rmdir(path: string): Promise<void>;
  /** Creates `path` exclusively (the mail file mode, narrowed by the repo's umask), writes `data`, fsyncs it; removes it again on failure. */
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  /** Fsyncs a directory, making renames and unlinks in it durable. */
  fsyncDir(path: string): Promise<void>;
}

/** The real file system. */
export const nodeApplyFs: ApplyFs = {
  exists: (p) =>
    stat(p).then(
      () => true,
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return false;
        throw e;
      },
    ),
  mkdir: async (p) => {
    await mkdir(p, { recursive: true, mode: MAIL_DIR_MODE });
  },
  readdir: (p) => readdir(p),
  readFile: (p) => readFile(p, 'utf8'),
  readBytes: (p) =>
    readFile(p).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return null;
      throw e;
    }),
  rename: (a, b) => rename(a, b),
  unlink: (p) => unlink(p),
  rmdir: (p) => rmdir(p),
  writeFile: (p, data) => writeNewFile(p, data, MAIL_FILE_MODE),
  fsyncDir,
};
