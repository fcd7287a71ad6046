/**
 * Finding what the mail client changed since HEAD, at a cost that grows with the
 * change: one stat per `cur/`/`new/` directory, a listing only of the directories whose
 * (mtime, inode) moved, and a hash only for message keys that history has never seen.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeBlobs } from '../git/blobs.js';
import { lsTreeDirs, lsTreeRecursive } from '../git/tree.js';
import { TreeIO } from '../git/treeio.js';
import type { TreeEdit, TreeEntry } from '../git/tree.js';
import { readHeadInfo } from '../git/commit.js';
import { parseMessagePath } from '../maildir/name.js';
import { classifyPath, unsafeReason } from '../maildir/paths.js';
import type { Repo } from './repo.js';
import { loadDirState, sameStamp, stampOf } from './dirstate.js';
import type { DirState } from './dirstate.js';
import { walkWorktree } from './walk.js';

/** One message file that appeared or disappeared. */
export interface FileDelta {
  path: string;
  oid: string;
}

/** The result of a scan: what to commit, and the cache to save once it is committed. */
export interface Scan {
  head: string | null;
  /** HEAD's tree and clock (null and 0 in a repo with no commit). */
  headTree: string | null;
  headClock: number;
  /** HEAD's listings of the message directories read (full paths), for {@link editTree}. */
  listings: Map<string, TreeEntry[]>;
  edits: TreeEdit[];
  added: FileDelta[];
  removed: FileDelta[];
  /** Non-message files added, changed or removed (oid null). */
  files: { path: string; oid: string | null }[];
  state: DirState;
}

/** Directories younger than this are not cached: a change in the same clock tick could hide. */
const RACY_MS = 2000;

