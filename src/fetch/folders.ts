/**
 * IMAP folder names → local folder names, and folder selection patterns.
 *
 * imapflow decodes modified UTF-7 (`Entw&APw-rfe` → `Entwürfe`); this module splits the
 * decoded path on the server's hierarchy delimiter and joins it with `/`, mailgit's
 * separator. A name that cannot be written safely is refused with a reason, never written
 * (`folderNameProblem` in src/maildir/layout.ts, the one check of a folder name).
 */

/**
 * Maps a decoded remote path to a local logical name: `map` first (exact remote path),
 * else INBOX (any case) → `INBOX`, else segments split on `delimiter` joined by `/`.
 * A segment that itself contains `/` (a server with another delimiter) is refused by the caller.
 */
export function localFolderName(remote: string, delimiter: string | null | undefined, map: Record<string, string> = {}): string {
  if (Object.hasOwn(map, remote)) return map[remote];
  if (remote.toUpperCase() === 'INBOX') return 'INBOX';
  const segs = delimiter ? remote.split(delimiter) : [remote];
  if (segs[0].toUpperCase() === 'INBOX' && delimiter) segs[0] = 'INBOX';
  if (delimiter !== '/' && segs.some((s) => s.includes('/'))) return segs.join('\u0000'); // refused by planFolders (src/fetch/fetch.ts)
  return segs.join('/');
}

/** Remote path with the server's delimiter replaced by `/`, for pattern matching. */
export function slashPath(remote: string, delimiter: string | null | undefined): string {
  return delimiter && delimiter !== '/' ? remote.split(delimiter).join('/') : remote;
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '%') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'su');
}

/**
 * Pattern matching on `/`-separated names: `*` any run of characters (also `/`), `%` any
 * run within one level, `?` one character. `INBOX` matches case-insensitively.
 */
export function matchesPattern(name: string, pattern: string): boolean {
  const n = name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
  const p = pattern.toUpperCase() === 'INBOX' ? 'INBOX' : pattern;
  return globToRegExp(p).test(n);
}

/** Whether a folder is selected by include patterns (default all) minus exclude patterns. */
export function folderSelected(names: string[], include: string[] | undefined, exclude: string[] | undefined): boolean {
  const inc = include?.length ? include : ['*'];
  const hit = (pats: string[]) => names.some((n) => pats.some((p) => matchesPattern(n, p)));
  return hit(inc) && !(exclude?.length && hit(exclude));
}
