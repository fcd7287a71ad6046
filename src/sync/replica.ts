/**
 * What the sync loop (`sync.ts`) runs on: a replica's history port (history, refs,
 * remotes) and its Maildir side (record what clients did, apply a merged commit). A real
 * repository gives git and the file system ({@link gitReplica}); the loop's property test
 * gives in-memory twins.
 */
import type { Layout } from '../maildir/layout.js';
import { applyCommit } from '../repo/apply.js';
import { previewRecord, record, recordDroppedEdits } from '../repo/record.js';
import type { LockedRepo } from '../repo/lock.js';
import { MAIN } from '../store/commitStore.js';
import type { CommitStore, PathChange, RefEntry, RefTarget } from '../store/commitStore.js';
import { RaceError } from '../util/errors.js';
import { INCOMING } from './remoteStatus.js';
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
  /**
   * Records the edits in place not recorded yet in the messages an apply of `changes`
   * would overwrite or remove; true when it recorded (HEAD moved: the merge is made again).
   */
  recordEdits(changes: readonly PathChange[]): Promise<boolean>;
  /** Writes `to` into the Maildir and moves the branch from `from` to it; returns what a person should hear. */
  apply(checkout: Checkout): Promise<string[]>;
  /**
   * What `record` would commit now, as a commit in the object store that no ref points to,
   * with its per-folder lines; null when nothing changed. Moves nothing (a dry run).
   */
  preview(): Promise<{ commit: string; summary: string[] } | null>;
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
      recordEdits: async (changes) => (await recordDroppedEdits(repo, changes)) !== null,
      apply: async ({ from, to, changes, origin }) =>
        (await withBar(bars, `sync: apply from ${origin}`, (progress) => applyCommit(repo, { from, to, changes, origin, progress }))).notes,
      preview: () => previewRecord(repo),
    },
    layout: repo.layout,
    replica: repo.replica,
    id: repo.id,
    restored: (from, to) => restoredBetween(repo.root, from, to),
  };
}

/** The refs a plan moves in memory only: the branch and the incoming refs peers pushed. */
function planned(ref: string): boolean {
  return ref === MAIN || ref.startsWith(INCOMING);
}

/**
 * `store` with {@link MAIN} and the incoming refs moved in memory only and pushes
 * answered as taken: what the sync loop writes to the object store, and the fetched and
 * remote-tracking refs its fetches move, stay real.
 */
function unappliedStore(store: CommitStore): CommitStore {
  const moved = new Map<string, string | null>();
  const readRef = async (ref: string): Promise<RefTarget | null> => {
    const name = ref === 'HEAD' ? MAIN : ref;
    if (!moved.has(name)) return store.readRef(ref);
    const oid = moved.get(name)!;
    return oid === null ? null : { oid, type: 'commit' };
  };
  const move = async (ref: string, oid: string | null, expected: string | null | undefined): Promise<boolean> => {
    if (expected !== undefined && ((await readRef(ref))?.oid ?? null) !== expected) return false;
    moved.set(ref, oid);
    return true;
  };
  const own: Partial<CommitStore> = {
    readRef,
    updateRef: (ref, oid, expected) => (planned(ref) ? move(ref, oid, expected) : store.updateRef(ref, oid, expected)),
    deleteRef: (ref, expected) => (planned(ref) ? move(ref, null, expected) : store.deleteRef(ref, expected)),
    listRefs: async (...prefixes) => {
      const real = await store.listRefs(...prefixes);
      const all = new Map(real.map((e) => [e.ref, e as RefEntry | null]));
      for (const [ref, oid] of moved) {
        if (prefixes.some((p) => (p.endsWith('/') ? ref.startsWith(p) : ref === p))) all.set(ref, oid === null ? null : { ref, oid, type: 'commit' });
      }
      return [...all.values()].filter((e): e is RefEntry => e !== null).sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
    },
    push: async () => 'pushed',
  };
  // Every other method is the store's own, called on it (a class's methods live on its prototype).
  return new Proxy(store, {
    get: (target, prop) => {
      if (Object.hasOwn(own, prop)) return own[prop as keyof CommitStore];
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Replica `real` for a dry run: the sync loop runs on it unchanged, so its report is the
 * plan the real run carries out. The record is the worktree's `preview` (a commit in the
 * object store only: {@link previewRecord} for a real repository), applies and the branch
 * move in memory, pushes are taken as accepted, and the Maildir, the branch and the peers
 * are left as they are.
 */
export function unappliedReplica(real: SyncReplica): SyncReplica {
  const store = unappliedStore(real.store);
  let recorded = false;
  return {
    ...real,
    store,
    worktree: {
      record: async () => {
        if (recorded) return [];
        recorded = true;
        const preview = await real.worktree.preview();
        if (preview) await store.updateRef(MAIN, preview.commit);
        return preview?.summary ?? [];
      },
      // A dry run writes over nothing: the edits a real sync would record first are not in its plan.
      recordEdits: async () => false,
      apply: async ({ from, to }) => {
        if (!(await store.updateRef(MAIN, to, from))) throw new RaceError('the branch moved in a dry run');
        return [];
      },
      preview: async () => null,
    },
  };
}
