/**
 * The history and refs of a real repository ({@link HistoryStore}, {@link RefStore}), on
 * batched git plumbing. Its remote role is git's transport (`src/sync/remotes.ts`:
 * `gitRemotes`), which sync adds to make the whole `CommitStore`.
 */
import { git, gitText } from '../git/run.js';
import { diffTrees } from '../git/diff.js';
import { EMPTY_TREE, editTree } from '../git/tree.js';
import { commitTree, formatMessage, readHead, treeOf } from '../git/commit.js';
import { readHistory, readStamp } from '../git/stamps.js';
import type { Stamp } from '../maildir/snapshot.js';
import type { HistoryStore, NewCommit, PathChange, RefEntry, RefStore, RefTarget, TreeEdit } from './commitStore.js';

const ZERO_ID = '0'.repeat(40);

/** Opens the history and refs of the repository at `cwd`. */
export function gitCommitStore(cwd: string): HistoryStore & RefStore {
  return { ...gitHistory(cwd), ...gitRefs(cwd) };
}

function gitHistory(cwd: string): HistoryStore {
  return {
    diff: (from: string | null, to: string): Promise<PathChange[]> => diffTrees(cwd, { from: from ?? EMPTY_TREE, to }),
    isAncestor: async (a: string, b: string) => (await git(['merge-base', '--is-ancestor', a, b], { cwd, okCodes: [1] })).code === 0,
    mergeBases: async (a: string, b: string) =>
      (await git(['merge-base', '--all', a, b], { cwd, okCodes: [1] })).stdout.toString('utf8').split('\n').filter(Boolean),
    stamp: (commit: string): Promise<Stamp> => readStamp(cwd, commit),
    history: (head: string, exclude: readonly string[], keys: readonly string[]) => readHistory(cwd, { head, exclude, keys }),
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
    commit: ({ tree, parents, subject, body = '', stamp, time }: NewCommit) =>
      commitTree(cwd, { tree, parents, message: stamp === null ? formatMessage(subject, body) : formatMessage(subject, body, stamp), time }),
  };
}

async function listRefs(cwd: string, prefixes: string[]): Promise<RefEntry[]> {
  const out = (await git(['for-each-ref', '--format=%(refname) %(objectname) %(objecttype)', ...prefixes], { cwd })).stdout.toString('utf8');
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [ref, oid, type] = l.split(' ') as [string, string, string];
      return { ref, oid, type };
    });
}

function gitRefs(cwd: string): RefStore {
  const readRef = async (ref: string): Promise<RefTarget | null> => {
    const found =
      ref === 'HEAD' ? await readHead(cwd).then((oid) => oid && { ref, oid, type: 'commit' }) : (await listRefs(cwd, [ref])).find((r) => r.ref === ref);
    return found ? { oid: found.oid, type: found.type } : null;
  };
  /** Runs an update-ref that names the old value; a refusal because the ref moved is `false`. */
  const swap = async (ref: string, args: string[], expected: string | null): Promise<boolean> => {
    try {
      await git(['update-ref', ...args], { cwd });
      return true;
    } catch (e) {
      if (((await readRef(ref))?.oid ?? null) !== expected) return false;
      throw e;
    }
  };
  return {
    readRef,
    updateRef: async (ref: string, oid: string, expected?: string | null) => {
      if (expected !== undefined) return swap(ref, [ref, oid, expected ?? ZERO_ID], expected);
      await git(['update-ref', ref, oid], { cwd });
      return true;
    },
    listRefs: (...prefixes: string[]) => listRefs(cwd, prefixes),
    deleteRef: (ref: string, expected: string) => swap(ref, ['-d', ref, expected], expected),
  };
}
