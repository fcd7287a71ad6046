/**
 * Choosing the info suffix of a merged message.
 */
import type { MessageEntry, Sub } from '../maildir/snapshot.js';
import { flagsOf } from '../maildir/name.js';
import type { ThreeWay } from './types.js';

/**
 * Picks the info suffix for merged flags. When the merged flags equal one side's flags that
 * side's info is kept verbatim, so that names are not rewritten needlessly; when they equal
 * both sides' flags but the two infos differ, the side that changed the info relative to the
 * base wins, and otherwise the smaller string (a symmetric choice). Otherwise the info is
 * written as `":2," + flags`. A message in `cur` never ends up with an empty info.
 */
export function chooseInfo({ flags, sub }: { flags: string; sub: Sub }, { base, ours, theirs }: ThreeWay<MessageEntry | undefined, MessageEntry>): string {
  const oursMatch = flagsOf(ours.info) === flags;
  const theirsMatch = flagsOf(theirs.info) === flags;
  let info: string;
  if (oursMatch && theirsMatch) {
    if (ours.info === theirs.info) info = ours.info;
    else if (base !== undefined && ours.info === base.info) info = theirs.info;
    else if (base !== undefined && theirs.info === base.info) info = ours.info;
    else info = ours.info < theirs.info ? ours.info : theirs.info;
  } else if (oursMatch) info = ours.info;
  else if (theirsMatch) info = theirs.info;
  else info = `:2,${flags}`;
  if (sub === 'cur' && info === '') info = `:2,${flags}`;
  return info;
}
