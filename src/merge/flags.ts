/**
 * Maildir flags: reading them from an info suffix and merging them letter by letter.
 */

/**
 * Sorts flag letters in ASCII order and drops repeated letters (`"SFS"` → `"FS"`).
 */
export function sortFlags(flags: string): string {
  return [...new Set(flags)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join('');
}

/**
 * Returns the flag letters of an info suffix, sorted and without repeats: `":2,FS"` → `"FS"`.
 * An info that is empty or not in the `:2,` form (for example the experimental `:1,`) has no
 * flags and gives `""`.
 */
export function flagsOf(info: string): string {
  return info.startsWith(':2,') ? sortFlags(info.slice(3)) : '';
}

/**
 * Merges flag strings letter by letter, three-way: a letter that one side changed relative to
 * the base takes that side's value, so no conflict is possible. Without a base (the message
 * is new on both sides) the result is the union. Standard letters (`DFPRST`) and Dovecot
 * keyword letters (`a`–`z`) are treated alike. The result is sorted in ASCII order.
 */
export function mergeFlags(base: string | undefined, ours: string, theirs: string): string {
  if (base === undefined) return sortFlags(ours + theirs);
  const out: string[] = [];
  for (const letter of new Set(base + ours + theirs)) {
    const inBase = base.includes(letter);
    const inOurs = ours.includes(letter);
    const inTheirs = theirs.includes(letter);
    const keep = inOurs === inTheirs ? inOurs : inOurs === inBase ? inTheirs : inOurs;
    if (keep) out.push(letter);
  }
  return sortFlags(out.join(''));
}
