/**
 * Bringing the Maildir to a new HEAD (after a merge or fast-forward), safely while a
 * mail client runs. Order is important:
 *   0. check every name the apply will create (NAME_MAX per component, PATH_MAX in all):
 *      a tree that cannot be written here is refused before anything moves,
 *   1. write the journal `.git/mailgit/apply.json` {from, to} (tmp, fsync, rename),
 *   2. move the branch to `to` (compare-and-swap),
 *   3. make sure every folder written into has `cur/ new/ tmp/` (a new marker for a
 *      folder already on disk is left in the tree only, as a record leaves it), then make
 *      every new or renamed file appear: a rename of the old name when the client still
 *      has it, else the blob written to the folder's `tmp/`, fsynced, renamed in,
 *   4. only then remove names that are gone, and folders whose marker went and that hold
 *      nothing,
 *   5. fsync the touched directories, drop their cache entries, then the journal.
 * If any step after 2 fails (disk full, permission, I/O error, a name too long), the apply
 * is undone: the journal is marked `undo`, the Maildir is brought back from `to` to `from`
 * by the same steps, the branch moves back (CAS), the journal goes. Any command that records
 * first finishes a journal it finds (forward, or undone when forward fails again; an undo
 * journal only undoes), so the work tree never disagrees with HEAD after a command exits and
 * no failure wedges the replica. A message the client renamed meanwhile gets both renames,
 * merged three-way (clientName.ts); one it deleted or moved away stays so, with a note.
 * What each path wants is read from the diff first (applyPlan.ts, pure), and so are these
 * race rules, as tables; the executor here finds how each path stands and follows them.
 */
import { silentProgress, type Progress } from '../fetch/progress.js';
import { randomBytes } from 'node:crypto';
import { blobIdOf } from '../git/blobs.js';
import { dirname, join } from 'node:path';
import { CatFile } from '../git/catfile.js';
import { diffBatches, diffTrees } from '../git/diff.js';
import type { PathChange, TreeRange } from '../git/diff.js';
import { BRANCH, readHead, updateRef } from '../git/commit.js';
import { folderOfMarker, isFolderMarker, MARKER } from '../maildir/layout.js';
import { NAME_MAX, PATH_MAX, utf8Length } from '../maildir/limits.js';
import { messagePath, parseMessagePath, splitName } from '../maildir/name.js';
import type { MessagePath } from '../maildir/name.js';
import { mergeClientName } from '../merge/clientName.js';
import { flagsOf } from '../maildir/name.js';
import { quote } from '../sync/validate.js';
import { MailgitError, RaceError, UnsafeDataError, errnoOf, exitOf, messageOf } from '../util/errors.js';
import type { ApplyFs } from './applyFs.js';
import { nodeApplyFs } from './applyFs.js';
import { arrivalAction, departureAction, planApply } from './applyPlan.js';
import type { ApplyPlan, Arrival, ArrivalFound, DepartureFound } from './applyPlan.js';
import type { Repo } from './repo.js';
import { assertLocked } from './lock.js';
import type { LockedRepo } from './lock.js';
import { stateDir } from './repo.js';
import { fsClock, loadDirState, noteApplied, saveDirState, unwrittenStamp } from './dirstate.js';
import type { DirState } from './dirstate.js';
import { syncGitIndex } from './gitIndex.js';
import type { IndexChange } from './gitIndex.js';

interface Journal {
  from: string;
  to: string;
  /** Set when the apply failed and is being undone: recovery then only undoes. */
  undo?: boolean;
}

/** Options for {@link applyCommit}. */
export interface ApplyOptions {
  /** The diff from `from` to `to`, when the caller already has it. */
  changes?: PathChange[];
  /** Who the change comes from, for error lines and notes (a remote's name). */
  origin?: string;
  /** The file system (tests inject failures and client renames here). */
  fs?: ApplyFs;
  /** Told how many files are written and each one done (a progress bar on a terminal). */
  progress?: Pick<Progress, 'expect' | 'advance'>;
}

/** The move {@link applyCommit} makes: HEAD from commit `from` to commit `to`, with its options. */
export interface ApplyRequest extends ApplyOptions {
  from: string;
  to: string;
}

