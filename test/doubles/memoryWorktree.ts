/**
 * A Maildir held in memory, the {@link Worktree} of a replica whose history is a
 * {@link MemoryCommitStore}: a map of paths to blobs that a test changes as a mail client
 * would, recorded into commits (each stamped with the replica's clock) and written by
 * `apply` as the real apply does when no client works meanwhile. Each record tells
 * `onRecord` which message keys it changed and which it removed, for tests that follow a
 * message through history.
 */
import { parseMessagePath } from '../../src/maildir/name.js';
import { nextClock } from '../../src/merge/clock.js';
import { MAIN } from '../../src/store/commitStore.js';
import type { CommitStore, TreeEdit } from '../../src/store/commitStore.js';
import type { Checkout, Worktree } from '../../src/sync/replica.js';
import { RaceError } from '../../src/util/errors.js';

/** What one record committed: the keys whose files changed, and those no file has any more. */
export interface Recorded {
  commit: string;
  changed: Set<string>;
  removed: Set<string>;
}

/** The keys of the message files among `paths`. */
function keysOf(paths: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const p of paths) {
    const m = parseMessagePath(p);
    if (m) out.add(m.key);
  }
  return out;
}

/** An in-memory Maildir over `store`; `wall` is the replica's clock. */
export class MemoryWorktree implements Worktree {
  /** Path → blob id: what a mail client sees. */
  readonly files = new Map<string, string>();

  constructor(
    private readonly store: CommitStore,
    private readonly replica: string,
    private readonly wall: () => number,
    private readonly onRecord: (r: Recorded) => void = () => undefined,
  ) {}

  /** The commit a record with `message` would make, in the store only, with what it changes; null when nothing changed. */
  private async commitFiles(message: string): Promise<{ head: string | null; commit: string; edits: TreeEdit[]; before: Map<string, string> } | null> {
    const head = (await this.store.readRef('HEAD'))?.oid ?? null;
    const before = new Map(head ? (await this.store.diff(null, head)).map((c) => [c.path, c.newOid!] as const) : []);
    const edits: TreeEdit[] = [...before.keys()].filter((p) => !this.files.has(p)).map((path) => ({ path, oid: null }));
    for (const [path, oid] of this.files) if (before.get(path) !== oid) edits.push({ path, oid });
    if (edits.length === 0) return null;
    const clock = nextClock(head ? (await this.store.stamp(head)).clock : 0, this.wall());
    const tree = await this.store.editTree(head, edits);
    const commit = await this.store.commit({ tree, parents: head ? [head] : [], subject: message, stamp: { clock, replica: this.replica }, time: this.wall() });
    return { head, commit, edits, before };
  }

  /** {@inheritDoc Worktree.record} */
  async record(message = 'record'): Promise<string[]> {
    const made = await this.commitFiles(message);
    if (made === null) return [];
    const { head, commit, edits, before } = made;
    if (!(await this.store.updateRef(MAIN, commit, head))) throw new RaceError('the branch moved while recording');
    const left = keysOf(this.files.keys());
    this.onRecord({ commit, changed: keysOf(edits.map((e) => e.path)), removed: new Set([...keysOf(before.keys())].filter((k) => !left.has(k))) });
    return [`${edits.length} files changed`];
  }

  /** {@inheritDoc Worktree.preview} */
  async preview(): Promise<{ commit: string; summary: string[] } | null> {
    const made = await this.commitFiles('record');
    return made && { commit: made.commit, summary: [`${made.edits.length} files changed`] };
  }

  /** {@inheritDoc Worktree.recordEdits} Every record here sees every change, so none is left for this. */
  recordEdits(): Promise<boolean> {
    return Promise.resolve(false);
  }

  /** {@inheritDoc Worktree.apply} */
  async apply({ from, to, changes }: Checkout): Promise<string[]> {
    if (!(await this.store.updateRef(MAIN, to, from))) throw new RaceError('HEAD moved; nothing applied, sync again');
    for (const c of changes) {
      if (c.newOid === null) this.files.delete(c.path);
      else this.files.set(c.path, c.newOid);
    }
    return [];
  }
}
