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
import type { Progress } from '../fetch/progress.js';
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

/**
 * The progress bars a sync shows on a terminal (src/fetch/progress.ts), for the steps that
 * can take more than a second: git's transfers, the files an apply writes, the new
 * messages a record reads.
 */
export interface SyncBars {
  /** A bar following git's own `--progress` lines for one transfer. */
  git(label: string): { onStderr: (text: string) => void; stop: () => void };
  /** A bar counting files (shown only for work big enough to wait for). */
  files(label: string): Progress;
}

/** Runs `step` with a files bar (or none), and takes the bar away after it. */
async function withBar<T>(bars: SyncBars | undefined, label: string, step: (bar: Progress | undefined) => Promise<T>): Promise<T> {
  const bar = bars?.files(label);
  try {
    return await step(bar);
  } finally {
    bar?.stop();
  }
}

/** The replica of a real repository, whose lock the caller holds; `bars` when a person watches. */
export function gitReplica(repo: LockedRepo, bars?: SyncBars): SyncReplica {
  return {
    store: { ...gitCommitStore(repo.root), ...gitRemotes(repo.root, bars) },
    worktree: {
      record: async (message) =>
        (await withBar(bars, 'sync: record', (progress) => record(repo, { ...(message === undefined ? {} : { message }), progress })))?.summary ?? [],
      apply: async ({ from, to, changes, origin }) =>
        (await withBar(bars, `sync: apply from ${origin}`, (progress) => applyCommit(repo, { from, to, changes, origin, progress }))).notes,
    },
    layout: repo.layout,
    replica: repo.replica,
    id: repo.id,
    restored: (from, to) => restoredBetween(repo.root, from, to),
  };
}
