/**
 * Finding what the mail client changed since HEAD, at a cost that grows with the
 * change: one stat per `cur/`/`new/` directory, a listing only of the directories whose
 * (mtime, inode) moved, and a hash only for message keys that history has never seen.
 * A message edited in place (other bytes, same name) is found where its directory is
 * listed anyway or a watcher named it: those names are stat'ed, and only a file changed
 * since its directory was last audited is hashed (see {@link editCandidates}).
 */
import { lstat, readFile, stat } from 'node:fs/promises';
import { lstatSync, readdirSync } from 'node:fs';
import type { BigIntStats, Dirent } from 'node:fs';
import { join } from 'node:path';
import { blobIdOf, emptyBlob, writeBlobs } from '../git/blobs.js';
import { lsTreeDirs, lsTreeRecursive } from '../git/tree.js';
import { TreeIO } from '../git/treeio.js';
import type { TreeIndex } from '../git/treeio.js';
import type { ListingCache } from './listingCache.js';
import type { TreeEdit, TreeEntry } from '../git/tree.js';
import { parseCommitInfo } from '../git/commit.js';
import { parseMessagePath } from '../maildir/name.js';
import { classifyPath, unsafeReason } from '../maildir/paths.js';
import type { Repo } from './repo.js';
import { fsClock, loadDirState, sameStamp, stampOf, unwrittenStamp } from './dirstate.js';
import type { AuditStamp, DirState } from './dirstate.js';
import { walkWorktree } from './walk.js';
import type { Walk } from './walk.js';
import { folderMarker } from '../maildir/layout.js';
import { perfMark } from '../util/perf.js';
import { resolveSameKey } from './sameKey.js';
import type { NamedBlob } from './sameKey.js';
import type { Progress } from '../fetch/progress.js';
import type { PathChange } from '../git/diff.js';

/** One message file that appeared or disappeared. */
export interface FileDelta {
  path: string;
  oid: string;
}

/** The result of a scan: what to commit, and the cache to save once it is committed. */
export interface Scan {
  head: string | null;
  /** HEAD's clock (0 in a repo with no commit; null when HEAD carries none: a plain `git commit`). */
  headClock: number | null;
  edits: TreeEdit[];
  added: FileDelta[];
  removed: FileDelta[];
  /** Non-message files added, changed or removed (oid null). */
  files: { path: string; oid: string | null }[];
  /** Second names of one key in a folder, to remove from disk before committing (sameKey.ts). */
  stale: string[];
  /** Folder markers the recorded tree holds that are not on disk (see walkFolders; gitIndex.ts marks them). */
  unwritten: string[];
  /** Messages whose bytes changed under the same name: the new blob, and HEAD's (`was`). */
  edited: EditedMessage[];
  /** How many entries HEAD's tree has in each message directory compared (for the commit's choice of tree writer). */
  dirSizes: Map<string, number>;
  state: DirState;
}

/** A message edited in place. */
export interface EditedMessage extends FileDelta {
  /** HEAD's blob under the same name. */
  was: string;
}

/** A name in HEAD and on disk in one compared directory, with HEAD's blob (decoded only when asked). */
interface Kept {
  dir: string;
  name: string;
  oid: () => string;
}

/** The names in HEAD and on disk of one compared directory, and HEAD's blob of the `k`-th (decoded only when asked). */
interface KeptDir {
  names: string[];
  oid: (k: number) => string;
}

/** Calls `each` for every name and blob of HEAD's listing of one directory. */
type HeadNames = (each: (name: string, oid: () => string) => void) => void;

/** HEAD's names still on disk, in listed directories, that share folder and key with a new name. */
function presentSameKey(fresh: readonly NamedBlob[], listed: ReadonlyMap<string, HeadNames>, removed: readonly FileDelta[]): NamedBlob[] {
  const wanted = new Map<string, Set<string>>();
  for (const p of fresh) {
    const m = parseMessagePath(p.path)!;
    let keys = wanted.get(m.folder);
    if (!keys) wanted.set(m.folder, (keys = new Set()));
    keys.add(m.key);
  }
  if (wanted.size === 0) return [];
  const gone = new Set(removed.map((r) => r.path));
  const out: NamedBlob[] = [];
  for (const [dir, names] of listed) {
    const keys = wanted.get(parentDir(dir));
    if (!keys) continue;
    names((name, oid) => {
      const colon = name.indexOf(':');
      const path = `${dir}/${name}`;
      if (keys.has(colon < 0 ? name : name.slice(0, colon)) && !name.startsWith('.') && !gone.has(path)) out.push({ path, oid: oid() });
    });
  }
  return out;
}

