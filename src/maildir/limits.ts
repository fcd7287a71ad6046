/**
 * File-system name limits, counted in UTF-8 bytes as the kernel counts them.
 */

/** The longest file name (one path component) Linux file systems take: NAME_MAX bytes. */
export const NAME_MAX = 255;

/** The longest path a system call takes, without its terminating NUL: PATH_MAX - 1 bytes. */
export const PATH_MAX = 4095;

/** Returns the length of `s` in UTF-8 bytes (a lone surrogate counts as the 3 bytes of U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/** Returns the longest prefix of `s`, whole code points only, of at most `max` UTF-8 bytes. */
export function truncateUtf8(s: string, max: number): string {
  let n = 0;
  let out = '';
  for (const ch of s) {
    const len = utf8Length(ch);
    if (n + len > max) break;
    n += len;
    out += ch;
  }
  return out;
}
