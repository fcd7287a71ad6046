/**
 * A {@link CommitStore} held in memory: the same behaviour as the git one (blob ids are
 * git's; tree and commit ids are content hashes of their own), for tests that run
 * thousands of syncs in seconds. Repositories on one {@link MemoryNetwork} share their
 * objects (ids are content hashes, so that is what fetching them all would give) and reach
 * each other by URL; each has refs of its own.
 */
import { createHash } from 'node:crypto';
import type { Stamp } from '../../src/maildir/snapshot.js';
import { clockBehind } from '../../src/merge/clock.js';
import { changeNamesOf } from '../../src/merge/identity.js';
import type { ClockRecord } from '../../src/merge/clock.js';
import { MAIN } from '../../src/store/commitStore.js';
import type { CommitStore, HistoryCommit, NewCommit, PathChange, PushResult, RefEntry, RefTarget, Remote, TreeEdit } from '../../src/store/commitStore.js';
import { UnavailableError } from '../../src/util/errors.js';

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

/** The objects of one or more in-memory repositories. */
export class MemoryObjects {
  readonly blobs = new Map<string, Buffer>();
  readonly trees = new Map<string, Tree>();
  readonly commits = new Map<string, Commit>();

  /** The type of object `oid`, or null when there is none. */
  typeOf(oid: string): string | null {
    return this.commits.has(oid) ? 'commit' : this.trees.has(oid) ? 'tree' : this.blobs.has(oid) ? 'blob' : null;
  }
}

/** Repositories that reach each other by URL; `delay` runs before every ref move and transfer (tests interleave concurrent syncs there). */
export class MemoryNetwork {
  readonly objects = new MemoryObjects();
  private readonly repos = new Map<string, MemoryCommitStore>();
  delay: () => Promise<void> = async () => undefined;

  /** Makes a repository at `url`; a `checkedOut` one has its branch checked out and refuses pushes to it, as git does. */
  repo(url: string, checkedOut = false): MemoryCommitStore {
    const r = new MemoryCommitStore({ network: this, checkedOut });
    this.repos.set(url, r);
    return r;
  }

  /** The repository at `url`. */
  at(url: string): MemoryCommitStore {
    const r = this.repos.get(url);
    if (!r) throw new UnavailableError(`no repository at ${url}`);
    return r;
  }
}

/** One parsed refspec `+SRC:DST` (`prefix`: both ended in `*`). */
function parseRefspec(spec: string): { src: string; dst: string; prefix: boolean } {
  const [src, dst] = spec.replace(/^\+/, '').split(':') as [string, string];
  const prefix = src.endsWith('*');
  return { src: src.replace(/\*$/, ''), dst: dst.replace(/\*$/, ''), prefix };
}

/** The in-memory store; `commits` is exposed for tests that inspect history. */
export class MemoryCommitStore implements CommitStore {
  readonly refs = new Map<string, string>();
  private readonly objects: MemoryObjects;
  private readonly network: MemoryNetwork | null;
  private readonly checkedOut: boolean;

  /** A repository of its own, or one on `network` (see {@link MemoryNetwork.repo}). */
  constructor(opts: { network?: MemoryNetwork; checkedOut?: boolean } = {}) {
    this.network = opts.network ?? null;
    this.objects = this.network?.objects ?? new MemoryObjects();
    this.checkedOut = opts.checkedOut ?? false;
  }

  /** The commits of this store's objects. */
  get commits(): Map<string, Commit> {
    return this.objects.commits;
  }

  private get blobs(): Map<string, Buffer> {
    return this.objects.blobs;
  }

  private get trees(): Map<string, Tree> {
    return this.objects.trees;
  }

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
  async commit({ tree, parents, subject, body = '', stamp, time = 0 }: NewCommit): Promise<string> {
    const message = `${subject}\n\n${body}`;
    const trailers = stamp === null ? null : { clock: stamp.clock, replica: stamp.replica };
    const id = sha1(JSON.stringify([tree, parents, trailers, time, message]));
    this.commits.set(id, { tree, parents: [...parents], stamp: trailers, clock: trailers?.clock ?? null, time, message });
    return id;
  }

  /** {@inheritDoc CommitStore.readRef} */
  async readRef(ref: string): Promise<RefTarget | null> {
    const oid = this.refs.get(ref === 'HEAD' ? MAIN : ref);
    const type = oid === undefined ? null : this.objects.typeOf(oid);
    if (oid === undefined || type === null || (ref === 'HEAD' && type !== 'commit')) return null;
    return { oid, type };
  }

  /** {@inheritDoc CommitStore.updateRef} */
  async updateRef(ref: string, oid: string, expected?: string | null): Promise<boolean> {
    await this.network?.delay();
    if (expected !== undefined && (this.refs.get(ref) ?? null) !== expected) return false;
    this.refs.set(ref, oid);
    return true;
  }

  /** {@inheritDoc CommitStore.listRefs} */
  async listRefs(...prefixes: string[]): Promise<RefEntry[]> {
    const wanted = (ref: string) => prefixes.length === 0 || prefixes.some((p) => (p.endsWith('/') ? ref.startsWith(p) : ref === p || ref.startsWith(`${p}/`)));
    return [...this.refs]
      .filter(([ref]) => wanted(ref))
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([ref, oid]) => ({ ref, oid, type: this.objects.typeOf(oid) ?? 'missing' }));
  }

  /** {@inheritDoc CommitStore.deleteRef} */
  async deleteRef(ref: string, expected: string): Promise<boolean> {
    await this.network?.delay();
    if (this.refs.get(ref) !== expected) return false;
    this.refs.delete(ref);
    return true;
  }

  private remote(remote: Remote): MemoryCommitStore {
    if (!this.network) throw new UnavailableError(`remote ${remote.name}: this store is on no network`);
    return this.network.at(remote.url);
  }

  /** {@inheritDoc CommitStore.fetch} */
  async fetch(remote: Remote, refspecs: string[]): Promise<boolean> {
    await this.network?.delay();
    const there = this.remote(remote);
    const specs = refspecs.map(parseRefspec);
    if (specs[0] && !specs[0].prefix && !there.refs.has(specs[0].src)) return false;
    for (const { src, dst, prefix } of specs) {
      if (!prefix) {
        const oid = there.refs.get(src);
        if (oid !== undefined) this.refs.set(dst, oid);
        continue;
      }
      for (const ref of [...this.refs.keys()]) if (ref.startsWith(dst) && !there.refs.has(src + ref.slice(dst.length))) this.refs.delete(ref);
      for (const [ref, oid] of there.refs) if (ref.startsWith(src)) this.refs.set(dst + ref.slice(src.length), oid);
    }
    return true;
  }

  /** {@inheritDoc CommitStore.push} */
  async push(remote: Remote, ref: string): Promise<PushResult> {
    await this.network?.delay();
    const there = this.remote(remote);
    const ours = this.refs.get(MAIN);
    if (ours === undefined) throw new UnavailableError(`remote ${remote.name}: nothing to push`);
    const theirs = there.refs.get(ref);
    if (theirs !== undefined && !(await this.isAncestor(theirs, ours))) return 'rejected';
    if (there.checkedOut && ref === MAIN) return 'checked-out';
    there.refs.set(ref, ours);
    return 'pushed';
  }
}
