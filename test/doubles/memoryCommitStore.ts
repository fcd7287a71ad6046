/**
 * A {@link CommitStore} held in memory: the same behaviour as the git one (blob ids are
 * git's; tree and commit ids are content hashes of their own), for tests that run
 * thousands of syncs in seconds.
 */
import { createHash } from 'node:crypto';
import type { Stamp } from '../../src/maildir/snapshot.js';
import { clockBehind } from '../../src/merge/clock.js';
import { changeNamesOf } from '../../src/merge/identity.js';
import type { ClockRecord } from '../../src/merge/clock.js';
import type { CommitStore, HistoryCommit, PathChange, TreeEdit } from '../../src/store/commitStore.js';

type Tree = Map<string, { mode: string; oid: string }>;

interface Commit extends ClockRecord {
  tree: string;
  parents: string[];
  /** The trailers; null for a commit without them. */
  stamp: Stamp | null;
  /** Commit time, ms. */
  time: number;
  message: string;
}

function sha1(s: string | Uint8Array): string {
  return createHash('sha1').update(s).digest('hex');
}

/** Returns git's blob id of `content`. */
export function gitBlobId(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

/** The in-memory store; `commits` is exposed for tests that inspect history. */
export class MemoryCommitStore implements CommitStore {
  readonly blobs = new Map<string, Buffer>();
  readonly trees = new Map<string, Tree>();
  readonly commits = new Map<string, Commit>();

  private tree(id: string | null): Tree {
    if (id === null) return new Map();
    const c = this.commits.get(id);
    const t = this.trees.get(c ? c.tree : id);
    if (!t) throw new Error(`no such tree or commit: ${id}`);
    return t;
  }

  private ancestors(id: string): Set<string> {
    const seen = new Set<string>();
    const stack = [id];
    while (stack.length > 0) {
      const c = stack.pop()!;
      if (seen.has(c)) continue;
      seen.add(c);
      stack.push(...(this.commits.get(c)?.parents ?? []));
    }
    return seen;
  }

  /** {@inheritDoc CommitStore.diff} */
  async diff(from: string | null, to: string): Promise<PathChange[]> {
    const a = this.tree(from);
    const b = this.tree(to);
    const out: PathChange[] = [];
    for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
      const x = a.get(path);
      const y = b.get(path);
      if (x && y && x.oid === y.oid && x.mode === y.mode) continue;
      out.push({ path, oldMode: x?.mode ?? null, oldOid: x?.oid ?? null, newMode: y?.mode ?? null, newOid: y?.oid ?? null });
    }
    return out;
  }

  /** {@inheritDoc CommitStore.isAncestor} */
  async isAncestor(a: string, b: string): Promise<boolean> {
    return this.ancestors(b).has(a);
  }

  /** {@inheritDoc CommitStore.mergeBases} */
  async mergeBases(a: string, b: string): Promise<string[]> {
    const ancA = this.ancestors(a);
    const common = [...this.ancestors(b)].filter((c) => ancA.has(c));
    // Best common ancestors: those that are not an ancestor of another common one.
    const best = common.filter((c) => !common.some((o) => o !== c && this.ancestors(o).has(c)));
    return best.sort();
  }

  /** {@inheritDoc CommitStore.stamp} */
  async stamp(commit: string): Promise<Stamp> {
    const c = this.commits.get(commit);
    if (!c) throw new Error(`no such commit: ${commit}`);
    return c.stamp !== null ? { ...c.stamp, commit } : { clock: clockBehind(commit, this.commits), replica: '', commit };
  }

  /** {@inheritDoc CommitStore.history} */
  async history(head: string, exclude: readonly string[], keys: readonly string[]): Promise<HistoryCommit[]> {
    const out = new Set<string>();
    for (const e of exclude) for (const a of this.ancestors(e)) out.add(a);
    const wanted = new Set(keys);
    const touched = async (from: string | null, to: string): Promise<string[]> =>
      [...new Set((await this.diff(from, to)).flatMap((c) => changeNamesOf(c.path)).filter((k) => wanted.has(k)))].sort();
    const list: HistoryCommit[] = [];
    for (const id of [...this.ancestors(head)].filter((a) => !out.has(a)).sort()) {
      const c = this.commits.get(id)!;
      const perParent = c.parents.length === 0 ? [await touched(null, id)] : await Promise.all(c.parents.map((p) => touched(p, id)));
      list.push({ commit: id, parents: [...c.parents], stamp: await this.stamp(id), time: c.time, touched: perParent });
    }
    return list;
  }

  /** {@inheritDoc CommitStore.treeOf} */
  async treeOf(commit: string): Promise<string> {
    const c = this.commits.get(commit);
    if (!c) throw new Error(`no such commit: ${commit}`);
    return c.tree;
  }

  /** {@inheritDoc CommitStore.editTree} */
  async editTree(base: string | null, edits: TreeEdit[]): Promise<string> {
    const t: Tree = new Map(this.tree(base));
    for (const e of edits) {
      if (e.oid === null) t.delete(e.path);
      else t.set(e.path, { mode: e.mode ?? '100644', oid: e.oid });
    }
    const id = sha1(JSON.stringify([...t].sort(([x], [y]) => (x < y ? -1 : 1))));
    this.trees.set(id, t);
    return id;
  }

  /** {@inheritDoc CommitStore.writeBlob} */
  async writeBlob(content: string | Uint8Array): Promise<string> {
    const buf = Buffer.from(content);
    const id = gitBlobId(buf);
    this.blobs.set(id, buf);
    return id;
  }

  /** {@inheritDoc CommitStore.readBlob} */
  async readBlob(oid: string): Promise<Buffer> {
    const b = this.blobs.get(oid);
    if (!b) throw new Error(`no such blob: ${oid}`);
    return b;
  }

  /** {@inheritDoc CommitStore.blobSizes} */
  async blobSizes(oids: string[]): Promise<(number | null)[]> {
    return oids.map((o) => this.blobs.get(o)?.length ?? null);
  }

  /** {@inheritDoc CommitStore.commit} */
  async commit(tree: string, parents: string[], subject: string, body: string, stamp: Stamp | null, time = 0): Promise<string> {
    const message = `${subject}\n\n${body}`;
    const trailers = stamp === null ? null : { clock: stamp.clock, replica: stamp.replica };
    const id = sha1(JSON.stringify([tree, parents, trailers, time, message]));
    this.commits.set(id, { tree, parents: [...parents], stamp: trailers, clock: trailers?.clock ?? null, time, message });
    return id;
  }
}
