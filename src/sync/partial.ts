/**
 * Building the merge's snapshots from diffs instead of whole trees, so that a sync
 * costs in proportion to what changed: only messages and files that either side touched
 * since the base take part; everything else is the same on all three and stays as is.
 */
import type { PathChange } from '../store/types.js';
import { parseMessagePath, messagePath } from '../maildir/name.js';
import type { FileEntry, MessageEntry, Snapshot } from '../maildir/snapshot.js';
import { messageMap } from '../merge/identity.js';

/** A path with its blob, as one side has it. */
interface PathBlob {
  path: string;
  oid: string;
}

/** The three partial snapshots plus the paths ours holds for the touched ids. */
export interface PartialSnapshots {
  base: Snapshot;
  ours: Snapshot;
  theirs: Snapshot;
  /** Every path of the touched ids/files as ours has them, with blob. */
  oursPaths: Map<string, string>;
}

function keyOf(path: string): string | null {
  return parseMessagePath(path)?.key ?? null;
}

function toSnapshot(items: PathBlob[], contents: Map<string, string>): Snapshot {
  const entries: MessageEntry[] = [];
  const files = new Map<string, FileEntry>();
  for (const { path, oid } of [...items].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const m = parseMessagePath(path);
    if (m) {
      entries.push({ ...m, blob: oid });
    } else {
      const content = contents.get(oid);
      files.set(path, content === undefined ? { blob: oid } : { blob: oid, content });
    }
  }
  return { messages: messageMap(entries), files };
}

/**
 * Builds base/ours/theirs snapshots restricted to the message keys and file paths that
 * `oursDiff` (base→ours) or `theirsDiff` (base→theirs) touch. `contents` maps blob ids
 * of `.mailgit/` files to their text (the merge reads checkpoints).
 */
export function partialSnapshots(oursDiff: PathChange[], theirsDiff: PathChange[], contents: Map<string, string>): PartialSnapshots {
  const keys = new Set<string>();
  const paths = new Set<string>();
  for (const c of [...oursDiff, ...theirsDiff]) {
    const k = keyOf(c.path);
    if (k !== null) keys.add(k);
    else paths.add(c.path);
  }
  const touched = (path: string) => {
    const k = keyOf(path);
    return k !== null ? keys.has(k) : paths.has(path);
  };
  // Base entries of touched ids: every old side seen in either diff.
  const base = new Map<string, string>();
  for (const c of [...oursDiff, ...theirsDiff]) if (c.oldOid !== null && touched(c.path)) base.set(c.path, c.oldOid);
  const side = (diff: PathChange[]) => {
    const m = new Map(base);
    for (const c of diff) {
      if (c.newOid === null) m.delete(c.path);
      else m.set(c.path, c.newOid);
    }
    return m;
  };
  const oursPaths = side(oursDiff);
  const theirsPaths = side(theirsDiff);
  const list = (m: Map<string, string>) => [...m].map(([path, oid]) => ({ path, oid }));
  return {
    base: toSnapshot(list(base), contents),
    ours: toSnapshot(list(oursPaths), contents),
    theirs: toSnapshot(list(theirsPaths), contents),
    oursPaths,
  };
}

/** Lists a snapshot's paths with their blobs (files with new content have blob ""). */
export function snapshotPaths(s: Snapshot): Map<string, FileEntry> {
  const out = new Map<string, FileEntry>();
  for (const m of s.messages.values()) out.set(messagePath(m), { blob: m.blob });
  for (const [p, f] of s.files) out.set(p, f);
  return out;
}
