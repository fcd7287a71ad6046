/**
 * Folder layouts: how a folder's logical name (`INBOX`, `Lists/rust`) maps to the
 * directory that holds its `cur/ new/ tmp/`.
 */

/** `fs`: `INBOX/cur`, `Lists/rust/cur`. `maildir++`: root `cur` is INBOX, `.Lists.rust/cur`. */
export type Layout = 'fs' | 'maildir++';

/** The layouts mailgit knows, for validation of user input. */
export const LAYOUTS: readonly Layout[] = ['fs', 'maildir++'];

/**
 * Returns the repo-relative directory of a folder given its logical name, whose
 * hierarchy separator is `/`. INBOX is `INBOX` in `fs` and the root (`""`) in `maildir++`.
 */
export function folderDir(layout: Layout, name: string): string {
  if (layout === 'fs') return name;
  if (name === 'INBOX') return '';
  return '.' + name.split('/').join('.');
}

/** Returns the logical name of the folder stored in `dir` (the inverse of {@link folderDir}). */
export function folderName(layout: Layout, dir: string): string {
  if (layout === 'fs') return dir;
  if (dir === '') return 'INBOX';
  return dir.slice(1).split('.').join('/');
}

/**
 * Returns the marker file that keeps a folder in history when it holds no mail, or
 * `null` for the root folder, which always exists. The name is Maildir++'s own
 * `maildirfolder` convention (Dovecot writes it too), which mail clients ignore.
 */
export function folderMarker(dir: string): string | null {
  return dir === '' ? null : `${dir}/maildirfolder`;
}

/**
 * Decides from a directory's entries whether it is a Maildir folder: it has `cur/`, or
 * its `maildirfolder` marker, or both `new/` and `tmp/`. A directory with only a `new/`
 * child is a container whose subfolder happens to be called `new` (`Lists/new`).
 */
export function isFolderDir(entries: Iterable<{ name: string; isDirectory(): boolean }>): boolean {
  const dirs = new Set<string>();
  let marker = false;
  for (const e of entries) {
    if (e.isDirectory()) dirs.add(e.name);
    else if (e.name === 'maildirfolder') marker = true;
  }
  return dirs.has('cur') || marker || (dirs.has('new') && dirs.has('tmp'));
}
