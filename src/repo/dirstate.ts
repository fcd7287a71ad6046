/**
 * The per-machine cache that makes recording cost grow with the change: for each
 * `cur/`/`new/` directory its last seen (mtime, inode) and how far the audit of its
 * files for edits in place has come, and for each small data file its (mtime, size, inode, blob). Trusted only while `head` equals the repo's HEAD.
 * Lives in `.git/mailgit/dirstate.json`, never synced.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
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

/**
 * The audit of one message directory for edits in place (scan.ts), in cycles: each record
 * that lists the directory looks at the next names after `after` (in name order), and a
 * file changed (ctime or mtime) since `checked` may hold other bytes than HEAD says. A
 * cycle that reaches the last name ends, and the next one checks against its start.
 * Times are ns since the epoch, as strings.
 */
export interface AuditStamp {
  /** The start of the last whole cycle: no file unchanged since then was edited. */
  checked: string;
  /** The start of the cycle under way. */
  cycle: string;
  /** The last name the cycle under way looked at ('' at its start). */
  after: string;
  /**
   * When an apply (sync) wrote into the directory since `checked`, as [from, to]: a file
   * born and last changed then holds HEAD's bytes, written by mailgit, and is not a
   * suspect (one the apply only renamed is). A client's edit in place of such a file
   * during those seconds is missed by recording; `mailgit check` finds it.
   */
  applied?: [string, string][];
}

/**
 * Notes in `state` that an apply wrote into directories `dirs` between `window` (file
 * system time, ns: {@link fsClock}). A directory with no audit yet (a clone's, or one the
 * apply made) starts its first cycle at the window's start: a file changed since then and
 * not born and last changed inside the window was written by someone else (a client's
 * edit after a clone), and the next record hashes it.
 */
export function noteApplied(state: DirState, dirs: Iterable<string>, window: [bigint, bigint]): void {
  const ns = window.map(String) as [string, string];
  state.audits ??= {};
  for (const d of dirs) {
    const a = state.audits[d];
    if (a) a.applied = [...(a.applied ?? []), ns];
    else if (/(^|\/)(cur|new)$/.test(d)) state.audits[d] = { checked: ns[0], cycle: ns[0], after: '', applied: [ns] };
  }
}

/**
 * Saves the cache of a replica whose work tree a checkout of `head` (a clone) wrote
 * between `started` ({@link fsClock} before it) and now: each message directory of
 * `folders` starts its audit there ({@link noteApplied}), so an edit a client makes
 * after the checkout and before the first record is found by that record.
 */
export async function noteCheckout(repo: Repo, opts: { head: string; folders: readonly string[]; started: bigint }): Promise<void> {
  const state: DirState = { head: opts.head, dirs: {}, files: {} };
  const dirs = opts.folders.flatMap((f) => ['cur', 'new'].map((sub) => (f === '' ? sub : `${f}/${sub}`)));
  noteApplied(state, dirs, [opts.started, await fsClock(repo)]);
  await saveDirState(repo, state);
}

/** The cache's entry of a folder marker that is in the tree and not on disk (no stamp to match; scan.ts, apply.ts). */
export function unwrittenStamp(oid: string): FileStamp {
  return { mtime: 'unwritten', ino: -1, size: -1, oid };
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
  /** Per message directory, how far the audit for edits in place has come (absent in old caches). */
  audits?: Record<string, AuditStamp>;
  /** Messages `status` found edited in place, for the next record to hash whatever its stamps say. */
  suspects?: string[];
}

/**
 * Leaves `paths` (messages found edited in place) in the saved cache as suspects, for the
 * next record to hash whatever their stamps say; the caller holds the repo lock.
 */
export async function addSuspects(repo: Repo, paths: readonly string[]): Promise<void> {
  const state = await loadDirState(repo);
  await saveDirState(repo, { ...state, suspects: [...new Set([...(state.suspects ?? []), ...paths])] });
}

/** Returns a stamp of a stat result (nanosecond mtime when available). */
export function stampOf(st: BigIntStats): DirStamp {
  return { mtime: st.mtimeNs.toString(), ino: Number(st.ino) };
}

/** True when two stamps describe the same directory state. */
export function sameStamp(a: DirStamp | undefined, b: DirStamp): boolean {
  return a !== undefined && a.mtime === b.mtime && a.ino === b.ino;
}

/**
 * The file system's clock now (ns since the epoch): the mtime of a file written for it in
 * `.git/mailgit/`. Audit stamps are compared with files' ctime and mtime, which that clock
 * sets, not the process's (the two differ where the kernel's coarse clock lags a tick, on
 * a network file system with its own clock, or under a skewed test clock: with
 * `Date.now()` a replica whose clock ran 4 hours ahead never suspected an edit). Falls
 * back to the process clock where the repo cannot be written.
 */
export async function fsClock(repo: Pick<Repo, 'gitDir'>): Promise<bigint> {
  const probe = join(stateDir(repo), 'clock');
  try {
    await mkdir(stateDir(repo), { recursive: true, mode: 0o700 });
    await writeFile(probe, '');
    return (await stat(probe, { bigint: true })).mtimeNs;
  } catch {
    return BigInt(Date.now()) * 1_000_000n;
  }
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
  await writeFileAtomic(path(repo), JSON.stringify(s), { mode: 0o600 });
}
