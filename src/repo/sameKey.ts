/**
 * Two names of one key in one folder. A Maildir holds a message once, under one name
 * (`KEY:2,FLAGS`, in `cur/` or `new/`); plain git can bring an old name back beside the
 * client's new one (`git stash` or `git checkout -f` restore the name HEAD has while the
 * renamed file stays). Recording both would double the message. So when names of one
 * key in one folder hold the same bytes, one is kept and the others are stale: the
 * client's newest name (one not in HEAD) wins over HEAD's; among new names, `cur/` over
 * `new/`, then the longer name (more flags), then the greater. Names with different
 * bytes are different messages and all kept. Nothing is lost: a stale name's bytes are
 * the kept name's.
 */
import { unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseMessagePath } from '../maildir/name.js';
import { fsyncDir } from '../util/atomic.js';

/** A message file with its blob. */
export interface NamedBlob {
  path: string;
  oid: string;
}

/** What {@link resolveSameKey} decides. */
export interface SameKeyOutcome {
  /** New names to record. */
  added: NamedBlob[];
  /** HEAD names to record as gone (their files are in `stale`). */
  removed: NamedBlob[];
  /** Files to remove from disk before the commit. */
  stale: string[];
}

function rank(p: NamedBlob): [number, number, string] {
  const m = parseMessagePath(p.path)!;
  return [m.sub === 'cur' ? 1 : 0, p.path.length, p.path];
}

function better(a: NamedBlob, b: NamedBlob): boolean {
  const [x, y] = [rank(a), rank(b)];
  return x[0] !== y[0] ? x[0] > y[0] : x[1] !== y[1] ? x[1] > y[1] : x[2] > y[2];
}

/**
 * Decides between `added` (names new to their directory) and `present` (HEAD's names
 * still on disk whose key one of `added` has, in the same folder). Pure.
 */
export function resolveSameKey(added: readonly NamedBlob[], present: readonly NamedBlob[]): SameKeyOutcome {
  const groups = new Map<string, { fresh: NamedBlob[]; old: NamedBlob[] }>();
  const groupOf = (p: NamedBlob) => {
    const m = parseMessagePath(p.path)!;
    const id = JSON.stringify([m.folder, m.key, p.oid]);
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { fresh: [], old: [] }));
    return g;
  };
  for (const p of added) groupOf(p).fresh.push(p);
  for (const p of present) groupOf(p).old.push(p);
  const out: SameKeyOutcome = { added: [], removed: [], stale: [] };
  for (const { fresh, old } of groups.values()) {
    if (fresh.length === 0) continue;
    const keep = fresh.reduce((a, b) => (better(b, a) ? b : a));
    out.added.push(keep);
    for (const p of fresh) if (p !== keep) out.stale.push(p.path);
    for (const p of old) {
      out.removed.push(p);
      out.stale.push(p.path);
    }
  }
  return out;
}

/**
 * Removes stale second names from disk (each is a copy of a name that is kept). Done
 * before the commit: if a crash follows, the next record sees a plain rename.
 */
export async function removeStale(root: string, stale: readonly string[]): Promise<void> {
  const dirs = new Set<string>();
  for (const p of stale) {
    await unlink(join(root, p)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    dirs.add(dirname(join(root, p)));
  }
  for (const d of dirs) await fsyncDir(d).catch(() => undefined);
}
