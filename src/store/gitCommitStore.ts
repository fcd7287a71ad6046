/**
 * The {@link CommitStore} of a real repository, on batched git plumbing.
 */
import { git, gitText } from '../git/run.js';
import { diffTrees } from '../git/diff.js';
import { EMPTY_TREE, editTree } from '../git/tree.js';
import { commitTree, formatMessage, treeOf } from '../git/commit.js';
import { readHistory, readStamp } from '../git/stamps.js';
import type { Stamp } from '../maildir/snapshot.js';
import type { CommitStore, PathChange, TreeEdit } from './commitStore.js';

/** Opens the commit store of the repository at `cwd`. */
export function gitCommitStore(cwd: string): CommitStore {
  return {
    diff: (from: string | null, to: string): Promise<PathChange[]> => diffTrees(cwd, from ?? EMPTY_TREE, to),
    isAncestor: async (a: string, b: string) => (await git(['merge-base', '--is-ancestor', a, b], { cwd, okCodes: [1] })).code === 0,
    mergeBases: async (a: string, b: string) =>
      (await git(['merge-base', '--all', a, b], { cwd, okCodes: [1] })).stdout.toString('utf8').split('\n').filter(Boolean),
    stamp: (commit: string): Promise<Stamp> => readStamp(cwd, commit),
    history: (head: string, exclude: readonly string[], keys: readonly string[]) => readHistory(cwd, head, exclude, keys),
    treeOf: (commit: string) => treeOf(cwd, commit),
    editTree: (base: string | null, edits: TreeEdit[]) => editTree(cwd, base, edits),
    writeBlob: (content: string | Uint8Array) => gitText(['hash-object', '-w', '--no-filters', '--stdin'], { cwd, input: Buffer.from(content) }),
    readBlob: async (oid: string) => (await git(['cat-file', 'blob', oid], { cwd })).stdout,
    blobSizes: async (oids: string[]) => {
      if (oids.length === 0) return [];
      const out = (await git(['cat-file', '--batch-check=%(objecttype) %(objectsize)'], { cwd, input: `${oids.join('\n')}\n` })).stdout.toString('utf8');
      return out
        .trim()
        .split('\n')
        .map((l) => {
          const [type, size] = l.split(' ');
          return type === 'blob' ? Number(size) : null;
        });
    },
    commit: (tree: string, parents: string[], subject: string, body: string, stamp: Stamp | null, time?: number) =>
      commitTree(cwd, tree, parents, stamp === null ? formatMessage(subject, body) : formatMessage(subject, body, stamp), time),
  };
}
