/**
 * Walking a mail repo's work tree by directories only: it reads the folder
 * directories (small) and never lists or stats the messages inside `cur/` and `new/`.
 */
import { lstat, readdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BigIntStats, Dirent } from 'node:fs';
import { isIgnoredDir, isIgnoredFile } from './ignore.js';
import { classifyPath } from '../maildir/paths.js';
import { folderMarker, isFolderDir } from '../maildir/layout.js';
import { MAIL_FILE_MODE } from './perms.js';

/** What the walk found. */
export interface Walk {
  /** Folder directories (repo-relative; `""` for a root Maildir). */
  folders: Set<string>;
  /** Recorded non-message files with their stat. */
  files: Map<string, BigIntStats>;
}

function rel(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** The entries of a directory, or null when it is gone. */
async function entriesOf(abs: string): Promise<Dirent[] | null> {
  try {
    return await readdir(abs, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}

/**
 * Gives folder `dir` its marker unless a client is removing the folder meanwhile: the
 * folder is looked at again just before (the walk read it a while ago) and just after the
 * write, and a marker written into a folder whose `cur/ new/ tmp/` went in between is taken
 * away again, so that a removal racing the walk ends with nothing of ours left (a marker
 * alone would make the removed folder a folder again, and the client's last `rmdir` fail).
 * Returns whether the marker is there.
 */
async function markFolder(root: string, dir: string, marker: string): Promise<boolean> {
  const abs = join(root, dir);
  const hasMaildir = (es: Dirent[] | null) => !!es && es.some((e) => e.isDirectory() && (e.name === 'cur' || e.name === 'new' || e.name === 'tmp'));
  if (!hasMaildir(await entriesOf(abs))) return false;
  try {
    await writeFile(join(root, marker), '', { mode: MAIL_FILE_MODE, flag: 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return true;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw e;
  }
  if (hasMaildir(await entriesOf(abs))) return true;
  await unlink(join(root, marker)).catch(() => undefined);
  return false;
}

/** Options for {@link walkWorktree}. */
export interface WalkOptions {
  /** Writes nothing at all (no markers): a record's scan, and init's look before it writes anything. */
  readOnly?: boolean;
}

/**
 * Walks the work tree under `root`. A directory with `cur/` or `new/` (or a
 * `maildirfolder` marker) is a folder; without `readOnly` (init adopting a tree) a folder
 * without its marker gets one. A record's scan writes none: it keeps a new folder's
 * marker in the tree only (scan.ts: walkFolders).
 */
export async function walkWorktree(root: string, opts: WalkOptions = {}): Promise<Walk> {
  const folders = new Set<string>();
  const files = new Map<string, BigIntStats>();
  const visit = async (dir: string): Promise<void> => {
    // A directory removed while the walk ran is gone (the root never is: it must be there).
    const entries = dir === '' ? await readdir(root, { withFileTypes: true }) : await entriesOf(join(root, dir));
    if (entries === null) return;
    const names = new Set(entries.map((e) => e.name));
    const isFolder = isFolderDir(entries) && !dir.startsWith('.mailgit');
    if (isFolder) {
      folders.add(dir);
      const marker = folderMarker(dir);
      if (marker !== null && !names.has('maildirfolder') && !opts.readOnly && (await markFolder(root, dir, marker))) {
        entries.push(...(await readdir(join(root, dir), { withFileTypes: true })).filter((e) => e.name === 'maildirfolder'));
      }
    }
    for (const e of entries) {
      const p = rel(dir, e.name);
      if (e.isDirectory()) {
        if (isIgnoredDir(e.name)) continue;
        if (isFolder && (e.name === 'cur' || e.name === 'new')) continue;
        if (dir === '' && e.name === '.git') continue;
        await visit(p);
      } else if (e.isFile()) {
        if (isIgnoredFile(e.name)) continue;
        const kind = classifyPath(p);
        if (kind === null || kind === 'message') continue;
        files.set(p, await lstat(join(root, p), { bigint: true }));
      }
    }
  };
  await visit('');
  return { folders, files };
}
