/**
 * Names the merge makes longer (flags united, a key renamed to `KEY.mgXXXXXXXX`) can pass
 * the file-system limit of 255 bytes that every replica's own names respect. Such a message
 * is kept under a shorter key computed from the merged entry alone, so every replica that
 * makes the same merge writes the same name.
 */
import { NAME_MAX, truncateUtf8, utf8Length } from '../maildir/limits.js';
import type { MessageEntry } from '../maildir/snapshot.js';
import type { MergeContext } from './context.js';
import { entryPath } from './entries.js';

/**
 * Returns a key and info whose file name fits in {@link NAME_MAX} bytes: the name itself
 * when it fits, else the key cut at a code-point boundary and followed by
 * `.mg` + the first `digits` (8) hex digits of the blob id, with the info unchanged. Only when
 * the info alone leaves no room is it cut too. A pure function of its arguments.
 */
export function fitName({ key, info, blob }: Pick<MessageEntry, 'key' | 'info' | 'blob'>, digits = 8): { key: string; info: string } {
  if (utf8Length(key) + utf8Length(info) <= NAME_MAX) return { key, info };
  const suffix = `.mg${blob.slice(0, digits)}`;
  const room = NAME_MAX - utf8Length(info) - suffix.length;
  if (room >= 1) return { key: truncateUtf8(key, room) + suffix, info };
  const short = truncateUtf8(key, 1) + suffix;
  return { key: short, info: truncateUtf8(info, NAME_MAX - utf8Length(short)) };
}

/**
 * Gives every merged message whose name would be longer than {@link NAME_MAX} bytes the
 * name {@link fitName} computes, under the new key as its id, with a `name-too-long`
 * decision. Returns `messages` itself when every name fits, else a new map in sorted id order.
 */
export function fitNames(messages: Map<string, MessageEntry>, ctx: MergeContext): Map<string, MessageEntry> {
  let out: Map<string, MessageEntry> | null = null;
  for (const [id, e] of messages) {
    const fitted = fitName(e);
    if (fitted.key === e.key && fitted.info === e.info) continue;
    out ??= new Map(messages);
    out.delete(id);
    const key = out.has(fitted.key) ? fitName(e, 40).key : fitted.key;
    out.set(key, { ...e, key, info: fitted.info });
    ctx.decide({
      kind: 'name-too-long',
      id,
      winner: 'both',
      text:
        `${entryPath(e)}: the merged name would be ${utf8Length(e.key + e.info)} bytes, more than a file ` +
        `name may have (${NAME_MAX}); kept the message as ${key}${fitted.info}`,
    });
  }
  if (out === null) return messages;
  const sorted = new Map<string, MessageEntry>();
  for (const id of [...out.keys()].sort()) sorted.set(id, out.get(id)!);
  return sorted;
}
