/**
 * Walking a mail repo's work tree by directories only: it reads the folder
 * directories (small) and never lists or stats the messages inside `cur/` and `new/`.
 */
import { lstat, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BigIntStats } from 'node:fs';
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

/** Options for {@link walkWorktree}. */
export interface WalkOptions {
  /** Whether a folder without its marker may be given one (default: every folder). */
  mayMark?: (folder: string) => boolean | Promise<boolean>;
  /** Writes nothing at all (no markers). */
  readOnly?: boolean;
}

/**
 * Walks the work tree under `root`. A directory with `cur/` or `new/` (or a
 * `maildirfolder` marker) is a folder; a folder without its marker gets one (where
 * `mayMark` allows, and never with `readOnly`: init's look before it writes anything), so
 * that an empty folder made by a mail client reaches history.
 */
export async function walkWorktree(root: string, opts: WalkOptions = {}): Promise<Walk> {
  const folders = new Set<string>();
  const files = new Map<string, BigIntStats>();
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(join(root, dir), { withFileTypes: true });
    const names = new Set(entries.map((e) => e.name));
    const isFolder = isFolderDir(entries) && !dir.startsWith('.mailgit');
    if (isFolder) {
      folders.add(dir);
      const marker = folderMarker(dir);
      if (marker !== null && !names.has('maildirfolder') && !opts.readOnly && ((await opts.mayMark?.(dir)) ?? true)) {
        await writeFile(join(root, marker), '', { mode: MAIL_FILE_MODE });
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