/** What an apply did that a person should hear: the changes it could not bring in as they were. */
export interface ApplyResult {
  notes: string[];
}

function journalPath(repo: Repo): string {
  return join(stateDir(repo), 'apply.json');
}

/** A short temporary file name in `dir`: its length never depends on the name being written. */
function tmpFile(dir: string): string {
  return join(dir, `.mailgit-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** The names {@link tmpFile} makes. */
const TMP_NAME = /^\.mailgit-\d+-[0-9a-f]{8}\.tmp$/;

/** The longest name {@link tmpFile} makes (pids are at most 7 digits on Linux). */
const TMP_SAMPLE = '.mailgit-4194304-00000000.tmp';

/** Files written at once while applying: overlaps fsync and disk latency (a 100k-message apply). */
const WRITE_CONCURRENCY = 16;

/**
 * Paths planned and written at a time by an apply whose diff only adds (a restore, an
 * undone deletion): memory stays flat however many arrive. Large enough that the 16
 * writers rarely wait for the next batch to be planned; `MAILGIT_APPLY_BATCH` makes it
 * smaller (tests: several batches from a few messages, and a SIGKILL between them).
 */
function addBatch(): number {
  const n = Number(process.env.MAILGIT_APPLY_BATCH);
  return Number.isSafeInteger(n) && n > 0 ? n : 2048;
}

/**
 * Returns why the names `changes` would create under `root` cannot be written on this
 * system (a component over NAME_MAX bytes, a path or its temporary file in the folder's
 * `tmp/` over PATH_MAX),
 * one line per refused path; empty when all fit.
 */
export function nameProblems(root: string, changes: PathChange[]): string[] {
  const problems: string[] = [];
  for (const c of changes) {
    if (c.newOid === null) continue;
    const long = c.path.split('/').find((p) => utf8Length(p) > NAME_MAX);
    const m = parseMessagePath(c.path);
    const tmp = m ? utf8Length(join(root, m.folder, 'tmp', TMP_SAMPLE)) : 0;
    const bytes = Math.max(utf8Length(join(root, c.path)), tmp);
    const shown = quote(c.path.length > 80 ? `${c.path.slice(0, 40)}…${c.path.slice(-39)}` : c.path);
    if (long !== undefined) problems.push(`${shown}: a name of ${utf8Length(long)} bytes (at most ${NAME_MAX})`);
    else if (bytes > PATH_MAX) problems.push(`${shown}: a path of ${bytes} bytes here (at most ${PATH_MAX}; the repo's own path takes ${utf8Length(root)})`);
  }
  return problems;
}

async function readJournal(fs: ApplyFs, repo: Repo): Promise<Journal | null> {
  let text: string;
  try {
    text = await fs.readFile(journalPath(repo));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new MailgitError(`cannot read the apply journal (${messageOf(e)})`, errnoOf(e) || 'EAPPLY', exitOf(e));
  }
  try {
    const j = JSON.parse(text) as Journal;
    return typeof j.from === 'string' && typeof j.to === 'string' ? j : null;
  } catch {
    return null; // a torn journal is never renamed into place; treat garbage as none
  }
}

async function writeJournal(fs: ApplyFs, repo: Repo, j: Journal): Promise<void> {
  const tmp = tmpFile(stateDir(repo));
  await fs.writeFile(tmp, JSON.stringify(j));
  try {
    await fs.rename(tmp, journalPath(repo));
  } catch (e) {
    await fs.unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fs.fsyncDir(stateDir(repo));
}

async function dropJournal(fs: ApplyFs, repo: Repo): Promise<void> {
  try {
    await fs.unlink(journalPath(repo));
    await fs.fsyncDir(stateDir(repo));
  } catch (e) {
    throw new MailgitError(`cannot remove the apply journal (${messageOf(e)})`, errnoOf(e) || 'EAPPLY', exitOf(e));
  }
}

/** Writes one diff (`from` → `to` of a journal, or back) into the Maildir, by its plan: steps 3–5. */
class Applier {
  /** Directories written to, repo-relative. */
  readonly touched = new Set<string>();
  readonly notes: string[] = [];
  /** Markers left in the tree only, with their blobs (see {@link liveMarked}). */
  readonly unwritten = new Map<string, string>();
  private readonly made = new Set<string>();
  private readonly renamedAway = new Set<string>();
  private writes: PathChange[] = [];
  /** Directory listings by key, read by {@link findKey} when a name went missing. */
  private readonly listings = new Map<string, Map<string, string[]>>();

  private readonly root: string;
  private readonly fs: ApplyFs;
  private readonly cat: CatFile;
  private plan: ApplyPlan = planApply([]);
  private readonly origin: string;
  /** Where other files than messages are written first (`.git/mailgit`: same file system, never recorded). */
  private readonly fileTmp: string;

  private readonly progress: Pick<Progress, 'expect' | 'advance'>;

  constructor(o: { root: string; fs: ApplyFs; cat: CatFile; origin: string; fileTmp: string; progress?: ApplyOptions['progress'] }) {
    ({ root: this.root, fs: this.fs, cat: this.cat, origin: this.origin, fileTmp: this.fileTmp } = o);
    this.progress = o.progress ?? silentProgress;
  }

  private abs(path: string): string {
    return join(this.root, path);
  }

  private async mkdir(dir: string): Promise<void> {
    if (this.made.has(dir)) return;
    await this.fs.mkdir(this.abs(dir));
    this.made.add(dir);
  }

  /** Writes `data` under a short name in `tmpDir` (absolute), then renames it to `path`. */
  private async writeVia(tmpDir: string, path: string, data: Buffer): Promise<void> {
    const tmp = tmpFile(tmpDir);
    await this.fs.writeFile(tmp, data);
    try {
      await this.fs.rename(tmp, this.abs(path));
    } catch (e) {
      await this.fs.unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  /** Writes a path's new blob; returns its size. */
  private async writeBlob(c: PathChange): Promise<number> {
    const m = parseMessagePath(c.path);
    if (m) await this.mkdir(join(m.folder, 'tmp'));
    await this.mkdir(dirname(c.path));
    const data = await this.cat.read(c.newOid!);
    await this.writeVia(m ? this.abs(join(m.folder, 'tmp')) : this.fileTmp, c.path, data);
    return data.length;
  }

  /**
   * Runs steps 3–4 for `plan`: the whole diff, or one batch of a diff that only adds.
   * With `expected`, the progress was told the messages to come already (every batch's),
   * and a message found there already counts as done.
   */
  async write(plan: ApplyPlan, expected = false): Promise<void> {
    this.plan = plan;
    this.writes = [];
    const live = await this.liveMarked(plan);
    const writtenInto = new Set(plan.arrivals.filter((a) => a.message).map((a) => parseMessagePath(a.change.path)!.folder));
    for (const f of plan.folders) if (!live.has(f) || writtenInto.has(f)) for (const sub of ['cur', 'new', 'tmp']) await this.mkdir(join(f, sub));
    for (const a of plan.arrivals) {
      if (live.get(folderOfMarkerOrNull(a.change.path) ?? '\0') === a.change.path) this.unwritten.set(a.change.path, a.change.newOid!);
      else await this.arrive(a);
    }
    let next = 0;
    if (expected) this.progress.advance(plan.arrivals.filter((a) => a.message).length - this.writes.length, 0);
    else this.progress.expect(this.writes.length);
    const worker = async (): Promise<void> => {
      while (next < this.writes.length) this.progress.advance(1, await this.writeBlob(this.writes[next++]!));
    };
    await Promise.all(Array.from({ length: WRITE_CONCURRENCY }, worker));
    for (const c of plan.departures) await this.leave(c);
  }

  /**
   * The folders whose marker arrives (new) while the folder is already on disk without
   * one (`cur/`, or `new/` and `tmp/`): a client's folder, maybe being removed. As a
   * record does (scan.ts: walkFolders), the marker stays in the tree only and nothing is
   * written into the folder for it: a marker written after a client's `rm -rf` listed the
   * folder would fail its last `rmdir` and bring the folder back. Folder → marker path.
   */
  private async liveMarked(plan: ApplyPlan): Promise<Map<string, string>> {
    const live = new Map<string, string>();
    for (const a of plan.arrivals) {
      const folder = folderOfMarkerOrNull(a.change.path);
      if (folder === null || a.change.oldOid !== null) continue;
      const names = new Set(await this.fs.readdir(this.abs(folder)).catch(() => [] as string[]));
      if (!names.has(MARKER) && (names.has('cur') || (names.has('new') && names.has('tmp')))) live.set(folder, a.change.path);
    }
    return live;
  }

  /** Step 5's directories, once everything is written: fsyncs those touched, removes the `unmarked` folders left empty. */
  async settle(unmarked: readonly string[]): Promise<void> {
    // The renames are done and every written file was fsynced: a directory that cannot be
    // fsynced (gone, or an I/O error) does not undo them.
    for (const d of this.touched) await this.fs.fsyncDir(this.abs(d)).catch(() => undefined);
    for (const f of unmarked) await this.removeIfEmpty(f);
  }

  /** Step 3 for one arriving path: finds how it stands, then does what the race rules say. */
  private async arrive(a: Arrival): Promise<void> {
    const c = a.change;
    this.touched.add(dirname(c.path));
    const found = await this.findArrival(a);
    const action = arrivalAction(a, found.found);
    if (action === 'write' && a.message && a.replaces) await this.keepUnrecorded(c);
    if (action === 'write' && a.message) this.writes.push(c);
    else if (action === 'write') await this.writeBlob(c);
    else if (action === 'follow-client') await this.followClient(a.sources[0]!, c, found.now!);
    else if (action === 'keep-removal') this.noteRemovalKept(a.sources[0]!, c);
  }

  /**
   * Before new bytes replace a message under its name: when the file there holds neither
   * the bytes HEAD recorded nor the new ones (an edit in place not recorded yet), they are
   * first kept under a new key, `KEY.edited-XXXXXXXX`, as `check --repair` keeps them, with
   * a note, so that the replacement loses nothing (the next record takes the copy).
   */
  private async keepUnrecorded(c: PathChange): Promise<void> {
    const edit = await this.unrecordedEdit(c);
    if (edit === null || edit.oid === c.newOid) return;
    const { oid, data } = edit;
    const m = parseMessagePath(c.path)!;
    const copy = `${dirname(c.path)}/${m.key}.edited-${oid.slice(0, 8)}${m.info}`;
    await this.mkdir(join(m.folder, 'tmp'));
    await this.writeVia(this.abs(join(m.folder, 'tmp')), copy, data);
    this.notes.push(`${c.path}: edited here and not recorded yet when ${this.origin}'s version replaced it; kept the edit as ${copy}`);
  }

  /**
   * The bytes at `c.path` and their blob id when they are not the ones HEAD recorded
   * there (an edit in place no record found yet), else null (the recorded bytes, or no file).
   */
  private async unrecordedEdit(c: PathChange): Promise<{ oid: string; data: Buffer } | null> {
    if (c.oldOid === null) return null;
    const data = await this.fs.readBytes(this.abs(c.path));
    if (data === null) return null;
    const oid = blobIdOf(data, c.oldOid);
    return oid === c.oldOid ? null : { oid, data };
  }

  /**
   * How an arriving path stands: there already; else (a message) renamed from an old name
   * that is still there, which is the whole work; else why none could be renamed.
   */
  private async findArrival(a: Arrival): Promise<{ found: ArrivalFound; now?: string }> {
    // Nothing to rename from and new bytes to write: written whatever is there.
    if (a.sources.length === 0 && a.replaces) return { found: 'absent' };
    if (await this.fs.exists(this.abs(a.change.path))) return { found: 'there' };
    if (a.sources.length === 0) return { found: 'absent' };
    for (const s of a.sources) {
      if (this.renamedAway.has(s.path)) continue;
      if (await this.renameIfThere(s.path, a.change.path)) return { found: 'renamed' };
    }
    if (a.sources.some((s) => this.renamedAway.has(s.path))) return { found: 'taken' };
    // The client renamed or deleted the message at its old name while the sync ran.
    const old = a.sources[0]!;
    this.renamedAway.add(old.path);
    const now = await this.findKey(parseMessagePath(old.path)!);
    return now === null ? { found: 'gone' } : { found: 'client-renamed', now };
  }

  /** Renames `from` to `to`; false when `from` is gone (the client renamed or deleted it). */
  private async renameIfThere(from: string, to: string): Promise<boolean> {
    await this.mkdir(dirname(to));
    try {
      await this.fs.rename(this.abs(from), this.abs(to));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    this.renamedAway.add(from);
    this.touched.add(dirname(from));
    return true;
  }

  /**
   * The client renamed the message at `s` (it is at `now`) while the sync ran, and the
   * applied tree wants it at `c`: its current name and the wanted one are merged three-way
   * over the old one, and the file goes to the merged name (the next record commits the
   * client's part). Never a second copy.
   */
  private async followClient(s: PathChange, c: PathChange, now: string): Promise<void> {
    const merged = messagePath(
      mergeClientName({ base: parseMessagePath(s.path)!, client: parseMessagePath(now)!, wanted: parseMessagePath(c.path)! }, c.newOid!),
    );
    if (merged !== now && !(await this.renameIfThere(now, merged))) return;
    this.touched.add(dirname(merged));
  }

  /** The client moved or deleted the message at `s` that the applied tree wants at `c`: it stays so. */
  private noteRemovalKept(s: PathChange, c: PathChange): void {
    const base = parseMessagePath(s.path)!;
    this.notes.push(
      `${base.folder === '' ? '' : `${base.folder}/`}${base.key}: changed on ${this.origin} (to ${describeName(parseMessagePath(c.path)!)}) ` +
        'but moved or deleted here while the sync applied it; kept the change made here',
    );
  }

  /**
   * The path of an existing file with `m`'s key in `m`'s folder (cur/ or new/), other than
   * this apply's own names. Each directory is listed once per apply, and only when a name
   * went missing (a client's race, or the rerun of a killed apply).
   */
  private async findKey(m: MessagePath): Promise<string | null> {
    for (const sub of ['cur', 'new'] as const) {
      const dir = join(m.folder, sub);
      let keys = this.listings.get(dir);
      if (keys === undefined) {
        const names = await this.fs.readdir(this.abs(dir)).catch((e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT') return [] as string[];
          throw e;
        });
        keys = new Map();
        for (const n of names) if (!n.startsWith('.')) keys.set(splitName(n).key, [...(keys.get(splitName(n).key) ?? []), n]);
        this.listings.set(dir, keys);
      }
      for (const n of keys.get(m.key) ?? []) {
        const path = join(dir, n);
        if (!this.plan.targets.has(path) && (await this.fs.exists(this.abs(path)))) return path;
      }
    }
    return null;
  }

  /** Step 4 for one leaving path: finds how it stands (removing it when there), then does what the race rules say. */
  private async leave(c: PathChange): Promise<void> {
    this.touched.add(dirname(c.path));
    const found = await this.findDeparture(c);
    const action = departureAction(found);
    if (action === 'keep-client') {
      const m = parseMessagePath(c.path)!;
      this.notes.push(`${m.folder === '' ? '' : `${m.folder}/`}${m.key}: deleted on ${this.origin} but changed here while the sync applied it; kept it`);
    } else if (action === 'keep-edit') {
      this.notes.push(`${c.path}: deleted on ${this.origin} but edited here and not recorded yet; kept the edit (the next record takes it)`);
    }
  }

  private async findDeparture(c: PathChange): Promise<DepartureFound> {
    if (this.renamedAway.has(c.path)) return 'moved';
    // Whatever removes a message (a sync, an undo, a restore) never unlinks an edit no record has seen.
    if (parseMessagePath(c.path) && (await this.unrecordedEdit(c)) !== null) return 'edited';
    try {
      await this.fs.unlink(this.abs(c.path));
      return 'removed';
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const m = parseMessagePath(c.path);
    return m && (await this.findKey(m)) ? 'client-renamed' : 'gone';
  }

  /**
   * Removes the directories of a folder whose marker went away if it holds nothing now,
   * all of `cur/ new/ tmp/` or none: a folder with mail, or with a delivery under way in
   * `tmp/`, stays complete. A temporary file of an apply ({@link tmpFile}) in `tmp/` is a
   * killed run's leftover (this one's writes are done, and the repo lock is held): it is
   * removed, or it would keep an undone folder on disk that the next record takes for a
   * client's new folder.
   */
  private async removeIfEmpty(folder: string): Promise<void> {
    const subs = ['cur', 'new', 'tmp'].map((s) => this.abs(join(folder, s)));
    const listed = await Promise.all(subs.map((d) => this.fs.readdir(d).catch(() => null)));
    const ours = (listed[2] ?? []).filter((n) => TMP_NAME.test(n));
    for (const n of ours) await this.fs.unlink(join(subs[2]!, n)).catch(() => undefined);
    if (listed.some((names) => names !== null && names.length > (names === listed[2] ? ours.length : 0))) return;
    try {
      for (const d of subs) {
        await this.fs.rmdir(d).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
        });
      }
    } catch (e) {
      // A client wrote into the folder meanwhile, or rmdir failed: the folder stays whole.
      for (const d of subs) await this.fs.mkdir(d);
      if ((e as NodeJS.ErrnoException).code === 'ENOTEMPTY') return;
      throw e;
    }
    await this.fs.rmdir(this.abs(folder)).catch(() => undefined);
  }
}

/** The folder of a `maildirfolder` marker path, or null for any other path. */
function folderOfMarkerOrNull(path: string): string | null {
  return isFolderMarker(path) ? folderOfMarker(path) : null;
}

/** A message name in a few words, for a note: its folder and flags. */
function describeName(m: MessagePath): string {
  return `${m.folder === '' ? '(root)' : m.folder}, flags "${flagsOf(m.info)}"`;
}

/** How {@link finish} is run: the apply's options, the file system, and for a diff that only adds, how many messages it adds. */
type FinishOptions = ApplyOptions & { fs: ApplyFs; additions?: number };

/**
 * Writes the diff from `from` to `to` into the Maildir (steps 3–5 up to the journal): whole,
 * or, when `opts.additions` says it only adds, in batches ({@link addBatch}) read while
 * git writes the diff. Forgets the dirstate of every path written; returns the index
 * changes (null when batched: the index is rebuilt from the tree then).
 */
async function writeDiff(o: { repo: Repo; from: string; to: string; applier: Applier; state: DirState }, opts: FinishOptions): Promise<IndexChange[] | null> {
  if (opts.additions === undefined) {
    const all = opts.changes ?? (await diffTrees(o.repo.root, { from: o.from, to: o.to }));
    const plan = planApply(all);
    await o.applier.write(plan);
    await o.applier.settle(plan.unmarked);
    for (const c of all) delete o.state.files[c.path];
    return all.map((c) => ({ path: c.path, oid: c.newOid }));
  }
  opts.progress?.expect(opts.additions);
  for await (const batch of diffBatches(o.repo.root, { from: o.from, to: o.to }, addBatch())) {
    await o.applier.write(planApply(batch), true);
    for (const c of batch) delete o.state.files[c.path];
  }
  await o.applier.settle([]);
  return null;
}

/** What {@link writeWorktree} did: its notes, the index changes (null: rebuild), the directory cache to save. */
interface Written {
  notes: string[];
  index: IndexChange[] | null;
  state: DirState;
  /** Markers in the tree and not on disk (given the skip-worktree bit). */
  unwritten: string[];
}

/**
 * Steps 3–5 up to the journal for the diff from `from` to `to` (`diff` says how it is
 * read: whole, given, or in batches): the Maildir written, the directory cache told what
 * was written and when (not saved).
 */
async function writeWorktree(repo: Repo, { from, to, diff }: { from: string; to: string; diff: FinishOptions }, opts: FinishOptions): Promise<Written> {
  const started = await fsClock(repo);
  const cat = new CatFile(repo.root);
  const applier = new Applier({ root: repo.root, fs: opts.fs, cat, origin: opts.origin ?? 'the remote', fileTmp: stateDir(repo), progress: opts.progress });
  const state = await loadDirState(repo);
  let index: IndexChange[] | null;
  try {
    index = await writeDiff({ repo, from, to, applier, state }, diff);
  } finally {
    cat.close();
  }
  for (const d of applier.touched) delete state.dirs[d];
  noteApplied(state, applier.touched, [started, await fsClock(repo)]);
  // Directories the apply wrote to are stat'ed by the next scan, as those HEAD now has.
  if (state.tracked) state.tracked = [...new Set([...state.tracked, ...[...applier.touched].filter((d) => /(^|\/)(cur|new)$/.test(d))])];
  for (const [path, oid] of applier.unwritten) state.files[path] = unwrittenStamp(oid);
  return { notes: applier.notes, index, state, unwritten: [...applier.unwritten.keys()] };
}

/** Brings the Maildir from `from` to `to` of `j` (the diff is `opts.changes` when known) and drops the journal. */
async function finish(repo: Repo, j: Journal, opts: FinishOptions): Promise<ApplyResult> {
  const [from, to] = j.undo ? [j.to, j.from] : [j.from, j.to];
  // An undo reads its own diff (to → from), whole.
  const w = await writeWorktree(repo, { from, to, diff: j.undo ? { fs: opts.fs } : opts }, opts);
  if (j.undo) await updateRef(repo.root, { ref: BRANCH, newOid: j.from, oldOid: j.to, reason: 'mailgit: undo apply' });
  await saveDirState(repo, { ...w.state, head: j.undo ? j.from : j.to });
  await dropJournal(opts.fs, repo);
  await syncGitIndex(repo, { from, to, changes: w.index, unwritten: w.unwritten });
  return { notes: w.notes };
}

/**
 * Puts HEAD's version of `changes` (paths of the diff from commit `from`, whose tree plain
 * git wrote into the work tree, to HEAD `to`) back into the Maildir by the apply's race
 * rules (a message the client renamed or deleted since keeps the client's change), with no
 * journal and no move of the branch: HEAD is already `to`, and a rerun after a crash finds
 * the same paths and does what is left. The git index is rebuilt from `to`.
 */
export async function restoreWorktree(repo: LockedRepo, { from, to, changes, origin }: ApplyRequest & { changes: PathChange[] }): Promise<ApplyResult> {
  assertLocked(repo);
  const opts: FinishOptions = { fs: nodeApplyFs, changes, origin };
  const w = await writeWorktree(repo, { from, to, diff: opts }, opts);
  // The cache keeps its own head: trusted again only if it was HEAD's.
  await saveDirState(repo, w.state);
  await syncGitIndex(repo, { from, to, changes: null, unwritten: w.unwritten });
  return { notes: w.notes };
}

/**
 * The one line for an apply that failed with `cause`: undone, unless `undoFailure` says why
 * not (the same error as `cause` for an undo that failed again).
 */
function applyError(cause: unknown, undoFailure: unknown): MailgitError {
  const code = errnoOf(cause) || 'EAPPLY';
  const exit = exitOf(cause);
  const tail =
    undoFailure === undefined
      ? 'undone: the Maildir and HEAD are as they were before; sync again once that is fixed'
      : undoFailure === cause
        ? 'while undoing an earlier failed apply; the next mailgit command tries again'
        : `and undoing it failed too (${messageOf(undoFailure)}); the next mailgit command finishes or undoes it`;
  return new MailgitError(`could not write the merged mail into the Maildir (${messageOf(cause)}); ${tail}`, code, exit);
}

/** Undoes the apply of `j`: marks the journal, brings the Maildir back, moves the branch back. */
async function undo(repo: Repo, j: Journal, fs: ApplyFs): Promise<void> {
  const u = { ...j, undo: true };
  if (!j.undo) await writeJournal(fs, repo, u);
  await finish(repo, u, { fs });
}

/**
 * Finishes the apply of `j` (branch already at `to`), or undoes it when that fails: says
 * which, with the failure that made it undo. Throws when the undo fails too.
 */
async function forwardOrUndo(repo: Repo, j: Journal, opts: FinishOptions): Promise<{ done: ApplyResult } | { undone: unknown }> {
  try {
    return { done: await finish(repo, j, opts) };
  } catch (cause) {
    try {
      await undo(repo, j, opts.fs);
    } catch (undoFailure) {
      throw applyError(cause, undoFailure);
    }
    return { undone: cause };
  }
}

/**
 * A first pass over the diff from `from` to `to`, read in batches and not kept: null as
 * soon as it does more than add paths; else the names it would add that cannot be written
 * here (step 0) and how many messages it adds. Such a diff (a restore, new mail) is then
 * applied in batches (memory stays flat at 100,000 messages); any other is read whole.
 */
async function scanAdditions(root: string, range: TreeRange): Promise<{ problems: string[]; messages: number } | null> {
  const problems: string[] = [];
  let messages = 0;
  for await (const batch of diffBatches(root, range, addBatch())) {
    if (batch.some((c) => c.oldOid !== null)) return null;
    problems.push(...nameProblems(root, batch));
    messages += batch.filter((c) => parseMessagePath(c.path) !== null).length;
  }
  return { problems, messages };
}

/**
 * Moves the branch from commit `from` to `to` and brings the Maildir along (see the
 * order above). The caller has recorded local changes first.
 * Throws {@link UnsafeDataError} (65), with nothing moved, when a name cannot be written
 * here, and a one-line error with the failure's exit status when writing fails (undone).
 */
export async function applyCommit(repo: LockedRepo, { from, to, ...opts }: ApplyRequest): Promise<ApplyResult> {
  assertLocked(repo);
  const fs = opts.fs ?? nodeApplyFs;
  if ((await finishPendingApply(repo, fs)) !== 'none' && (await readHead(repo.root)) !== from) {
    throw new RaceError('an unfinished earlier apply moved HEAD; nothing applied, sync again');
  }
  const added = opts.changes ? null : await scanAdditions(repo.root, { from, to });
  const changes = added ? undefined : (opts.changes ?? (await diffTrees(repo.root, { from, to })));
  const problems = added ? added.problems : nameProblems(repo.root, changes!);
  if (problems.length > 0) {
    const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : '';
    throw new UnsafeDataError(`refusing ${opts.origin ?? 'the merged tree'}: ${problems.slice(0, 3).join('; ')}${more}; nothing was applied`);
  }
  const j: Journal = { from, to };
  try {
    await fs.mkdir(stateDir(repo));
    await writeJournal(fs, repo, j);
  } catch (e) {
    await fs.unlink(journalPath(repo)).catch(() => undefined); // the branch did not move: nothing to finish
    throw new MailgitError(`could not write the apply journal (${messageOf(e)}); nothing was applied`, errnoOf(e) || 'EAPPLY', exitOf(e));
  }
  try {
    await updateRef(repo.root, { ref: BRANCH, newOid: to, oldOid: from, reason: 'mailgit: apply' });
  } catch (e) {
    await dropJournal(fs, repo).catch(() => undefined);
    throw e;
  }
  const outcome = await forwardOrUndo(repo, j, { ...opts, changes, fs, additions: added?.messages });
  if ('undone' in outcome) throw applyError(outcome.undone, undefined);
  return outcome.done;
}

/**
 * True when an apply that a killed or failed mailgit left waits for
 * {@link finishPendingApply}: the next record finishes it first, so a dry run, which
 * changes nothing, cannot plan on the Maildir as it is.
 */
export async function applyPending(repo: Repo, fs: ApplyFs = nodeApplyFs): Promise<boolean> {
  const j = await readJournal(fs, repo);
  return j !== null && (await readHead(repo.root)) === j.to;
}

/**
 * Finishes an apply that a killed or failed mailgit left (no-op when there is none):
 * forward, or undone when forward fails; a journal already being undone is only undone.
 * Throws when neither works. Says what it did.
 */
export async function finishPendingApply(repo: LockedRepo, fs: ApplyFs = nodeApplyFs): Promise<'none' | 'finished' | 'undone'> {
  const j = await readJournal(fs, repo);
  if (j === null) return 'none';
  if ((await readHead(repo.root)) !== j.to) {
    // The branch never moved (or an undo already moved it back): the journal is all that is left.
    await dropJournal(fs, repo);
    return 'none';
  }
  if (j.undo) {
    await finish(repo, j, { fs }).catch((e: unknown) => {
      throw applyError(e, e);
    });
    return 'undone';
  }
  return 'undone' in (await forwardOrUndo(repo, j, { fs })) ? 'undone' : 'finished';
}
