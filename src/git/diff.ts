/**
 * `git diff-tree -r -z` between two trees: the changed paths with both sides' mode and
 * blob, the input of merge and apply.
 */
import { git } from './run.js';
import type { PathChange } from '../store/types.js';

export type { PathChange } from '../store/types.js';

const ZERO = /^0+$/;

/** Two tree-ishes to compare, and optionally the pathspecs to compare them under. */
export interface TreeRange {
  from: string;
  to: string;
  paths?: readonly string[];
}

/** Lists the paths that differ between two tree-ishes (no rename detection), or only those matching the pathspecs `paths`. */
export async function diffTrees(cwd: string, { from, to, paths = [] }: TreeRange): Promise<PathChange[]> {
  const out = (
    await git(['diff-tree', '-r', '-z', '--no-renames', '--no-abbrev', from, to, ...(paths.length ? ['--', ...paths] : [])], { cwd })
  ).stdout.toString('utf8');
  const fields = out.split('\0');
  const changes: PathChange[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const meta = fields[i]!;
    if (!meta.startsWith(':')) {
      i -= 1;
      continue;
    }
    const [oldMode, newMode, oldOid, newOid] = meta.slice(1).split(' ');
    changes.push({
      path: fields[i + 1]!,
      oldMode: ZERO.test(oldMode!) ? null : oldMode!,
      oldOid: ZERO.test(oldOid!) ? null : oldOid!,
      newMode: ZERO.test(newMode!) ? null : newMode!,
      newOid: ZERO.test(newOid!) ? null : newOid!,
    });
  }
  return changes;
}
