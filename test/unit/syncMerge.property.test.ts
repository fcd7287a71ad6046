/**
 * The sync-level merge (diff-built snapshots, virtual bases, fast-forwards, the history
 * query behind last-writer-wins) over random histories, on the in-memory CommitStore:
 * replicas with very different commit counts and skewed clocks, plain `git commit`s without
 * trailers, copies of one key in two folders. Replicas converge, nothing that no one
 * deleted is lost, nothing is doubled.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryCommitStore } from '../doubles/memoryCommitStore.js';
import { mergeHeads } from '../../src/sync/mergeHeads.js';
import { parseMessagePath } from '../../src/maildir/name.js';
import { nextClock } from '../../src/merge/clock.js';

type Op =
  | { t: 'deliver'; r: number; twice: number | null }
  | { t: 'seen' | 'flag' | 'unflag' | 'move' | 'copymove' | 'copy' | 'delete'; r: number; pick: number; folder: number; plain: boolean }
  | { t: 'burst'; r: number; n: number }
  | { t: 'sync'; a: number; b: number };

const FOLDERS = ['INBOX', 'Archive', 'Trash'];
const N = 4;

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('deliver' as const), r: fc.nat(N - 1), twice: fc.option(fc.nat(N - 1), { nil: null }) }),
  fc.record({
    t: fc.constantFrom('seen' as const, 'flag' as const, 'unflag' as const, 'move' as const, 'copymove' as const, 'copy' as const, 'delete' as const),
    r: fc.nat(N - 1),
    pick: fc.nat(50),
    folder: fc.nat(2),
    plain: fc.nat(9).map((n) => n < 2),
  }),
  fc.record({ t: fc.constant('burst' as const), r: fc.nat(N - 1), n: fc.integer({ min: 1, max: 15 }) }),
  fc.record({ t: fc.constant('sync' as const), a: fc.nat(N - 1), b: fc.nat(N - 1) }),
);
/** Per replica, how far its clock is off (ms): right, an hour either way, years ahead. */
const skewsArb = fc.array(fc.constantFrom(0, 0, 3_600_000, -3_600_000, 10 * 365 * 86_400_000), { minLength: N, maxLength: N });

