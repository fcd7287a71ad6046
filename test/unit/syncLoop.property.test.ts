/**
 * The whole sync loop (`syncReplica`: record, merge what peers pushed to our incoming refs,
 * then per remote fetch, admit, merge, apply, push, and again when a push is rejected) on
 * in-memory replicas: a bare hub, checked-out replicas that also sync with each other
 * (some advertising their worktree, some only refusing pushes to their branch), random
 * client changes, and syncs run several at once in random interleavings, so that pushes
 * race and are rejected. After everyone has synced with everyone: one tree everywhere,
 * every message no one deleted is there, and no deletion that no one contested is back.
 * And a dry run (`unappliedReplica`) of one replica's sync, made while no one else syncs,
 * reports what that sync then does.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryNetwork } from '../doubles/memoryCommitStore.js';
import type { MemoryCommitStore } from '../doubles/memoryCommitStore.js';
import { MemoryWorktree } from '../doubles/memoryWorktree.js';
import type { Recorded } from '../doubles/memoryWorktree.js';
import { syncReplica } from '../../src/sync/sync.js';
import type { SyncReport } from '../../src/sync/sync.js';
import { unappliedReplica } from '../../src/sync/replica.js';
import type { SyncReplica } from '../../src/sync/replica.js';
import { MAIN } from '../../src/store/commitStore.js';
import type { Remote } from '../../src/store/commitStore.js';
import { WORKTREE_REF } from '../../src/repo/identity.js';
import { parseMessagePath } from '../../src/maildir/name.js';
import { rng } from '../helpers/rng.mjs';

const N = 3;
const FOLDERS = ['INBOX', 'Archive', 'Trash'];

type Op =
  | { t: 'deliver'; r: number }
  | { t: 'seen' | 'move' | 'delete'; r: number; pick: number; folder: number }
  | { t: 'sync'; who: number[] }
  | { t: 'dry'; r: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('deliver' as const), r: fc.nat(N - 1) }),
  fc.record({
    t: fc.constantFrom('seen' as const, 'move' as const, 'delete' as const),
    r: fc.nat(N - 1),
    pick: fc.nat(50),
    folder: fc.nat(FOLDERS.length - 1),
  }),
  fc.record({ t: fc.constant('sync' as const), who: fc.uniqueArray(fc.nat(N - 1), { minLength: 1, maxLength: N }) }),
  fc.record({ t: fc.constant('dry' as const), r: fc.nat(N - 1) }),
);

/** Per replica: whether it also syncs with the next one, and whether it advertises its worktree. */
const topologyArb = fc.array(fc.record({ peer: fc.boolean(), marker: fc.boolean() }), { minLength: N, maxLength: N });

/** Counts over all runs, so the test can show that the racing paths ran. */
const seen = { rejectedRounds: 0, received: 0, dryRuns: 0 };

interface World {
  net: MemoryNetwork;
  hub: MemoryCommitStore;
  replicas: SyncReplica[];
  trees: MemoryWorktree[];
  remotes: Remote[][];
  records: Recorded[];
}

async function makeWorld(topology: { peer: boolean; marker: boolean }[], seed: number, clock: { now: number }): Promise<World> {
  const net = new MemoryNetwork();
  const next = rng(seed);
  net.delay = async () => {
    for (let k = Math.floor(next() * 4); k > 0; k--) await Promise.resolve();
  };
  const hub = net.repo('mem:hub');
  const markers = await hub.editTree(null, await Promise.all(FOLDERS.map(async (f) => ({ path: `${f}/maildirfolder`, oid: await hub.writeBlob('') }))));
  const root = await hub.commit({ tree: markers, parents: [], subject: 'init', stamp: { clock: 0, replica: 'r0' }, time: 0 });
  await hub.updateRef(MAIN, root);
  const records: Recorded[] = [];
  const replicas: SyncReplica[] = [];
  const trees: MemoryWorktree[] = [];
  const remotes: Remote[][] = [];
  for (let i = 0; i < N; i++) {
    const store = net.repo(`mem:r${i}`, true);
    await store.updateRef(MAIN, root);
    if (topology[i]!.marker) await store.updateRef(WORKTREE_REF, await store.writeBlob(''));
    const tree = new MemoryWorktree(
      store,
      `r${i}`,
      () => clock.now,
      (r) => records.push(r),
    );
    for (const c of await store.diff(null, root)) tree.files.set(c.path, c.newOid!);
    trees.push(tree);
    replicas.push({ store, worktree: tree, layout: 'fs', replica: `r${i}`, id: `id${i}` });
    remotes.push([{ name: 'hub', url: 'mem:hub' }, ...(topology[i]!.peer ? [{ name: 'peer', url: `mem:r${(i + 1) % N}` }] : [])]);
  }
  return { net, hub, replicas, trees, remotes, records };
}

