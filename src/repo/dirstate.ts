/**
 * The per-machine cache that makes recording cost grow with the change: for each
 * `cur/`/`new/` directory its last seen (mtime, inode) and when its files were last
 * audited, and for each small data file its (mtime, size, inode, blob). Trusted only while `head` equals the repo's HEAD.
 * Lives in `.git/mailgit/dirstate.json`, never synced.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BigIntStats } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { stateDir } from './repo.js';
import type { Repo } from './repo.js';

/** A directory's identity at the last scan. */
export interface DirStamp {
  mtime: string;
  ino: number;
}

/** A data file's identity and blob at the last scan. */
export interface FileStamp extends DirStamp {
  size: number;
  oid: string;
}

/** The whole cache. */
export interface DirState {
  head: string | null;
  dirs: Record<string, DirStamp>;
  files: Record<string, FileStamp>;
  /**
   * The message directories (`cur/`, `new/`) that existed on disk at the last scan;
   * with HEAD's own they are the directories a warm scan stats (absent in old caches).
   */
  tracked?: string[];
  /**
   * Per message directory, when (ns since the epoch, a scan's start) each of its files was
   * last looked at by a scan that audited it in full: a file changed since (ctime or mtime
   * newer) may have been edited in place and is hashed (scan.ts). Absent in old caches.
   */
  checked?: Record<string, string>;
}

/** Returns a stamp of a stat result (nanosecond mtime when available). */
export function stampOf(st: BigIntStats): DirStamp {
  return { mtime: st.mtimeNs.toString(), ino: Number(st.ino) };
}

/** True when two stamps describe the same directory state. */
export function sameStamp(a: DirStamp | undefined, b: DirStamp): boolean {
  return a !== undefined && a.mtime === b.mtime && a.ino === b.ino;
}

function path(repo: Repo): string {
  return join(stateDir(repo), 'dirstate.json');
}

/** Loads the cache, or an empty one (which makes the next scan a full one). */
export async function loadDirState(repo: Repo): Promise<DirState> {
  try {
    const s = JSON.parse(await readFile(path(repo), 'utf8')) as DirState;
    if (s && typeof s === 'object' && s.dirs && s.files) return s;
  } catch {
    // missing or damaged: start cold
  }
  return { head: null, dirs: {}, files: {} };
}

/** Saves the cache atomically. */
export async function saveDirState(repo: Repo, s: DirState): Promise<void> {
  await writeFileAtomic(path(repo), JSON.stringify(s), 0o600);
}
