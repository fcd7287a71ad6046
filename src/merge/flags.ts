/**
 * Maildir flags merged letter by letter. Reading and ordering them is `src/maildir/name.ts`'s
 * (`flagsOf`, `sortFlags`), the one set of flag helpers.
 */
import { sortFlags } from '../maildir/name.js';

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