function parentDir(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

async function listNames(root: string, dir: string): Promise<string[]> {
  try {
    const entries = await readdir(join(root, dir), { withFileTypes: true });
    // A name every peer would refuse (control characters, invalid UTF-8…) is not recorded:
    // recorded, it would stop every other replica from syncing with the hub it reached.
    return entries.filter((e) => e.isFile() && !e.name.startsWith('.') && unsafeReason(dir === '' ? e.name : `${dir}/${e.name}`) === null).map((e) => e.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** How often a scan is retried when a client changes a directory while it is read. */
const SCAN_ATTEMPTS = 3;

async function stampOrNull(path: string): Promise<string | null> {
  try {
    const st = await stat(path, { bigint: true });
    return st.isDirectory() ? JSON.stringify(stampOf(st)) : null;
  } catch {
    return null;
  }
}

/**
 * Compares the work tree with HEAD and returns the edits that would record it.
 * Writes nothing but folder markers for folders a client created. A client that renames
 * a message from one directory to another while the scan reads them could make it seem
 * gone (or doubled): the directories are stat'ed again after listing, and the scan is
 * redone when any of them moved meanwhile. With `write: false` (status) blob ids are only
 * computed, never written.
 */
export async function scanChanges(repo: Repo, opts: { write?: boolean } = {}): Promise<Scan> {
  for (let attempt = 1; ; attempt++) {
    const { scan, stable } = await scanOnce(repo, opts.write ?? true);
    // A scan that stayed unstable is still exact for what it read; the next one completes it.
    if (stable || attempt >= SCAN_ATTEMPTS) return scan;
  }
}

async function scanOnce(repo: Repo, write: boolean): Promise<{ scan: Scan; stable: boolean }> {
  const io = new TreeIO(repo.root);
  try {
    return await scanWith(repo, io, write);
  } finally {
    io.close();
  }
}

async function scanWith(repo: Repo, io: TreeIO, write: boolean): Promise<{ scan: Scan; stable: boolean }> {
  const root = repo.root;
  const info = await readHeadInfo(root);
  const head = info?.commit ?? null;
  const old = await loadDirState(repo);
  const warm = head !== null && old.head === head;
  const now = Date.now();
  const walk = await walkWorktree(root);
  const headDirs = new Map<string, string>();
  if (head) for (const d of await lsTreeDirs(root, head)) headDirs.set(d.path, d.oid);

  // Candidate message directories: on disk, or in HEAD.
  const candidates = new Set<string>();
  for (const f of walk.folders) for (const sub of ['cur', 'new']) candidates.add(f === '' ? sub : `${f}/${sub}`);
  for (const d of headDirs.keys()) {
    const base = d.slice(d.lastIndexOf('/') + 1);
    if (base === 'cur' || base === 'new') candidates.add(d);
  }
  const state: DirState = { head, dirs: {}, files: {} };
  const changed: string[] = [];
  const before = new Map<string, string | null>();
  for (const d of candidates) {
    let st;
    try {
      st = await stat(join(root, d), { bigint: true });
    } catch {
      st = null;
    }
    if (st && !st.isDirectory()) st = null;
    before.set(d, st ? JSON.stringify(stampOf(st)) : null);
    if (st) {
      const stamp = stampOf(st);
      const racy = now - Number(st.mtimeMs) < RACY_MS;
      if (warm && sameStamp(old.dirs[d], stamp)) {
        state.dirs[d] = stamp;
        continue;
      }
      if (!racy) state.dirs[d] = stamp;
    } else if (!headDirs.has(d)) continue;
    changed.push(d);
  }

  // HEAD's entries for the changed directories (one full listing when cold).
  const headEntries = new Map<string, TreeEntry[]>();
  if (head && (changed.length > 0 || !warm)) {
    if (!warm || changed.length > 16) {
      for (const e of await lsTreeRecursive(root, head)) {
        const d = parentDir(e.path);
        let list = headEntries.get(d);
        if (!list) headEntries.set(d, (list = []));
        list.push(e);
      }
    } else {
      for (const d of changed) headEntries.set(d, await io.list(head, d));
    }
  }

  const removed: FileDelta[] = [];
  const addedPaths: string[] = [];
  for (const d of changed) {
    const inTree = new Map((headEntries.get(d) ?? []).filter((e) => parseMessagePath(e.path)).map((e) => [e.path, e.oid]));
    const onDisk = new Set((await listNames(root, d)).map((n) => `${d}/${n}`.replace(/^\//, '')));
    for (const [p, oid] of inTree) if (!onDisk.has(p)) removed.push({ path: p, oid });
    for (const p of onDisk) if (!inTree.has(p)) addedPaths.push(p);
  }

  // Renames keep their blob (messages are immutable); only unseen keys are hashed.
  const byKey = new Map<string, string>();
  for (const r of removed) byKey.set(parseMessagePath(r.path)!.key, r.oid);
  const added: FileDelta[] = [];
  const toHash: string[] = [];
  for (const p of addedPaths) {
    const oid = byKey.get(parseMessagePath(p)!.key);
    if (oid) added.push({ path: p, oid });
    else toHash.push(p);
  }

  // Small data files: cached by stat; hashed together with new messages.
  const fileCandidates: string[] = [];
  for (const [p, st] of walk.files) {
    const cached = old.files[p];
    const stamp = stampOf(st);
    if (warm && cached && sameStamp(cached, stamp) && cached.size === Number(st.size)) state.files[p] = cached;
    else fileCandidates.push(p);
  }
  const oids = await writeBlobs(root, repo.gitDir, [...toHash, ...fileCandidates], { write });
  toHash.forEach((p, i) => added.push({ path: p, oid: oids[i]! }));
  const files: Scan['files'] = [];
  const headFileOid = async (p: string): Promise<string | null> => {
    if (!head) return null;
    const listed = headEntries.get(parentDir(p)) ?? (await io.list(head, parentDir(p)));
    headEntries.set(parentDir(p), listed);
    return listed.find((e) => e.path === p)?.oid ?? null;
  };
  for (let i = 0; i < fileCandidates.length; i++) {
    const p = fileCandidates[i]!;
    const oid = oids[toHash.length + i]!;
    const st = walk.files.get(p)!;
    // A racy file is still listed (with a stamp that never matches, so it is hashed
    // again next time): a warm scan finds deleted files only through this list.
    if (now - Number(st.mtimeMs) >= RACY_MS) state.files[p] = { ...stampOf(st), size: Number(st.size), oid };
    else state.files[p] = { mtime: 'racy', ino: -1, size: -1, oid };
    if ((await headFileOid(p)) !== oid) files.push({ path: p, oid });
  }
  // Files gone from disk: those the cache knew (warm) or HEAD listed (cold).
  const gone = new Set<string>();
  if (warm) for (const p of Object.keys(old.files)) if (!walk.files.has(p)) gone.add(p);
  if (head && !warm) {
    for (const list of headEntries.values()) for (const e of list) if (!parseMessagePath(e.path) && classifyPath(e.path) && !walk.files.has(e.path)) gone.add(e.path);
  }
  for (const p of gone) files.push({ path: p, oid: null });

  const edits: TreeEdit[] = [
    ...removed.map((r) => ({ path: r.path, oid: null })),
    ...added.map((a) => ({ path: a.path, oid: a.oid })),
    ...files.map((f) => ({ path: f.path, oid: f.oid })),
  ];
  // Listings of message directories are complete (they hold no subtrees), so the tree
  // writer can reuse them instead of listing a big cur/ again.
  const listings = new Map([...headEntries].filter(([d]) => /(^|\/)(cur|new)$/.test(d)));
  let stable = true;
  for (const [d, stamp] of before) if ((await stampOrNull(join(root, d))) !== stamp) stable = false;
  return { scan: { head, headTree: info?.tree ?? null, headClock: info?.clock ?? 0, listings, edits, added, removed, files, state }, stable };
}
