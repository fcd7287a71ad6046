/**
 * Which repo paths mailgit records and accepts from a remote: Maildir message files,
 * a few per-folder data files, `.mailgit/` settings and the repo's own git attributes.
 * Everything else (caches, `tmp/`, stray files) is neither recorded nor accepted.
 */
import { NAME_MAX, utf8Length } from './limits.js';
import { parseMessagePath } from './name.js';

/** Per-folder files that are data, not caches. */
export const FOLDER_FILES = new Set(['maildirfolder', 'dovecot-keywords', 'subscriptions']);

/** Root files a mail repo carries. */
export const ROOT_FILES = new Set(['.gitignore', '.gitattributes']);

/** What kind of recorded path this is, or `null` if mailgit neither records nor accepts it. */
export type PathKind = 'message' | 'folder-file' | 'meta' | 'root-file';

/**
 * Classifies a repo-relative path. A path that {@link unsafeReason} refuses is none of
 * these: what a remote would refuse is never recorded either.
 */
export function classifyPath(path: string): PathKind | null {
  if (unsafeReason(path) !== null) return null;
  if (path.startsWith('.mailgit/')) return 'meta';
  if (ROOT_FILES.has(path)) return 'root-file';
  if (parseMessagePath(path)) return 'message';
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (FOLDER_FILES.has(name)) return 'folder-file';
  return null;
}

/**
 * Returns why a path from an untrusted tree is unsafe, or `null` if it is a plain
 * relative path: no empty, `.` or `..` components, no `.git` component in any case,
 * no control characters, backslashes or invalid UTF-8, not absolute, not too long.
 */
export function unsafeReason(path: string): string | null {
  if (path.length === 0) return 'empty path';
  if (path.length > 4096) return 'path too long';
  if (path.startsWith('/')) return 'absolute path';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(path)) return 'control character in name'; // C0, DEL and C1 (U+009B is a terminal CSI)
  if (path.includes('\\')) return 'backslash in name';
  if (path.includes('\ufffd')) return 'name is not valid UTF-8';
  for (const part of path.split('/')) {
    if (part === '' || part === '.' || part === '..') return `"${part}" component`;
    if (utf8Length(part) > NAME_MAX) return `name too long (${utf8Length(part)} bytes, more than ${NAME_MAX})`;
    // HFS+ ignores these code points in names, so `.g\u200cit` is `.git` there (as git's fsck knows).
    const lower = part
      .toLowerCase()
      .replace(/[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g, '')
      .replace(/[. ]+$/, '');
    if (lower === '.git' || lower === 'git~1' || lower === '.gitmodules') return `"${part}" component`;
  }
  return null;
}
