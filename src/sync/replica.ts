/**
 * What the sync loop (`sync.ts`) runs on: a replica's history port (history, refs,
 * remotes) and its Maildir side (record what clients did, apply a merged commit). A real
 * repository gives git and the file system ({@link gitReplica}); the loop's property test
 * gives in-memory twins.
 */
import type { Layout } from '../maildir/layout.js';
import { applyCommit } from '../repo/apply.js';
import { record } from '../repo/record.js';
import type { LockedRepo } from '../repo/lock.js';
import type { CommitStore, PathChange } from '../store/commitStore.js';
import { gitCommitStore } from '../store/gitCommitStore.js';
import { gitRemotes } from './remotes.js';
import { restoredBetween } from './describeDiff.js';

/** A merged commit to check out over the current head. */
export interface Checkout {
  /** The head the Maildir holds now. */
  from: string;
  to: string;
  /** The diff from `from` to `to`. */
  changes: PathChange[];
  /** Who the change comes from, for error lines and notes. */
  origin: string;
}

/** The Maildir side of a replica. */
export interface Worktree {
  /** Records what clients changed since the last record (`message`: the subject); the per-folder lines, none when nothing changed. */
  record(message?: string): Promise<string[]>;
  /** Writes `to` into the Maildir and moves the branch from `from` to it; returns what a person should hear. */
  apply(checkout: Checkout): Promise<string[]>;
}

/** One replica as sync sees it. */
export interface SyncReplica {
  store: CommitStore;
  worktree: Worktree;
  layout: Layout;
  /** The replica's name, for merge stamps. */
  replica: string;
  /** The replica's id, which names its incoming refs on peers. */
  id: string;
  /**
   * How many messages the commits in `from..to` restored, per folder (describeDiff.ts);
   * without it, every message that arrives is said as delivered.
   */
  restored?(from: string | null, to: string): Promise<ReadonlyMap<string, number>>;
}

/** The replica of a real repository, whose lock the caller holds. */
export function gitReplica(repo: LockedRepo): SyncReplica {
  return {
    store: { ...gitCommitStore(repo.root), ...gitRemotes(repo.root) },
    worktree: {
      record: async (message) => (await record(repo, message === undefined ? {} : { message }))?.summary ?? [],
      apply: async ({ from, to, changes, origin }) => (await applyCommit(repo, { from, to, changes, origin })).notes,
    },
    layout: repo.layout,
    replica: repo.replica,
    id: repo.id,
    restored: (from, to) => restoredBetween(repo.root, from, to),
  };
}
