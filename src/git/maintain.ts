/**
 * Keeping `.git` small as changes are recorded.
 *
 * A flag change rewrites the tree of its `cur/` directory: at 100k messages that tree
 * is MBs, and git would keep a loose, zlib-only copy of it per commit. A packfile can
 * only store a tree as a delta against another object in the same pack, so after a
 * record mailgit rewrites one "history pack" holding everything written since the big
 * packs (adopted mail, closed history packs): the trees and commits of every record
 * since, and the mail delivered since. Its objects are copied as they are (deltas
 * reused); only the new loose ones are searched for deltas, so each new version of a
 * big tree costs a delta of a few hundred bytes instead of a full copy. An adopt's
 * blobs go to their own pack (fast-import) and its trees start the history pack.
 * When the history pack passes a size, it is closed and a new one starts; when closed
 * packs pile up they are rolled up geometrically (`git repack --geometric=2`).
 *
 * Which pack is the history pack is remembered in `.git/mailgit/maintain.json`
 * (per-machine state). Every step keeps the repo valid: the new pack is complete
 * (and fsynced by git) before the old one and the loose copies are removed.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { git } from './run.js';
import { writeFileAtomic } from '../util/atomic.js';

/** Pack loose objects once there are this many of them ... */
export const LOOSE_COUNT_MAX = 256;
/** ... or once they take this many bytes (a few big tree versions). */
export const LOOSE_BYTES_MAX = 64 * 1024;
/**
 * A history pack bigger than this is left alone and a new one is started (with one
 * full copy of each tree it then changes). New mail fills it: ~2,000 messages of 4 KB.
 */
const HISTORY_MAX = 8 * 1024 * 1024;
/**
 * Delta chain depth. git's default, 50, would store a full copy of a big `cur/` tree
 * every 50 flag changes (1.5 MB at 100k messages); 250 was git's `gc --aggressive` depth.
 */
const DEPTH = 250;
/** Roll up small packs when there are more than this many. */
const PACKS_MAX = 24;

/** What a maintenance run did. */
export interface MaintainResult {
  /** Loose objects packed (0: nothing to do). */
  packed: number;
  /** Packs rolled up geometrically. */
  rolledUp: boolean;
  ms: number;
}

interface State {
  historyPack?: string;
}

const HEX2 = /^[0-9a-f]{2}$/;

async function looseObjects(objects: string): Promise<{ oids: string[]; bytes: number }> {
  const oids: string[] = [];
  let bytes = 0;
  for (const d of await readdir(objects).catch(() => [] as string[])) {
    if (!HEX2.test(d)) continue;
    for (const f of await readdir(join(objects, d)).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{38,62}$/.test(f)) continue;
      oids.push(d + f);
      bytes += (await stat(join(objects, d, f)).catch(() => ({ size: 0 }))).size;
    }
  }
  return { oids, bytes };
}

async function packNames(objects: string): Promise<string[]> {
  const names = await readdir(join(objects, 'pack')).catch(() => [] as string[]);
  const set = new Set(names);
  return names.filter((n) => n.endsWith('.pack') && set.has(n.replace(/\.pack$/, '.idx'))).map((n) => n.replace(/\.pack$/, ''));
}

async function readState(path: string): Promise<State> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as State;
  } catch {
    return {};
  }
}

async function packObjects(cwd: string, objects: string, oids: string[]): Promise<string> {
  const out = await git(['pack-objects', '-q', '--delta-base-offset', `--depth=${DEPTH}`, join(objects, 'pack', 'pack')], { cwd, input: oids.join('\n') + '\n' });
  return `pack-${out.stdout.toString('utf8').trim()}`;
}

/**
 * Packs loose objects when they pass a threshold (see the module comment). Cheap when
 * there is nothing to do: one directory listing of `.git/objects`.
 */
export async function maintain(cwd: string, gitDir: string, opts: { force?: boolean } = {}): Promise<MaintainResult> {
  const t0 = Date.now();
  const objects = join(gitDir, 'objects');
  const loose = await looseObjects(objects);
  const none: MaintainResult = { packed: 0, rolledUp: false, ms: 0 };
  if (loose.oids.length === 0 || (!opts.force && loose.oids.length < LOOSE_COUNT_MAX && loose.bytes < LOOSE_BYTES_MAX)) return { ...none, ms: Date.now() - t0 };

  const statePath = join(gitDir, 'mailgit', 'maintain.json');
  const state = await readState(statePath);
  const packs = await packNames(objects);
  let history = state.historyPack && packs.includes(state.historyPack) ? state.historyPack : undefined;
  if (history && (await stat(join(objects, 'pack', `${history}.pack`))).size > HISTORY_MAX) history = undefined;

  // Every loose object joins the history pack, whose old objects are copied as they are
  // (deltas reused); new tree versions are searched for a delta against the old ones.
  const historyOids = [...loose.oids];
  if (history) {
    const idx = (await git(['show-index'], { cwd, input: await readFile(join(objects, 'pack', `${history}.idx`)) })).stdout.toString('utf8');
    for (const line of idx.split('\n')) {
      const oid = line.split(' ')[1];
      if (oid) historyOids.push(oid);
    }
  }
  const newHistory = await packObjects(cwd, objects, historyOids);
  await writeFileAtomic(statePath, JSON.stringify({ historyPack: newHistory } satisfies State), 0o600);
  if (history && newHistory !== history) {
    for (const ext of ['.idx', '.pack', '.rev']) await rm(join(objects, 'pack', history + ext), { force: true });
  }
  await git(['prune-packed', '-q'], { cwd });

  let rolledUp = false;
  if ((await packNames(objects)).length > PACKS_MAX) {
    await git(['repack', '-d', '-q', '--geometric=2'], { cwd });
    rolledUp = true;
  }
  return { packed: loose.oids.length, rolledUp, ms: Date.now() - t0 };
}
