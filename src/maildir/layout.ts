/**
 * Folder layouts: how a folder's logical name (`INBOX`, `Lists/rust`) maps to the
 * directory that holds its `cur/ new/ tmp/`. This is the one mapping: recording, reports,
 * deliver, fetch and init all go through {@link folderDir} and {@link folderName}.
 */
import { unsafeReason } from './paths.js';

/**
 * - `fs`: `INBOX/cur`, `Lists/rust/cur` (mutt, mbsync `SubFolders Verbatim`, Dovecot
 *   `LAYOUT=fs` with `INBOX=…/INBOX`, offlineimap and mbsync `Flatten`, whose `Lists.rust`
 *   is a folder of that name).
 * - `fs-root`: the root `cur` is INBOX, `Lists/rust/cur` (Dovecot `LAYOUT=fs`'s default).
 * - `maildir++`: the root `cur` is INBOX, `.Lists.rust/cur` (Dovecot's default, Courier,
 *   mbsync `SubFolders Maildir++`).
 * - `mbsync-legacy`: `INBOX/cur`, `Lists/.rust/cur` (mbsync `SubFolders Legacy`: the first
 *   level as it is, every deeper one with a `.` in front).
 */
export type Layout = 'fs' | 'fs-root' | 'maildir++' | 'mbsync-legacy';

/** The layouts mailgit knows, for validation of user input. */
export const LAYOUTS: readonly Layout[] = ['fs', 'fs-root', 'maildir++', 'mbsync-legacy'];

/** Whether INBOX is the root Maildir (`""`) in this layout. */
function inboxAtRoot(layout: Layout): boolean {
  return layout === 'fs-root' || layout === 'maildir++';
}

/**
 * Returns the repo-relative directory of a folder given its logical name, whose
 * hierarchy separator is `/`. INBOX is the root (`""`) in `fs-root` and `maildir++`.
 */
export function folderDir(layout: Layout, name: string): string {
  if (name === 'INBOX' && inboxAtRoot(layout)) return '';
  if (layout === 'maildir++') return `.${name.split('/').join('.')}`;
  if (layout === 'mbsync-legacy')
    return name
      .split('/')
      .map((s, i) => (i === 0 ? s : `.${s}`))
      .join('/');
  return name;
}

/**
 * Returns the logical name of the folder stored in `dir` (the inverse of {@link folderDir}
 * for every directory {@link fitsLayout} accepts; another directory is named by its path).
 */
export function folderName(layout: Layout, dir: string): string {
  if (dir === '' && inboxAtRoot(layout)) return 'INBOX';
  if (!fitsLayout(layout, dir)) return dir;
  if (layout === 'maildir++') return dir.slice(1).split('.').join('/');
  if (layout === 'mbsync-legacy')
    return dir
      .split('/')
      .map((s, i) => (i === 0 ? s : s.slice(1)))
      .join('/');
  return dir;
}

/**
 * Whether a folder directory is one this layout makes, so that {@link folderName} inverts
 * {@link folderDir}. `fs` and `fs-root` take any directory as the folder of that name.
 */
export function fitsLayout(layout: Layout, dir: string): boolean {
  if (dir === '') return inboxAtRoot(layout);
  const parts = dir.split('/');
  const dotted = (s: string) => s.length > 1 && s.startsWith('.');
  if (layout === 'maildir++') return parts.length === 1 && dotted(parts[0]!) && !parts[0]!.slice(1).split('.').includes('');
  if (layout === 'mbsync-legacy') return !dotted(parts[0]!) && parts.slice(1).every(dotted);
  return true;
}

/** Maildir sub-directory names: a folder segment with one of these names would collide. */
const RESERVED = new Set(['cur', 'new', 'tmp']);

