/**
 * `mailgit check`: the full comparison of the Maildir with HEAD that recording never
 * makes (recording trusts directory stamps and immutable files; see docs/design.md), for
 * when something was done outside mailgit. Every file of the work tree is hashed and
 * compared with HEAD: content edited in place, files missing or not recorded, folders
 * missing `cur/ new/ tmp/`, names that cannot replicate; then the apply journal, the
 * lock and `git fsck` of the objects.
 *
 * Repair, with the lock held, in this order: finish an interrupted apply; create missing
 * `cur/ new/ tmp/`; for a message edited in place keep both (the edited bytes are written
 * under a new key `KEY.edited-XXXXXXXX` through the folder's `tmp/`, then the recorded
 * bytes are put back under the old name the same way — a crash in between leaves both
 * names and the next check finishes it); then forget the directory cache and record, so
 * that every name difference becomes a recorded change, as if a client had made it (a
 * missing message is recorded as deleted; `mailgit restore` brings it back). Names that
 * cannot replicate and damaged objects are reported, not changed.
 */
import { lstat, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CatFile } from '../git/catfile.js';
import { readHead } from '../git/commit.js';
import { git, GitError } from '../git/run.js';
import { classifyPath, unsafeReason } from '../maildir/paths.js';
import { parseMessagePath } from '../maildir/name.js';
import { writeFileAtomic } from '../util/atomic.js';
import { finishPendingApply } from './apply.js';
import { saveDirState } from './dirstate.js';
import { isIgnoredDir, isIgnoredFile } from './ignore.js';
import { record } from './record.js';
import { stateDir } from './repo.js';
import type { Repo } from './repo.js';
import type { LockedRepo } from './lock.js';
import { readTreeMessages } from './treeMessages.js';
import { folderOfMarker, isFolderMarker } from '../maildir/layout.js';

/** What check found wrong. */
export interface Finding {
  kind: 'edited' | 'missing' | 'unrecorded' | 'unsafe' | 'structure' | 'journal' | 'lock' | 'objects';
  /** Repo-relative path, where there is one. */
  path?: string;
  /** One line for a person. */
  text: string;
}

/** What a check (and its repair) did. */
export interface CheckReport {
  /** Files compared. */
  files: number;
  found: Finding[];
  /** Repairs made, one line each. */
  actions: string[];
  /** What is still wrong after the repair (equal to `found` without one). */
  remaining: Finding[];
}

interface Disk {
  /** Recorded kinds of files (messages, folder files, settings). */
  paths: string[];
  unsafe: Finding[];
  /** Directories present. */
  dirs: Set<string>;
}

async function walkDisk(root: string): Promise<Disk> {
  const disk: Disk = { paths: [], unsafe: [], dirs: new Set() };
  const visit = async (dir: string): Promise<void> => {
    disk.dirs.add(dir);
    for (const e of await readdir(join(root, dir), { withFileTypes: true })) {
      const p = dir === '' ? e.name : `${dir}/${e.name}`;
      const inMailDir = /(^|\/)(cur|new)$/.test(dir) && !e.name.startsWith('.');
      if (e.isDirectory() && inMailDir) {
        disk.unsafe.push({ kind: 'unsafe', path: p, text: `cannot replicate: ${JSON.stringify(p)} (a directory where messages go)` });
        continue;
      }
      if (e.isDirectory()) {
        if (!isIgnoredDir(e.name)) await visit(p);
        continue;
      }
      if (isIgnoredFile(e.name)) continue;
      const kind = e.isFile() ? classifyPath(p) : null;
      if (kind !== null) disk.paths.push(p);
      else if (inMailDir)
        disk.unsafe.push({ kind: 'unsafe', path: p, text: `cannot replicate: ${JSON.stringify(p)} (${e.isFile() ? unsafeReason(p) : 'not a regular file'})` });
    }
  };
  await visit('');
  return disk;
}

/**
 * The files under `root` that recording never takes (a name with a control character, a
 * symlink or a directory in `cur/` or `new/`), one finding each. Lists every directory,
 * hashes and stats nothing: `status` reports them on every run.
 */
export async function unrecordable(root: string): Promise<Finding[]> {
  return (await walkDisk(root)).unsafe;
}

async function hashFiles(root: string, paths: string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const out = await git(['hash-object', '--no-filters', '--stdin-paths'], { cwd: root, input: `${paths.join('\n')}\n` });
  return out.stdout.toString('utf8').trim().split('\n');
}

/** Folder directories of a tree's files (messages and markers). */
function foldersOf(paths: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const p of paths) {
    const m = parseMessagePath(p);
    if (m) out.add(m.folder);
    else if (isFolderMarker(p)) out.add(folderOfMarker(p));
  }
  return out;
}

async function stateFindings(repo: Repo): Promise<Finding[]> {
  const found: Finding[] = [];
  const journal = await readFile(join(stateDir(repo), 'apply.json'), 'utf8').catch(() => null);
  if (journal !== null) found.push({ kind: 'journal', text: 'an apply (sync) was interrupted and is not finished' });
  const lock = await readFile(join(stateDir(repo), 'lock'), 'utf8').catch(() => null);
  const pid = lock === null ? NaN : Number(lock.trim().split(' ')[0]);
  if (lock !== null && pid !== process.pid) {
    let alive = Number.isFinite(pid);
    try {
      if (alive) process.kill(pid, 0);
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code === 'EPERM';
    }
    found.push({
      kind: 'lock',
      text: alive
        ? `the repo lock is held by pid ${pid} (${lock.trim().split(' ').slice(1).join(' ')})`
        : `a stale repo lock of dead pid ${lock.trim().split(' ')[0]} (the next command takes it over)`,
    });
  }
  const fsck = await git(['fsck', '--no-progress', '--no-dangling'], { cwd: repo.root }).then(
    (r) => ({ code: 0, text: `${r.stdout.toString('utf8')}${r.stderr}` }),
    (e: unknown) => {
      if (e instanceof GitError) return { code: e.status, text: e.stderr };
      throw e;
    },
  );
  const bad = fsck.text.split('\n').filter((l) => /error|missing|broken|corrupt|bad/i.test(l));
  if (fsck.code !== 0 || bad.length > 0)
    found.push({ kind: 'objects', text: `git fsck: ${bad[0] ?? `exit ${fsck.code}`}${bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''}` });
  return found;
}

