/**
 * `git diff-tree -r -z` between two trees: the changed paths with both sides' mode and
 * blob, the input of merge and apply; whole ({@link diffTrees}) or in batches as git
 * writes it ({@link diffBatches}).
 */
import { git, gitRecords } from './run.js';
import type { PathChange } from '../store/types.js';

export type { PathChange } from '../store/types.js';

const ZERO = /^0+$/;

/** Two tree-ishes to compare, and optionally the pathspecs to compare them under. */
export interface TreeRange {
  from: string;
  to: string;
  paths?: readonly string[];
}

function diffArgs({ from, to, paths = [] }: TreeRange): string[] {
  return ['diff-tree', '-r', '-z', '--no-renames', '--no-abbrev', from, to, ...(paths.length ? ['--', ...paths] : [])];
}

/** Reads `:META\0PATH\0` record pairs into changes; a record pair split between two batches is carried over. */
class DiffParser {
  private meta: string | null = null;

  /** The changes completed by `records` (the next records of git's output). */
  take(records: string[]): PathChange[] {
    const changes: PathChange[] = [];
    for (const rec of records) {
      if (this.meta === null) {
        if (rec.startsWith(':')) this.meta = rec;
        continue;
      }
      const [oldMode, newMode, oldOid, newOid] = this.meta.slice(1).split(' ');
      this.meta = null;
      changes.push({
        path: rec,
        oldMode: ZERO.test(oldMode!) ? null : oldMode!,
        oldOid: ZERO.test(oldOid!) ? null : oldOid!,
        newMode: ZERO.test(newMode!) ? null : newMode!,
        newOid: ZERO.test(newOid!) ? null : newOid!,
      });
    }
    return changes;
  }
}

/** Lists the paths that differ between two tree-ishes (no rename detection), or only those matching the pathspecs `paths`. */
export async function diffTrees(cwd: string, range: TreeRange): Promise<PathChange[]> {
  const out = (await git(diffArgs(range), { cwd })).stdout.toString('utf8');
  const fields = out.split('\0');
  if (fields.at(-1) === '') fields.pop();
  return new DiffParser().take(fields);
}

/**
 * The paths that differ between two tree-ishes, as {@link diffTrees} lists them, in
 * batches of at most `size` while git writes them: a diff of 100,000 paths is never
 * held whole. Stopping early ends git.
 */
export async function* diffBatches(cwd: string, { from, to }: TreeRange, size: number): AsyncGenerator<PathChange[]> {
  const parser = new DiffParser();
  let batch: PathChange[] = [];
  for await (const records of gitRecords(diffArgs({ from, to }), { cwd })) {
    for (const c of parser.take(records)) {
      batch.push(c);
      if (batch.length < size) continue;
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
