/**
 * Bringing the Maildir to a new HEAD (after a merge or fast-forward), safely while a
 * mail client runs. Order is important:
 *   1. write the journal `.git/mailgit/apply.json` {from, to} (tmp, fsync, rename),
 *   2. move the branch to `to` (compare-and-swap),
 *   3. make every new or renamed file appear: a rename of the old name when the client
 *      still has it, else the blob written to the folder's `tmp/`, fsynced, renamed in,
 *   4. only then remove names that are gone,
 *   5. drop the cache entries of the touched directories, then the journal.
 * Any command that records first finishes a journal it finds, so the work tree never
 * disagrees with HEAD after a command exits, and a SIGKILL anywhere is repaired by the
 * next run. A file the client renamed or deleted meanwhile is left as the client has
 * it: the next record turns that into a change of its own.
 */
import { mkdir, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CatFile } from '../git/catfile.js';
import { diffTrees } from '../git/diff.js';
import type { PathChange } from '../git/diff.js';
import { BRANCH, readHead, updateRef } from '../git/commit.js';
import { parseMessagePath } from '../maildir/name.js';
import { fsyncDir, writeFileAtomic, tmpName } from '../util/atomic.js';
import { open } from 'node:fs/promises';
import type { Repo } from './repo.js';
import { stateDir } from './repo.js';
import { loadDirState, saveDirState } from './dirstate.js';
import { syncGitIndex } from './gitIndex.js';

interface Journal {
  from: string;
  to: string;
}

function journalPath(repo: Repo): string {
  return join(stateDir(repo), 'apply.json');
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Files written at once while applying: overlaps fsync and disk latency (a 100k-message apply). */
const WRITE_CONCURRENCY = 16;

async function writeMessage(root: string, path: string, data: Buffer, made: Set<string>): Promise<void> {
  const m = parseMessagePath(path)!;
  const folder = join(root, m.folder);
  const tmpDir = join(folder, 'tmp');
  for (const d of [tmpDir, join(folder, m.sub)]) {
    if (made.has(d)) continue;
    await mkdir(d, { recursive: true, mode: 0o700 });
    made.add(d);
  }
  const tmp = tmpName(join(root, path), tmpDir);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(root, path));
}