/** Compares the work tree with HEAD (see the module comment); changes nothing. */
async function compare(repo: Repo): Promise<{ files: number; found: Finding[]; edited: { path: string; disk: string; head: string }[] }> {
  const head = await readHead(repo.root);
  const tree = head ? (await readTreeMessages(repo, head)).files : new Map<string, string>();
  const disk = await walkDisk(repo.root);
  const oids = await hashFiles(repo.root, disk.paths);
  const found: Finding[] = [...(await stateFindings(repo)), ...disk.unsafe];
  const edited: { path: string; disk: string; head: string }[] = [];
  const onDisk = new Set<string>();
  disk.paths.forEach((p, i) => {
    onDisk.add(p);
    const want = tree.get(p);
    if (want === undefined) found.push({ kind: 'unrecorded', path: p, text: `not recorded: ${p}` });
    else if (want !== oids[i] && parseMessagePath(p)) {
      found.push({ kind: 'edited', path: p, text: `edited in place: ${p} (recorded ${want.slice(0, 10)}, on disk ${oids[i]!.slice(0, 10)})` });
      edited.push({ path: p, disk: oids[i]!, head: want });
    } else if (want !== oids[i]) found.push({ kind: 'unrecorded', path: p, text: `changed, not recorded: ${p}` });
  });
  // A folder's marker is in history, not necessarily on disk (scan.ts: walkFolders).
  const kept = (p: string) => isFolderMarker(p) && disk.dirs.has(folderOfMarker(p));
  for (const p of tree.keys()) if (!onDisk.has(p) && !kept(p)) found.push({ kind: 'missing', path: p, text: `missing: ${p}` });
  for (const f of foldersOf(tree.keys())) {
    if (!disk.dirs.has(f)) continue;
    for (const sub of ['cur', 'new', 'tmp']) {
      const d = f === '' ? sub : `${f}/${sub}`;
      if (
        !(await stat(join(repo.root, d)).then(
          (s) => s.isDirectory(),
          () => false,
        ))
      )
        found.push({ kind: 'structure', path: d, text: `folder directory missing: ${d}/` });
    }
  }
  return { files: disk.paths.length, found, edited };
}

/** Keeps both versions of a message edited in place (see the module comment); returns the new name. */
async function keepBoth(repo: Repo, cat: CatFile, e: { path: string; disk: string; head: string }): Promise<string> {
  const m = parseMessagePath(e.path)!;
  const tmpDir = join(repo.root, m.folder, 'tmp');
  const dir = e.path.slice(0, e.path.lastIndexOf('/'));
  const copy = `${dir}/${m.key}.edited-${e.disk.slice(0, 8)}${m.info}`;
  const edited = await readFile(join(repo.root, e.path));
  if (
    !(await lstat(join(repo.root, copy)).then(
      () => true,
      () => false,
    ))
  )
    await writeFileAtomic(join(repo.root, copy), edited, { mode: 0o600, tmpDir });
  await writeFileAtomic(join(repo.root, e.path), await cat.read(e.head), { mode: 0o600, tmpDir });
  return copy;
}

async function repairAll(repo: LockedRepo, found: Finding[], edited: { path: string; disk: string; head: string }[]): Promise<string[]> {
  const actions: string[] = [];
  if (await finishPendingApply(repo)) actions.push('finished the interrupted apply');
  for (const f of found) {
    if (f.kind !== 'structure') continue;
    await mkdir(join(repo.root, f.path!), { recursive: true, mode: 0o700 });
    actions.push(`created ${f.path}/`);
  }
  const cat = new CatFile(repo.root);
  try {
    for (const e of edited)
      actions.push(`kept both versions of ${e.path}: the recorded bytes under its name, the edited ones as ${await keepBoth(repo, cat, e)}`);
  } finally {
    cat.close();
  }
  // A cold record: every directory is listed in full, whatever the cache claimed.
  await saveDirState(repo, { head: null, dirs: {}, files: {} });
  const rec = await record(repo, { message: 'check --repair: record what the Maildir holds' });
  for (const line of rec?.summary ?? []) actions.push(`recorded ${line}`);
  const gone = found.filter((f) => f.kind === 'missing' && parseMessagePath(f.path!)).length;
  if (rec && gone > 0)
    actions.push(`${gone} missing message${gone === 1 ? ' was' : 's were'} recorded as deleted; mailgit restore brings ${gone === 1 ? 'it' : 'them'} back`);
  return actions;
}

/** Checks the repo (see the module comment), changing nothing. */
export async function checkRepo(repo: Repo): Promise<CheckReport> {
  const first = await compare(repo);
  return { files: first.files, found: first.found, actions: [], remaining: first.found };
}

/** Checks the repo, repairs what it can (see the module comment) and checks again. */
export async function repairRepo(repo: LockedRepo): Promise<CheckReport> {
  const first = await compare(repo);
  if (first.found.length === 0) return { files: first.files, found: first.found, actions: [], remaining: first.found };
  const actions = await repairAll(repo, first.found, first.edited);
  const again = await compare(repo);
  return { files: again.files, found: first.found, actions, remaining: again.found };
}
