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
import type { RepoPaths } from './run.js';
import { writeFileAtomic } from '../util/atomic.js';

/** Fold young packs (each record writes one) once there are this many ... */
export const YOUNG_COUNT_MAX = 16;
/** Pack loose objects once there are this many of them ... */
export const LOOSE_COUNT_MAX = 256;
/** ... or once they (or the young packs) take this many bytes (a few big tree versions). */
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
  const out = await git(['pack-objects', '-q', '--delta-base-offset', `--depth=${DEPTH}`, join(objects, 'pack', 'pack')], {
    cwd,
    input: `${oids.join('\n')}\n`,
  });
  return `pack-${out.stdout.toString('utf8').trim()}`;
}

/** Work that {@link maintain} would do: loose objects, and young packs (e.g. from recording). */
export interface PendingWork {
  loose: { oids: string[]; bytes: number };
  /** Packs smaller than the history pack's limit that are not the history pack. */
  young: string[];
  youngBytes: number;
  history: string | undefined;
}

/** Looks at `.git/objects` (one listing per directory) and says what packing is due. */
export async function pendingWork({ gitDir }: Pick<RepoPaths, 'gitDir'>): Promise<PendingWork> {
  const objects = join(gitDir, 'objects');
  const loose = await looseObjects(objects);
  const state = await readState(join(gitDir, 'mailgit', 'maintain.json'));
  const packs = await packNames(objects);
  const history = state.historyPack && packs.includes(state.historyPack) ? state.historyPack : undefined;
  const young: string[] = [];
  let youngBytes = 0;
  for (const p of packs) {
    if (
      p === history ||
      (await stat(join(objects, 'pack', `${p}.keep`)).then(
        () => true,
        () => false,
      ))
    )
      continue;
    const size = (await stat(join(objects, 'pack', `${p}.pack`)).catch(() => ({ size: Infinity }))).size;
    if (size < HISTORY_MAX) {
      young.push(p);
      youngBytes += size;
    }
  }
  return { loose, young, youngBytes, history };
}

/** True when {@link maintain} has something to do (see the module comment). */
export function isDue(w: PendingWork): boolean {
  return w.young.length >= YOUNG_COUNT_MAX || w.youngBytes >= LOOSE_BYTES_MAX || w.loose.oids.length >= LOOSE_COUNT_MAX || w.loose.bytes >= LOOSE_BYTES_MAX;
}

async function packOids(cwd: string, objects: string, pack: string): Promise<string[]> {
  const idx = (await git(['show-index'], { cwd, input: await readFile(join(objects, 'pack', `${pack}.idx`)) })).stdout.toString('utf8');
  const oids: string[] = [];
  for (const line of idx.split('\n')) {
    const oid = line.split(' ')[1];
    if (oid) oids.push(oid);
  }
  return oids;
}

/**
 * Folds loose objects and young packs into the history pack when due (see the module
 * comment). Cheap when there is nothing to do: a listing of `.git/objects`. The caller
 * makes sure only one maintenance runs at a time; recording may go on meanwhile (a pack
 * or loose object that appears during the run is left for the next one).
 */
export async function maintain(repo: RepoPaths, opts: { force?: boolean } = {}): Promise<MaintainResult> {
  const { root: cwd, gitDir } = repo;
  const t0 = Date.now();
  const objects = join(gitDir, 'objects');
  const work = await pendingWork(repo);
  const none: MaintainResult = { packed: 0, rolledUp: false, ms: 0 };
  const somethingToPack = work.loose.oids.length > 0 || work.young.length > 0;
  if (!somethingToPack || (!opts.force && !isDue(work))) return { ...none, ms: Date.now() - t0 };

  let history = work.history;
  if (history && (await stat(join(objects, 'pack', `${history}.pack`))).size > HISTORY_MAX) history = undefined;

  // Every loose object and young pack joins the history pack, whose old objects are
  // copied as they are (deltas reused); new tree versions are searched for a delta
  // against the old ones.
  const oids = [...work.loose.oids];
  const folded = history ? [history, ...work.young] : work.young;
  for (const p of folded) oids.push(...(await packOids(cwd, objects, p)));
  const newHistory = await packObjects(cwd, objects, [...new Set(oids)]);
  await writeFileAtomic(join(gitDir, 'mailgit', 'maintain.json'), JSON.stringify({ historyPack: newHistory } satisfies State), { mode: 0o600 });
  // The new pack is complete and fsynced (by git) before anything it replaces goes.
  for (const p of folded) {
    if (p === newHistory) continue;
    for (const ext of ['.idx', '.pack', '.rev']) await rm(join(objects, 'pack', p + ext), { force: true });
  }
  if (work.loose.oids.length > 0) await git(['prune-packed', '-q'], { cwd });

  let rolledUp = false;
  if ((await packNames(objects)).length > PACKS_MAX) {
    await git(['repack', '-d', '-q', '--geometric=2'], { cwd });
    rolledUp = true;
  }
  return { packed: oids.length, rolledUp, ms: Date.now() - t0 };
}