/** A client's change on replica `op.r`'s Maildir. */
async function clientChange(w: World, op: Exclude<Op, { t: 'sync' | 'dry' }>, seq: number): Promise<void> {
  const files = w.trees[op.r]!.files;
  if (op.t === 'deliver') {
    files.set(`INBOX/new/m${seq}`, await w.replicas[op.r]!.store.writeBlob(`Subject: m${seq}\r\n\r\nbody ${seq}\r\n`));
    return;
  }
  const messages = [...files.keys()].filter((p) => parseMessagePath(p)).sort();
  if (messages.length === 0) return;
  const path = messages[op.pick % messages.length]!;
  const m = parseMessagePath(path)!;
  const oid = files.get(path)!;
  const to = FOLDERS[op.folder]!;
  if (op.t === 'delete') files.delete(path);
  if (op.t === 'seen') {
    files.delete(path);
    files.set(`${m.folder}/cur/${m.key}:2,S`, oid);
  }
  if (op.t === 'move' && to !== m.folder) {
    files.delete(path);
    files.set(`${to}/${m.sub}/${m.key}${m.info}`, oid);
  }
}

/** Syncs replica `i` with all its remotes; only a lost race may fail a remote. */
async function sync(w: World, i: number): Promise<void> {
  const report = await syncReplica(w.replicas[i]!, w.remotes[i]!);
  seen.received += report.received.length;
  for (const r of report.remotes) {
    if (!r.ok) expect(r.error?.code).toBe('ERACE');
  }
}

/**
 * A dry run of replica `i`'s sync, then the sync: the same report, but where the dry run
 * cannot know (a push to a peer that advertises no worktree is refused only when made).
 */
async function dryThenSync(w: World, i: number, topology: { peer: boolean; marker: boolean }[]): Promise<void> {
  const r = w.replicas[i]!;
  const files = new Map(w.trees[i]!.files);
  const head = (await r.store.readRef('HEAD'))?.oid;
  const plan = await syncReplica(unappliedReplica(r), w.remotes[i]!);
  expect([(await r.store.readRef('HEAD'))?.oid, w.trees[i]!.files]).toEqual([head, files]);
  const done = await syncReplica(r, w.remotes[i]!);
  const blind = topology[(i + 1) % N]!.marker ? [] : ['peer'];
  const known = (report: SyncReport) => ({ ...report, remotes: report.remotes.map((x) => (blind.includes(x.remote) ? { ...x, pushed: 'none' } : x)) });
  expect(known(done)).toEqual(known(plan));
  seen.dryRuns++;
}

async function run(ops: Op[], topology: { peer: boolean; marker: boolean }[], seed: number): Promise<World> {
  const clock = { now: 1_796_000_000_000 };
  const w = await makeWorld(topology, seed, clock);
  const push = w.replicas.map((r) => r.store.push.bind(r.store));
  w.replicas.forEach((r, i) => {
    r.store.push = async (remote, ref) => {
      const answer = await push[i]!(remote, ref);
      if (answer === 'rejected') seen.rejectedRounds++;
      return answer;
    };
  });
  let seq = 0;
  for (const op of ops) {
    clock.now += 60_000;
    if (op.t === 'sync') await Promise.all(op.who.map((i) => sync(w, i)));
    else if (op.t === 'dry') await dryThenSync(w, op.r, topology);
    else await clientChange(w, op, seq++);
  }
  // Quiesce: everyone syncs, one at a time, three times around.
  for (let round = 0; round < 3; round++) for (let i = 0; i < N; i++) await sync(w, i);
  return w;
}

/** The message keys of a commit's tree. */
async function keysAt(s: MemoryCommitStore, commit: string): Promise<string[]> {
  return (await s.diff(null, commit)).flatMap((c) => parseMessagePath(c.path)?.key ?? []);
}

describe('the sync loop on in-memory replicas', () => {
  it('converges, loses nothing no one deleted, and brings back no uncontested deletion', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 30 }), topologyArb, fc.integer(), async (ops, topology, seed) => {
        const w = await run(ops, topology, seed);
        const heads = await Promise.all([w.hub, ...w.replicas.map((r) => r.store)].map(async (s) => (await s.readRef('HEAD'))!.oid));
        const trees = await Promise.all(heads.map((h) => w.hub.treeOf(h)));
        expect(new Set(trees).size).toBe(1);
        for (const t of w.trees) expect(new Map([...t.files].sort())).toEqual(new Map((await w.hub.diff(null, heads[0]!)).map((c) => [c.path, c.newOid!])));
        const final = new Set(await keysAt(w.hub, heads[0]!));
        const delivered = new Set(w.records.flatMap((r) => [...r.changed]));
        const removers = new Map<string, Recorded[]>();
        for (const r of w.records) for (const k of r.removed) removers.set(k, [...(removers.get(k) ?? []), r]);
        for (const k of delivered) if (!removers.has(k)) expect(final.has(k), `message ${k} was lost`).toBe(true);
        // A deletion no one contested: every other change to that message is in its history.
        for (const [k, dels] of removers) {
          for (const d of dels) {
            const others = w.records.filter((r) => r !== d && r.changed.has(k));
            const contested = (await Promise.all(others.map((o) => w.hub.isAncestor(o.commit, d.commit)))).includes(false);
            if (!contested) expect(final.has(k), `message ${k}, deleted in ${d.commit}, came back`).toBe(false);
          }
        }
      }),
      { numRuns: Number(process.env.MAILGIT_PROPERTY_RUNS ?? 60), seed: process.env.MAILGIT_SEED ? Number(process.env.MAILGIT_SEED) : undefined },
    );
    // The racing paths ran: pushes rejected because another sync moved the remote first, and pushes received from peers.
    expect(seen.rejectedRounds).toBeGreaterThan(0);
    expect(seen.received).toBeGreaterThan(0);
    expect(seen.dryRuns).toBeGreaterThan(0);
  });
});
