/**
 * A mail client that renames a message while a sync applies a change to it: the two
 * renames of one message merge like two sides of the merge, three-way.
 */
import type { MessagePath } from '../maildir/name.js';
import { flagsOf } from '../maildir/name.js';
import { mergeFlags } from './flags.js';
import { chooseInfo } from './info.js';
import { fitName } from './nameLimits.js';

/**
 * Merges the name a message had in HEAD before an apply (`base`), the name a mail client
 * gave it meanwhile (`client`) and the name the applied tree wants (`wanted`), all with the
 * same key: folder and `cur`/`new` take the side that changed them (the wanted one when
 * both did), flags merge letter by letter ({@link mergeFlags}), the info is chosen as the
 * merge chooses it, and the result fits a file name ({@link fitName}, with `blob`).
 */
export function mergeClientName({ base, client, wanted }: { base: MessagePath; client: MessagePath; wanted: MessagePath }, blob: string): MessagePath {
  const folder = client.folder === base.folder ? wanted.folder : client.folder;
  const sub = client.sub === base.sub ? wanted.sub : client.sub;
  const flags = mergeFlags(flagsOf(base.info), flagsOf(client.info), flagsOf(wanted.info));
  const entry = (m: MessagePath) => ({ ...m, blob });
  const info = chooseInfo({ flags, sub }, { base: entry(base), ours: entry(client), theirs: entry(wanted) });
  return { folder, sub, ...fitName({ key: wanted.key, info, blob }) };
}