/**
 * A stamp younger than this is not cached: a change in the same timestamp tick as the
 * scan's listing would leave it as it is. A file system with whole-second timestamps
 * (FAT, HFS+, some network mounts) gets 2 s; one with finer ones (ext4, xfs, btrfs,
 * tmpfs, whose kernel clock ticks every 1–10 ms) 50 ms, so that the record right after a
 * sync's apply keeps the stamps of what it listed and the next scan does not list it again.
 */
const RACY_COARSE_MS = 2000;
const RACY_FINE_MS = 50;

/** True when `st` changed too recently for its stamp to be trusted (scan time `now`, ms). */
function isRacy(st: BigIntStats, now: number): boolean {
  const coarse = st.mtimeNs % 1_000_000_000n === 0n;
  return now - Number(st.mtimeMs) < (coarse ? RACY_COARSE_MS : RACY_FINE_MS);
}

function parentDir(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

/** One message directory to compare: where it is, HEAD's listing of it, and where its removed and added files go. */
interface DirDiff<Listing> {
  root: string;
  dir: string;
  inHead: Listing;
  out: Compared;
}

/**
 * Diffs one message directory on disk against HEAD's listing of it, by name: a name on
 * both sides is unchanged (messages are immutable). Only names new to the directory are
 * checked: a name every peer would refuse (control characters, invalid UTF-8…) is not
 * recorded, since it would stop every other replica from syncing with the hub it
 * reached. Names already in HEAD passed that check when recorded.
 */
async function diffDir({ root, dir, inHead, out }: DirDiff<TreeIndex>): Promise<void> {
  let entries: Dirent[];
  try {
    // Synchronous: for a 36k-entry cur/ it is ~2x faster than the thread-pool version.
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    entries = [];
  }
  const prefix = dir === '' ? '' : `${dir}/`;
  const onDisk = new Set<string>();
  for (const e of entries) if (e.isFile() && !e.name.startsWith('.')) onDisk.add(e.name);
  const kept: string[] = [];
  const at: number[] = [];
  // What is left in onDisk after crossing off HEAD's names was added.
  for (let i = 0; i < inHead.names.length; i++) {
    const name = inHead.names[i]!;
    if (!inHead.isBlob[i] || name.startsWith('.')) continue;
    if (!onDisk.delete(name)) {
      out.removed.push({ path: prefix + name, oid: inHead.oidAt(i) });
      continue;
    }
    kept.push(name);
    at.push(i);
  }
  out.kept.set(dir, { names: kept, oid: (k) => inHead.oidAt(at[k]!) });
  for (const name of onDisk) if (unsafeReason(prefix + name) === null) out.addedPaths.push(prefix + name);
}

/** A {@link TreeIndex} of entries already listed (full paths under `dir`). */
function indexOf(dir: string, list: readonly TreeEntry[]): TreeIndex {
  const cut = dir === '' ? 0 : dir.length + 1;
  return { names: list.map((e) => e.path.slice(cut)), isBlob: list.map((e) => e.type === 'blob'), oidAt: (i) => list[i]!.oid };
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
 * Writes nothing into the work tree (a new folder's marker goes into the tree only). A client that renames
 * a message from one directory to another while the scan reads them could make it seem
 * gone (or doubled): the directories are stat'ed again after listing, and the scan is
 * redone when any of them moved meanwhile. With `write: false` (status) blob ids are only
 * computed, never written.
 */
export async function scanChanges(repo: Repo, opts: ScanOptions = {}): Promise<Scan> {
  for (let attempt = 1; ; attempt++) {
    const { scan, stable } = await scanOnce(repo, opts);
    // A scan that stayed unstable is still exact for what it read; the next one completes it.
    if (stable || attempt >= SCAN_ATTEMPTS) return scan;
  }
}

/** Options for {@link scanChanges}. */
export interface ScanOptions {
  /** False: compute blob ids without writing objects (status in a read-only repo). */
  write?: boolean;
  /** HEAD's directory listings kept by a long-running caller (see listingCache.ts). */
  cache?: ListingCache;
  /**
   * Names a watcher saw change, per message directory: with a cached listing, such a
   * directory is compared for these names only, and its stamp is not kept, so that a
   * scan without hints lists it in full (an event the watcher lost is found then).
   */
  hints?: ReadonlyMap<string, ReadonlySet<string>>;
  /** A long-lived tree reader owned by the caller (else one is started and ended here). */
  io?: TreeIO;
  /** Told of the new files read into git (an adopt reads every message). */
  progress?: Progress;
  /**
   * Also audit the directories whose stamp did not move (a `readdir` and an `lstat` per
   * message): `status`, which a person runs, finds an edit in place in any folder.
   */
  auditAll?: boolean;
}

async function scanOnce(repo: Repo, opts: ScanOptions): Promise<{ scan: Scan; stable: boolean }> {
  const io = opts.io ?? new TreeIO(repo.root);
  try {
    return await scanWith(repo, io, opts);
  } finally {
    if (!opts.io) io.close();
  }
}

/** Compares only the names a watcher gave for directory `dir` on disk with HEAD's listing of it. */
async function diffNamed({ root, dir, names, inHead, out }: DirDiff<ReadonlyMap<string, string>> & { names: ReadonlySet<string> }): Promise<void> {
  const prefix = dir === '' ? '' : `${dir}/`;
  const kept: KeptDir = { names: [], oid: (k) => inHead.get(kept.names[k]!)! };
  out.kept.set(dir, kept);
  for (const name of names) {
    if (name.startsWith('.') || name.includes('/')) continue;
    const isFile = await lstat(join(root, dir, name)).then(
      (st) => st.isFile(),
      () => false,
    );
    const oid = inHead.get(name);
    if (isFile && oid === undefined && unsafeReason(prefix + name) === null) out.addedPaths.push(prefix + name);
    else if (!isFile && oid !== undefined) out.removed.push({ path: prefix + name, oid });
    else if (isFile && oid !== undefined) kept.names.push(name);
  }
}

/** What every phase of one scan reads: HEAD, the saved cache, and the state being built. */
interface Pass {
  root: string;
  io: TreeIO;
  head: string | null;
  /** The directory cache saved by the last record. */
  old: DirState;
  /** True when `old` describes HEAD: its stamps and directory list can be trusted. */
  warm: boolean;
  now: number;
  /** The file system's clock at the scan's start (ns), for audit stamps: see dirstate.ts: fsClock. */
  clock: string;
  /** Message directories (`cur`, `new`) in HEAD. */
  headDirs: Set<string>;
  /** The cache this scan saves, filled by the phases. */
  state: DirState;
  /** HEAD's entries per directory, as read (in full, or one directory at a time). */
  headEntries: Map<string, TreeEntry[]>;
  /** False: blob ids are computed, not written ({@link ScanOptions}). */
  write: boolean;
  /** HEAD's listings kept by a resident caller ({@link ScanOptions}). */
  cache: ListingCache | undefined;
}

/** Phase 1: HEAD, the saved cache, and HEAD's message directories (the cache's list when it describes HEAD). */
async function startPass(repo: Repo, io: TreeIO, opts: ScanOptions): Promise<{ pass: Pass; info: ReturnType<typeof parseCommitInfo> | null }> {
  const headObject = await io.read('HEAD^{commit}');
  const info = headObject ? parseCommitInfo(headObject.oid, headObject.data) : null;
  perfMark('scan: HEAD read');
  const head = info?.commit ?? null;
  const old = await loadDirState(repo);
  const warm = head !== null && old.head === head && old.tracked !== undefined;
  const now = Date.now();
  const write = opts.write ?? true;
  // A scan that saves nothing (status) needs no clock of its own.
  const clock = (write ? await fsClock(repo) : BigInt(now) * 1_000_000n).toString();
  const headDirs = new Set<string>(warm ? old.tracked : []);
  if (head && !warm) {
    for (const d of await lsTreeDirs(repo.root, head)) {
      const base = d.path.slice(d.path.lastIndexOf('/') + 1);
      if (base === 'cur' || base === 'new') headDirs.add(d.path);
    }
  }
  const state: DirState = { head, dirs: {}, files: {}, tracked: [], audits: {} };
  return { pass: { root: repo.root, io, head, old, warm, now, clock, headDirs, state, headEntries: new Map(), write, cache: opts.cache }, info };
}

/** What phase 2 found: the folders and files on disk, and the markers history holds for them. */
interface Folders extends Walk {
  /** Markers the new tree holds for folders on disk that lack them there (path → blob). */
  unwritten: Map<string, string>;
  /** Markers of folders new to history, to add to the tree (and kept in `unwritten`). */
  created: string[];
}

/**
 * Phase 2: the folders on disk, read without writing into them. A folder's marker is
 * recorded in history and never written into the folder: a client removing a folder
 * (`rm -rf`: one listing, the unlinks, the last `rmdir`) may have listed it already, and
 * a marker written after that would fail the removal and leave the folder behind holding
 * only the marker. So a folder on disk keeps the marker history has for it, on disk or
 * not (`unwritten`); a folder new to history gets one in the tree only (`created`); a
 * marker whose folder is gone goes (phase 6). History has a folder by its message
 * directories, or (an empty folder) by its marker alone: HEAD is read for a marker only
 * when the cache cannot say (a cold scan, or a folder history has no messages of).
 */
async function walkFolders(p: Pass): Promise<Folders> {
  const walk = await walkWorktree(p.root, { readOnly: true });
  perfMark('scan: folders walked');
  const inHistory = (f: string) => p.headDirs.has(`${f}/cur`) || p.headDirs.has(`${f}/new`);
  const out: Folders = { ...walk, unwritten: new Map(), created: [] };
  for (const f of walk.folders) {
    const marker = folderMarker(f);
    // A name HEAD cannot hold (a newline would also break cat-file's batch protocol) is not asked.
    if (marker === null || walk.files.has(marker) || unsafeReason(marker) !== null) continue;
    const cached = p.warm ? p.old.files[marker] : undefined;
    const oid = cached?.oid ?? (p.head !== null && !(p.warm && inHistory(f)) ? await blobIn(p, marker) : null);
    if (oid !== null) out.unwritten.set(marker, oid);
    else if (!inHistory(f)) out.created.push(marker);
  }
  return out;
}

/** The blob HEAD has at `path`, or null. */
async function blobIn(p: Pass, path: string): Promise<string | null> {
  const o = await p.io.read(`${p.head}:${path}`);
  return o?.type === 'blob' ? o.oid : null;
}

/**
 * Phase 3: one stat per candidate message directory (on disk, or in HEAD). Returns the
 * directories to compare (those whose stamp moved, and those a watcher named files in) and each one's stamp as stat'ed (null: not a directory), to
 * check after listing; keeps the stamps and the list of directories in `p.state`.
 */
async function statDirs(p: Pass, folders: Iterable<string>, hints: ScanOptions['hints']): Promise<{ changed: string[]; before: Map<string, string | null> }> {
  const candidates = new Set<string>(p.headDirs);
  for (const f of folders) for (const sub of ['cur', 'new']) candidates.add(f === '' ? sub : `${f}/${sub}`);
  const changed: string[] = [];
  const before = new Map<string, string | null>();
  for (const d of candidates) {
    let st;
    try {
      st = await stat(join(p.root, d), { bigint: true });
    } catch {
      st = null;
    }
    if (st && !st.isDirectory()) st = null;
    before.set(d, st ? JSON.stringify(stampOf(st)) : null);
    if (st) {
      p.state.tracked!.push(d);
      const stamp = stampOf(st);
      if (p.warm && sameStamp(p.old.dirs[d], stamp)) {
        p.state.dirs[d] = stamp;
        // A name a watcher saw change under an unchanged stamp: bytes written in place.
        if (!hints?.has(d)) continue;
      }
      if (!isRacy(st, p.now)) p.state.dirs[d] = stamp;
    } else if (!p.headDirs.has(d)) continue;
    changed.push(d);
  }
  return { changed, before };
}

/** What comparing the changed directories found. */
interface Compared {
  removed: FileDelta[];
  addedPaths: string[];
  /** Names on both sides (every one of a directory listed in full, the named ones of another). */
  kept: Map<string, KeptDir>;
  /** Directories compared in full: every file of each is audited by this scan. */
  full: string[];
  /** HEAD's names of each directory compared, for the same-key check. */
  headNames: Map<string, HeadNames>;
  /** How many entries HEAD's tree has in each directory compared (fastCommit.ts: isBulk). */
  sizes: Map<string, number>;
}

/**
 * Phase 4: each changed directory compared with HEAD's listing of it: by the names events
 * gave when a resident caller has that listing, else in full. HEAD's entries are read in
 * one listing when cold or when many directories changed, else one directory at a time.
 */
async function compareDirs(
  p: Pass,
  { changed, before }: { changed: readonly string[]; before: ReadonlyMap<string, string | null> },
  hints: ScanOptions['hints'],
): Promise<Compared> {
  const fullListing = p.head !== null && (!p.warm || changed.length > 16);
  if (fullListing) {
    for (const e of await lsTreeRecursive(p.root, p.head!)) {
      const d = parentDir(e.path);
      let list = p.headEntries.get(d);
      if (!list) p.headEntries.set(d, (list = []));
      list.push(e);
    }
  }
  const out: Compared = { removed: [], addedPaths: [], kept: new Map(), full: [], headNames: new Map(), sizes: new Map() };
  for (const d of changed) {
    // Names only for a directory that still exists: a vanished one is compared in full,
    // since it leaves the cache's list of directories (`tracked`) with this scan.
    const named = before.get(d) !== null ? hints?.get(d) : undefined;
    const cachedListing = p.head && named && !fullListing ? p.cache?.lookup(p.head, d) : undefined;
    if (named && cachedListing) {
      await diffNamed({ root: p.root, dir: d, names: named, inHead: cachedListing, out });
      out.headNames.set(d, (each) => {
        for (const [name, oid] of cachedListing) each(name, () => oid);
      });
      out.sizes.set(d, cachedListing.size);
      delete p.state.dirs[d];
      perfMark(`scan: ${d} compared for ${named.size} names`);
      continue;
    }
    const index = await headIndex(p, d, fullListing);
    perfMark(`scan: HEAD's ${d} read`);
    await diffDir({ root: p.root, dir: d, inHead: index, out });
    out.full.push(d);
    out.sizes.set(d, index.names.length);
    out.headNames.set(d, (each) => {
      index.names.forEach((name, i) => {
        if (index.isBlob[i]) each(name, () => index.oidAt(i));
      });
    });
    perfMark(`scan: ${d} listed and compared`);
  }
  return out;
}

/** HEAD's listing of directory `d`: from the full listing, the resident cache, or read (and cached). */
async function headIndex(p: Pass, d: string, fullListing: boolean): Promise<TreeIndex> {
  const listed = p.headEntries.get(d);
  let inHead = listed || fullListing || !p.head ? indexOf(d, listed ?? []) : p.cache?.get(p.head, d);
  if (!inHead) {
    inHead = await p.io.index(p.head!, d);
    p.cache?.put(p.head!, d, inHead);
  }
  return inHead;
}

/**
 * Slack under an audit's start: file times come from the kernel's coarse clock, up to a
 * tick (1–10 ms) behind the clock a scan reads, and a file system with whole-second
 * timestamps rounds them down.
 */
const AUDIT_SLACK_FINE_NS = 50_000_000n;
const AUDIT_SLACK_COARSE_NS = 2_000_000_000n;

/**
 * What makes a file a suspect: changed (ns) not before `since`, unless an apply or a
 * clone's checkout made it: born, last written and last changed inside one and the same
 * window of `applied` (a file an apply only renamed keeps its birth and write times, and
 * may hold an edit made before: it stays a suspect; where the file system keeps no birth
 * time, none is exempt).
 */
interface Threshold {
  since: bigint;
  applied: [bigint, bigint][];
}

/** The threshold of a directory's audit stamp. */
function thresholdOf(a: AuditStamp): Threshold {
  return { since: BigInt(a.checked), applied: (a.applied ?? []).map(([f, t]) => [BigInt(f), BigInt(t)]) };
}

/**
 * The audit stamp of `dir`; a directory with none (a plain `git clone`, a lost cache) has
 * had nothing verified, so its first cycle, starting with this scan, takes every file
 * for a suspect (a clone and an apply give their directories a stamp: dirstate.ts:
 * noteApplied).
 */
function auditOf(p: Pass, dir: string): AuditStamp {
  return p.old.audits?.[dir] ?? { checked: '0', cycle: p.clock, after: '' };
}

/**
 * The messages among `held` (each with the blob HEAD records, `oldOid`, and the one a
 * merge brings under that name, `newOid`, or none) whose bytes on disk are neither: an
 * edit in place that no record found yet, its directory not having changed since. As a
 * record audits, only a file changed since its directory's last whole audit cycle began
 * (or in a directory never audited) is read and hashed; a file gone meanwhile is no edit.
 */
export async function unrecordedEdits(repo: Repo, held: readonly PathChange[]): Promise<string[]> {
  if (held.length === 0) return [];
  const audits = (await loadDirState(repo)).audits ?? {};
  const out: string[] = [];
  for (const c of held) {
    const dir = parentDir(c.path);
    const threshold = thresholdOf(audits[dir] ?? { checked: '0', cycle: '0', after: '' });
    if (c.oldOid === null || changedSince({ root: repo.root, dir }, [c.path.slice(dir.length + 1)], threshold).length === 0) continue;
    const data = await readFile(join(repo.root, c.path)).catch(() => null);
    if (data === null) continue;
    const oid = blobIdOf(data, c.oldOid);
    if (oid !== c.oldOid && oid !== c.newOid) out.push(c.path);
  }
  return out;
}

/** Every file is a suspect (one `status` named). */
const ANY_TIME: Threshold = { since: 0n, applied: [] };

/** The regular files among `names` of `dir` whose ctime or mtime passes `threshold`. */
function changedSince(where: { root: string; dir: string }, names: Iterable<string>, threshold: Threshold): string[] {
  const out: string[] = [];
  for (const name of names) {
    const st = lstatSync(join(where.root, where.dir, name), { bigint: true, throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    const newest = st.ctimeNs > st.mtimeNs ? st.ctimeNs : st.mtimeNs;
    const slack = newest % 1_000_000_000n === 0n ? AUDIT_SLACK_COARSE_NS : AUDIT_SLACK_FINE_NS;
    if (newest + slack < threshold.since) continue;
    // Window ends and file times come from one clock (dirstate.ts: fsClock): no slack.
    const times = [st.birthtimeNs, st.mtimeNs, st.ctimeNs];
    if (!threshold.applied.some(([from, to]) => times.every((t) => t >= from && t <= to))) out.push(name);
  }
  return out;
}

/**
 * How many names of one directory a record audits for edits in place (a cycle's step):
 * 4096 `lstat`s cost ~15–40 ms on the 2-core machines used here (docs/design.md).
 * `MAILGIT_AUDIT_STEP` sets it (tests make cycles of a few names).
 */
const AUDIT_STEP = Number(process.env.MAILGIT_AUDIT_STEP) || 4096;

/** The names of `dir` to audit now and the directory's audit stamp after this scan. */
function auditStep(p: Pass, dir: string, names: string[]): { names: string[]; next: AuditStamp } {
  const now = p.clock;
  const a = auditOf(p, dir);
  const left = names.filter((n) => n > a.after);
  for (let i = 1; i < left.length; i++)
    if (left[i - 1]! > left[i]!) {
      left.sort();
      break;
    }
  if (left.length <= AUDIT_STEP) {
    const applied = a.applied?.filter(([, to]) => BigInt(to) >= BigInt(a.cycle));
    return { names: left, next: { checked: a.cycle, cycle: now, after: '', ...(applied?.length ? { applied } : {}) } };
  }
  const step = left.slice(0, AUDIT_STEP);
  return { names: step, next: { ...a, after: step.at(-1)! } };
}

/**
 * Phase 5: the names on both sides that may hold other bytes than HEAD says (an edit in
 * place), to hash against HEAD's blob. A directory listed in full audits the next
 * {@link AUDIT_STEP} names of its cycle (see dirstate.ts: AuditStamp), so that a record
 * costs at most that many `lstat`s per changed directory whatever its size; a directory a
 * watcher named files in audits those; `status` (`all`) audits every name. A file changed
 * since the directory's last whole cycle began is a candidate (a rename changes ctime
 * too, so what a client renamed meanwhile is hashed again: that grows with the change),
 * and so is a suspect `status` left. A directory with no audit yet starts its cycle with
 * every file a suspect ({@link auditOf}).
 */
function editCandidates(p: Pass, compared: Compared, all: boolean): { suspects: Kept[]; audited: number } {
  const full = new Set(compared.full);
  const suspects = new Set(p.old.suspects ?? []);
  const out: Kept[] = [];
  let audited = 0;
  for (const [dir, kept] of compared.kept) {
    const step = full.has(dir) && !all ? auditStep(p, dir, kept.names) : { names: kept.names, next: undefined };
    if (step.next) p.state.audits![dir] = step.next;
    audited += step.names.length;
    const changed = new Set(changedSince({ root: p.root, dir }, step.names, thresholdOf(auditOf(p, dir))));
    kept.names.forEach((name, k) => {
      if (changed.has(name) || suspects.has(`${dir}/${name}`)) out.push({ dir, name, oid: () => kept.oid(k) });
    });
  }
  return { suspects: out, audited };
}

/**
 * Phase 5 for what the comparison did not keep: every name of each directory not listed
 * (`status`), looked up in HEAD when changed since its last whole cycle began, and the
 * suspects `status` left elsewhere (a record), looked up whatever their times.
 */
async function unlistedCandidates(p: Pass, compared: Compared, all: boolean): Promise<Kept[]> {
  const wanted = new Map<string, string[] | null>();
  const listed = new Set([...compared.kept.keys(), ...compared.full]);
  if (all) for (const d of p.state.tracked!) if (!listed.has(d)) wanted.set(d, null);
  const tracked = new Set(p.state.tracked);
  for (const path of all ? [] : (p.old.suspects ?? [])) {
    const d = parentDir(path);
    const name = path.slice(d.length + 1);
    if (!compared.kept.get(d)?.names.includes(name) && tracked.has(d)) wanted.set(d, [...(wanted.get(d) ?? []), name]);
  }
  const out: Kept[] = [];
  for (const [dir, only] of wanted) {
    const threshold = only ? ANY_TIME : thresholdOf(auditOf(p, dir));
    if (!p.head) continue;
    let names: string[];
    try {
      names = only ?? readdirSync(join(p.root, dir)).filter((n) => !n.startsWith('.'));
    } catch {
      continue;
    }
    const changed = changedSince({ root: p.root, dir }, names, threshold);
    if (changed.length === 0) continue;
    const index = await headIndex(p, dir, false);
    const at = new Map(index.names.map((n, i) => [n, i]));
    for (const name of changed) {
      const i = at.get(name);
      if (i !== undefined && index.isBlob[i]) out.push({ dir, name, oid: () => index.oidAt(i) });
    }
  }
  return out;
}

/** Directories not audited by this scan keep their audit stamp; one seen for the first time starts its cycle. */
function keepAudits(p: Pass): void {
  const now = p.clock;
  for (const d of p.state.tracked!) p.state.audits![d] ??= p.old.audits?.[d] ?? { checked: now, cycle: now, after: '' };
}

/**
 * True when the file a client renamed to `path` (from `from`) was written since its old
 * directory was last verified: an edit in place, then a flag change, before one record.
 * A rename moves no mtime, so only such a file is hashed instead of keeping its blob.
 * The old directory is verified as of its current cycle's start when the last record that
 * listed it ended a cycle, else as of the last whole cycle's.
 */
function writtenSince(p: Pass, path: string, from: string): boolean {
  const a = p.old.audits?.[parentDir(from)];
  if (!a) return true;
  const st = lstatSync(join(p.root, path), { bigint: true, throwIfNoEntry: false });
  if (!st) return false;
  const slack = st.mtimeNs % 1_000_000_000n === 0n ? AUDIT_SLACK_COARSE_NS : AUDIT_SLACK_FINE_NS;
  return st.mtimeNs + slack >= BigInt(a.after === '' ? a.cycle : a.checked);
}

/**
 * Phase 6: renames keep their blob (messages are immutable), so only unseen keys are to be
 * hashed; and small data files are hashed only when their stamp moved. A key with two new
 * names in one folder is no plain rename (`git stash` wrote HEAD's name back beside the
 * client's, and the client renamed that one too: seed 182348 of the plaingit torture):
 * those names are hashed, so that the same-key step sees them all and keeps one.
 */
function toHash(p: Pass, compared: Compared, files: ReadonlyMap<string, BigIntStats>): { kept: FileDelta[]; messages: string[]; files: string[] } {
  const byKey = new Map<string, FileDelta>();
  for (const r of compared.removed) byKey.set(parseMessagePath(r.path)!.key, r);
  const kept: FileDelta[] = [];
  const messages: string[] = [];
  const renames: { path: string; from: FileDelta; id: string }[] = [];
  const names = new Map<string, number>();
  for (const path of compared.addedPaths) {
    const m = parseMessagePath(path)!;
    const from = byKey.get(m.key);
    if (!from) {
      messages.push(path);
      continue;
    }
    const id = JSON.stringify([m.folder, m.key]);
    names.set(id, (names.get(id) ?? 0) + 1);
    renames.push({ path, from, id });
  }
  for (const { path, from, id } of renames) {
    if (names.get(id) === 1 && !writtenSince(p, path, from.path)) kept.push({ path, oid: from.oid });
    else messages.push(path);
  }
  const changedFiles: string[] = [];
  for (const [path, st] of files) {
    const cached = p.old.files[path];
    if (p.warm && cached && sameStamp(cached, stampOf(st)) && cached.size === Number(st.size)) p.state.files[path] = cached;
    else changedFiles.push(path);
  }
  return { kept, messages, files: changedFiles };
}

/**
 * Phase 7: the data files hashed, against HEAD (keeping their stamps), the markers of new
 * folders, and the files gone from disk: the ones the cache knew (warm) or HEAD listed
 * (cold), but for the markers of folders still on disk.
 */
async function fileChanges(p: Pass, hashed: readonly NamedBlob[], found: Folders): Promise<Scan['files']> {
  const onDisk = found.files;
  const files: Scan['files'] = [];
  const headFileOid = async (path: string): Promise<string | null> => {
    if (!p.head) return null;
    const listed = p.headEntries.get(parentDir(path)) ?? (await p.io.list(p.head, parentDir(path)));
    p.headEntries.set(parentDir(path), listed);
    return listed.find((e) => e.path === path)?.oid ?? null;
  };
  for (const { path, oid } of hashed) {
    const st = onDisk.get(path)!;
    // A racy file is still listed (with a stamp that never matches, so it is hashed
    // again next time): a warm scan finds deleted files only through this list.
    if (!isRacy(st, p.now)) p.state.files[path] = { ...stampOf(st), size: Number(st.size), oid };
    else p.state.files[path] = { mtime: 'racy', ino: -1, size: -1, oid };
    if ((await headFileOid(path)) !== oid) files.push({ path, oid });
  }
  if (found.created.length > 0) {
    const oid = await emptyBlob(p.root, { write: p.write });
    for (const path of found.created) {
      found.unwritten.set(path, oid);
      files.push({ path, oid });
    }
  }
  for (const [path, oid] of found.unwritten) p.state.files[path] = unwrittenStamp(oid);
  const there = (path: string) => onDisk.has(path) || found.unwritten.has(path);
  const gone = new Set<string>();
  if (p.warm) for (const path of Object.keys(p.old.files)) if (!there(path)) gone.add(path);
  if (p.head && !p.warm) {
    for (const list of p.headEntries.values()) for (const e of list) if (!parseMessagePath(e.path) && classifyPath(e.path) && !there(e.path)) gone.add(e.path);
  }
  for (const path of gone) files.push({ path, oid: null });
  return files;
}

/** The suspects whose bytes on disk (`oids`, in order) are not HEAD's. */
function editedOf(suspects: readonly Kept[], paths: readonly string[], oids: readonly string[]): EditedMessage[] {
  const out: EditedMessage[] = [];
  suspects.forEach((k, i) => {
    const was = k.oid();
    if (oids[i] !== was) out.push({ path: paths[i]!, oid: oids[i]!, was });
  });
  return out;
}

/** One scan: the phases above in turn, then whether any directory moved while it was read. */
async function scanWith(repo: Repo, io: TreeIO, opts: ScanOptions): Promise<{ scan: Scan; stable: boolean }> {
  const { pass: p, info } = await startPass(repo, io, opts);
  const walk = await walkFolders(p);
  const { changed, before } = await statDirs(p, walk.folders, opts.hints);
  const compared = await compareDirs(p, { changed, before }, opts.hints);
  const hash = toHash(p, compared, walk.files);
  const all = opts.auditAll === true;
  const listedSuspects = editCandidates(p, compared, all);
  const suspects = [...listedSuspects.suspects, ...(await unlistedCandidates(p, compared, all))];
  keepAudits(p);
  perfMark(`scan: ${listedSuspects.audited} names audited for edits in place, ${suspects.length} to hash`);
  const suspectPaths = suspects.map((k) => (k.dir === '' ? k.name : `${k.dir}/${k.name}`));
  const oids = await writeBlobs(repo, [...hash.messages, ...hash.files, ...suspectPaths], { write: p.write, progress: opts.progress });
  const edited = editedOf(suspects, suspectPaths, oids.slice(hash.messages.length + hash.files.length));
  const fresh = hash.messages.map((path, i) => ({ path, oid: oids[i]! }));
  const same = resolveSameKey(fresh, presentSameKey(fresh, compared.headNames, compared.removed));
  const added = [...hash.kept, ...same.added];
  const removed = [...compared.removed, ...same.removed];
  const hashedFiles = hash.files.map((path, i) => ({ path, oid: oids[hash.messages.length + i]! }));
  const files = await fileChanges(p, hashedFiles, walk);
  const edits: TreeEdit[] = [
    ...removed.map((r) => ({ path: r.path, oid: null })),
    ...added.map((a) => ({ path: a.path, oid: a.oid })),
    ...edited.map((e) => ({ path: e.path, oid: e.oid })),
    ...files.map((f) => ({ path: f.path, oid: f.oid })),
  ];
  let stable = true;
  for (const [d, stamp] of before) if ((await stampOrNull(join(p.root, d))) !== stamp) stable = false;
  const unwritten = [...walk.unwritten.keys()];
  return {
    scan: {
      head: p.head,
      headClock: info ? info.clock : 0,
      edits,
      added,
      removed,
      files,
      stale: same.stale,
      edited,
      dirSizes: compared.sizes,
      state: p.state,
      unwritten,
    },
    stable,
  };
}