async function applyChanges(repo: Repo, changes: PathChange[]): Promise<Set<string>> {
  const root = repo.root;
  const touched = new Set<string>();
  const leaving = new Map<string, PathChange[]>();
  for (const c of changes) {
    if (c.oldOid === null) continue;
    const m = parseMessagePath(c.path);
    if (m && (c.newOid === null || c.newOid !== c.oldOid)) leaving.set(m.key, [...(leaving.get(m.key) ?? []), c]);
  }
  const cat = new CatFile(root);
  const renamedAway = new Set<string>();
  const made = new Set<string>();
  // Blobs to write are decided in order (renames first come first) but written by a small
  // pool; every write is done before step 4 removes anything.
  const writes: string[] = [];
  let next = 0;
  const writeAll = async (): Promise<void> => {
    const worker = async (): Promise<void> => {
      while (next < writes.length) {
        const p = writes[next++]!;
        await writeMessage(root, p, await cat.read(byPath.get(p)!), made);
      }
    };
    await Promise.all(Array.from({ length: WRITE_CONCURRENCY }, worker));
  };
  const byPath = new Map<string, string>();
  try {
    // 3. New names first.
    for (const c of changes) {
      if (c.newOid === null) continue;
      const target = join(root, c.path);
      touched.add(dirname(c.path));
      const m = parseMessagePath(c.path);
      if (!m) {
        if (c.oldOid === c.newOid && (await exists(target))) continue;
        await mkdir(dirname(target), { recursive: true, mode: 0o700 });
        await writeFileAtomic(target, await cat.read(c.newOid), 0o600);
        continue;
      }
      if (await exists(target)) {
        // Same name, new content: only a same-key clash does that (the local message
        // went to a new name above or below, from its blob). Replace atomically.
        if (c.oldOid !== null && c.oldOid !== c.newOid) await writeMessage(root, c.path, await cat.read(c.newOid), made);
        continue;
      }
      const sources = (leaving.get(m.key) ?? []).filter((s) => s.oldOid === c.newOid && s.path !== c.path);
      let done = false;
      for (const s of sources) {
        if (renamedAway.has(s.path)) continue;
        try {
          await mkdir(dirname(target), { recursive: true, mode: 0o700 });
          await rename(join(root, s.path), target);
          renamedAway.add(s.path);
          touched.add(dirname(s.path));
          done = true;
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
      if (done) continue;
      // The client renamed or deleted this message while we synced: its change wins and
      // is recorded next; never write a second copy beside its rename.
      if (sources.length > 0 && sources.every((s) => !renamedAway.has(s.path))) continue;
      byPath.set(c.path, c.newOid);
      writes.push(c.path);
    }
    await writeAll();
    // 4. Then the old names go.
    for (const c of changes) {
      if (c.oldOid === null || c.newOid !== null) continue;
      touched.add(dirname(c.path));
      if (renamedAway.has(c.path)) continue;
      await unlink(join(root, c.path)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
  } finally {
    cat.close();
  }
  for (const d of touched) await fsyncDir(join(root, d)).catch(() => undefined);
  await removeEmptyFolders(repo, changes);
  return touched;
}

/** Removes the directories of folders whose marker went away and that hold no mail now. */
async function removeEmptyFolders(repo: Repo, changes: PathChange[]): Promise<void> {
  for (const c of changes) {
    if (c.newOid !== null || !(c.path === 'maildirfolder' || c.path.endsWith('/maildirfolder'))) continue;
    const folder = join(repo.root, dirname(c.path));
    for (const sub of ['cur', 'new', 'tmp']) await rmdir(join(folder, sub)).catch(() => undefined);
    await rmdir(folder).catch(() => undefined);
  }
}

/** Ensures every folder a change touches has `cur/ new/ tmp/`. */
async function ensureFolderDirs(root: string, changes: PathChange[]): Promise<void> {
  const folders = new Set<string>();
  for (const c of changes) {
    if (c.newOid === null) continue;
    const m = parseMessagePath(c.path);
    if (m) folders.add(m.folder);
    else if (c.path === 'maildirfolder' || c.path.endsWith('/maildirfolder')) folders.add(dirname(c.path) === '.' ? '' : dirname(c.path));
  }
  for (const f of folders) for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(root, f, sub), { recursive: true, mode: 0o700 });
}

async function finish(repo: Repo, j: Journal, known?: PathChange[]): Promise<void> {
  const changes = known ?? (await diffTrees(repo.root, j.from, j.to));
  await ensureFolderDirs(repo.root, changes);
  const touched = await applyChanges(repo, changes);
  const state = await loadDirState(repo);
  for (const d of touched) {
    delete state.dirs[d];
  }
  for (const c of changes) delete state.files[c.path];
  // Directories the apply wrote to are stat'ed by the next scan, as those HEAD now has.
  if (state.tracked) state.tracked = [...new Set([...state.tracked, ...[...touched].filter((d) => /(^|\/)(cur|new)$/.test(d))])];
  await saveDirState(repo, { ...state, head: j.to });
  await unlink(journalPath(repo));
  await fsyncDir(stateDir(repo));
  await syncGitIndex(repo, j.from, j.to, changes.map((c) => ({ path: c.path, oid: c.newOid })));
}

/**
 * Moves the branch from commit `from` to `to` and brings the Maildir along (see the
 * order above). The caller holds the repo lock and has recorded local changes first;
 * `changes` is the diff from `from` to `to` when the caller already has it.
 */
export async function applyCommit(repo: Repo, from: string, to: string, changes?: PathChange[]): Promise<void> {
  await mkdir(stateDir(repo), { recursive: true, mode: 0o700 });
  const j: Journal = { from, to };
  await writeFileAtomic(journalPath(repo), JSON.stringify(j), 0o600);
  await updateRef(repo.root, BRANCH, to, from, 'mailgit: apply');
  await finish(repo, j, changes);
}

/** Finishes an apply that a killed mailgit left half done (no-op when there is none). */
export async function finishPendingApply(repo: Repo): Promise<boolean> {
  let j: Journal;
  try {
    j = JSON.parse(await readFile(journalPath(repo), 'utf8')) as Journal;
  } catch {
    return false;
  }
  if ((await readHead(repo.root)) !== j.to) {
    // Killed before the branch moved: the work tree was not touched; forget the journal.
    await unlink(journalPath(repo));
    return false;
  }
  await finish(repo, j);
  return true;
}