async function run(ops: Op[], skews: number[]) {
  const s = new MemoryCommitStore();
  let now = 1_796_000_000_000;
  const wall = (r: number) => now + skews[r]!;
  const root = await s.commit({
    tree: await s.editTree(null, [{ path: 'INBOX/maildirfolder', oid: await s.writeBlob('') }]),
    parents: [],
    subject: 'init',
    stamp: {
      clock: 0,
      replica: 'r0',
    },
  });
  const heads = Array(N).fill(root) as string[];
  let seq = 0;
  const delivered = new Set<string>(); // blobs
  const deleted = new Set<string>(); // blobs someone deleted or replaced by a move
  const copies = new Map<string, number>(); // blob → copies made by cp
  const fetchedTwice = new Set<string>(); // blobs delivered on two replicas
  const made = new Map<string, Set<string>>(); // blob → every folder/key a delivery or cp made of it
  const moved = new Set<string>(); // blobs someone moved (to another folder or under a new key)
  const make = (oid: string, folder: string, key: string) => made.set(oid, new Set([...(made.get(oid) ?? []), `${folder}/${key}`]));
  const entries = async (r: number) => (await s.diff(null, heads[r]!)).filter((c) => parseMessagePath(c.path)).map((c) => ({ path: c.path, oid: c.newOid! }));
  /** A record on replica r (HLC clock), or a user's plain `git commit` without trailers. */
  const change = async (r: number, edits: { path: string; oid: string | null }[], plain = false) => {
    const stamp = plain ? null : { clock: nextClock((await s.stamp(heads[r]!)).clock, wall(r)), replica: `r${r}` };
    heads[r] = await s.commit({ tree: await s.editTree(heads[r]!, edits), parents: [heads[r]!], subject: 'record', stamp, time: wall(r) });
  };
  const pull = async (a: number, b: number) => {
    const out = await mergeHeads({ store: s, ours: heads[a]!, theirs: heads[b]!, origin: `r${b}`, replica: `r${a}`, describe: () => [], wall: () => wall(a) });
    heads[a] = out.commit;
  };
  for (const op of ops) {
    now += 60_000;
    if (op.t === 'sync') {
      if (op.a === op.b) continue;
      await pull(op.a, op.b);
      await pull(op.b, op.a);
      continue;
    }
    if (op.t === 'burst') {
      for (let i = 0; i < op.n; i++, now += 1000) await change(op.r, [{ path: `.mailgit/busy-r${op.r}.json`, oid: await s.writeBlob(`{"n":${seq++}}`) }]);
      continue;
    }
    if (op.t === 'deliver') {
      const key = `m${seq++}`;
      const oid = await s.writeBlob(`message ${key}`);
      delivered.add(oid);
      make(oid, 'INBOX', key);
      await change(op.r, [{ path: `INBOX/new/${key}`, oid }]);
      if (op.twice !== null && op.twice !== op.r) {
        fetchedTwice.add(oid);
        await change(op.twice, [{ path: `INBOX/new/${key}`, oid }]);
      }
      continue;
    }
    const list = await entries(op.r);
    if (list.length === 0) continue;
    const e = list[op.pick % list.length]!;
    const m = parseMessagePath(e.path)!;
    const flags = m.info.startsWith(':2,') ? m.info.slice(3) : '';
    const at = (folder: string, sub: string, key: string, f: string) =>
      `${folder}/${sub}/${key}${sub === 'new' && f === '' ? '' : `:2,${[...new Set(f)].sort().join('')}`}`;
    const to = FOLDERS[op.folder]!;
    const taken = list.some((x) => x.path.startsWith(`${to}/`) && parseMessagePath(x.path)!.key === m.key);
    const edits = (path: string) =>
      path === e.path
        ? []
        : [
            { path: e.path, oid: null },
            { path, oid: e.oid },
          ];
    if (op.t === 'seen') await change(op.r, edits(at(m.folder, 'cur', m.key, `${flags}S`)), op.plain);
    if (op.t === 'flag') await change(op.r, edits(at(m.folder, 'cur', m.key, `${flags}F`)), op.plain);
    if (op.t === 'unflag') await change(op.r, edits(at(m.folder, 'cur', m.key, flags.replace('F', ''))), op.plain);
    if ((op.t === 'move' && !taken) || op.t === 'copymove') moved.add(e.oid);
    if (op.t === 'move' && !taken)
      await change(op.r, [...edits(at(to, m.sub, m.key, flags)), { path: `${to}/maildirfolder`, oid: await s.writeBlob('') }], op.plain);
    if (op.t === 'copymove')
      await change(
        op.r,
        [
          { path: e.path, oid: null },
          { path: at(to, 'cur', `c${seq++}`, flags), oid: e.oid },
        ],
        op.plain,
      );
    if (op.t === 'copy' && !taken) {
      // A user's cp of the file into another folder: one key, one content, two files.
      copies.set(e.oid, (copies.get(e.oid) ?? 0) + 1);
      make(e.oid, to, m.key);
      await change(
        op.r,
        [
          { path: at(to, 'cur', m.key, flags), oid: e.oid },
          { path: `${to}/maildirfolder`, oid: await s.writeBlob('') },
        ],
        op.plain,
      );
    }
    if (op.t === 'delete') {
      deleted.add(e.oid);
      await change(op.r, [{ path: e.path, oid: null }], op.plain);
    }
  }
  // Quiesce: everyone pulls everyone, three times around.
  for (let round = 0; round < 3; round++) for (let a = 0; a < N; a++) for (let b = 0; b < N; b++) if (a !== b) await pull(a, b);
  return { s, heads, delivered, deleted, copies, fetchedTwice, made, moved };
}

describe('sync-level merge over random histories (in-memory store)', () => {
  it('converges, keeps every message no one deleted, and never doubles one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 40 }), skewsArb, async (ops, skews) => {
        const { s, heads, delivered, deleted, copies, fetchedTwice, made, moved } = await run(ops, skews);
        const trees = await Promise.all(heads.map((h) => s.treeOf(h)));
        expect(new Set(trees).size).toBe(1);
        const final = (await s.diff(null, heads[0]!)).filter((c) => parseMessagePath(c.path));
        const count = new Map<string, number>();
        for (const c of final) count.set(c.newOid!, (count.get(c.newOid!) ?? 0) + 1);
        for (const b of delivered) {
          if (!deleted.has(b)) expect(count.get(b) ?? 0).toBeGreaterThanOrEqual(1);
          // A copy makes a second file. A message fetched twice and then copied on one replica under
          // another key is, to the merge, two messages with one content: the other fetch is not paired.
          const c = copies.get(b) ?? 0;
          expect(count.get(b) ?? 0).toBeLessThanOrEqual(1 + c + (c > 0 && fetchedTwice.has(b) ? 1 : 0));
        }
        // No copy lost: of a message nobody deleted or moved, every file a delivery or cp made is there.
        const present = new Set(final.map((c) => parseMessagePath(c.path)!).map((m) => `${m.folder}/${m.key}`));
        for (const [b, files] of made) {
          if (deleted.has(b) || moved.has(b)) continue;
          for (const f of files) expect(present.has(f), `lost ${f}`).toBe(true);
        }
      }),
      { numRuns: Number(process.env.MAILGIT_PROPERTY_RUNS ?? 60), seed: process.env.MAILGIT_SEED ? Number(process.env.MAILGIT_SEED) : undefined },
    );
  });
});