/**
 * Returns why `name` cannot be the logical name of a folder in this layout, or `null`. This
 * is the one check of a folder name a user or a server gives (deliver's `--folder`, an IMAP
 * folder's local name, restore's and log's `--folder`): the name and its directory are
 * plain relative paths (`unsafeReason`: no `..`, control characters, `.git`, over-long
 * components), and, unless `existing` is set, a folder mailgit may create — no segment that
 * starts with `.` or is `cur`, `new` or `tmp`, no `.` inside a maildir++ segment, and no
 * name that differs from INBOX only in case. With `existing`, the name only refers to a
 * folder a client may already have made under any safe name, so the layout's rules for new
 * folders do not apply.
 */
export function folderNameProblem(layout: Layout, name: string, opts: { existing?: boolean } = {}): string | null {
  if (name === '') return 'empty name';
  if (name === 'INBOX') return null;
  if (name.split('/').includes('')) return 'empty path segment';
  const unsafe = unsafeReason(name) ?? unsafeReason(folderDir(layout, name));
  if (unsafe !== null || opts.existing) return unsafe;
  for (const seg of name.split('/')) {
    if (seg.startsWith('.')) return 'segment starts with "."';
    if (RESERVED.has(seg)) return `segment "${seg}" is a Maildir sub-directory name`;
    if (layout === 'maildir++' && seg.includes('.')) return `segment contains "." (the hierarchy separator of a maildir++ tree)`;
  }
  const top = name.split('/')[0]!;
  if (top.toUpperCase() === 'INBOX' && top !== 'INBOX') return 'differs from INBOX only in case';
  if (layout === 'fs-root' && top === 'INBOX') return 'INBOX is the root of an fs-root tree and has no sub-folders there';
  return null;
}

/**
 * Detects the layout of a tree from its folder directories (see {@link isFolderDir}), or
 * returns `null` when there are none. With a root Maildir: `maildir++` when every other
 * folder is a `.Name` (also when there is none: Dovecot's default), else `fs-root`. Without
 * one: `mbsync-legacy` when a deeper level starts with `.` and all fit it, `maildir++` when
 * all are `.Name`, else `fs`.
 */
export function detectLayout(folders: Iterable<string>): Layout | null {
  const all = [...folders];
  if (all.length === 0) return null;
  const deeperDot = all.some((d) =>
    d
      .split('/')
      .slice(1)
      .some((s) => s.startsWith('.')),
  );
  const order: Layout[] = all.includes('') ? ['maildir++', 'fs-root'] : deeperDot ? ['mbsync-legacy', 'fs'] : ['maildir++', 'fs'];
  return order.find((l) => all.every((d) => fitsLayout(l, d)))!;
}

/** Describes where a layout keeps INBOX and `Lists/rust`, for init's output. */
export function describeLayout(layout: Layout): string {
  const inbox = folderDir(layout, 'INBOX');
  return `INBOX in ${inbox === '' ? 'the root' : `${inbox}/`}, Lists/rust in ${folderDir(layout, 'Lists/rust')}/`;
}

/**
 * Returns the marker file that keeps a folder in history when it holds no mail, or
 * `null` for the root folder, which always exists. The name is Maildir++'s own
 * `maildirfolder` convention (Dovecot writes it too), which mail clients ignore.
 */
export function folderMarker(dir: string): string | null {
  return dir === '' ? null : `${dir}/${MARKER}`;
}

/** The file name of a folder's marker. */
export const MARKER = 'maildirfolder';

/** Tells whether a repo path is a folder's `maildirfolder` marker (the one test of it). */
export function isFolderMarker(path: string): boolean {
  return path === MARKER || path.endsWith(`/${MARKER}`);
}

/** The folder directory of a marker path (`Lists/rust/maildirfolder` → `Lists/rust`; the root's is `""`). */
export function folderOfMarker(path: string): string {
  return path.slice(0, Math.max(0, path.length - MARKER.length - 1));
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
    else if (e.name === MARKER) marker = true;
  }
  return dirs.has('cur') || marker || (dirs.has('new') && dirs.has('tmp'));
}
