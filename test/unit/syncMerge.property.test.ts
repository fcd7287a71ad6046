/**
 * The sync-level merge (diff-built snapshots, virtual bases, fast-forwards) over random
 * histories, on the in-memory CommitStore: replicas converge, nothing that no one deleted
 * is lost, nothing is doubled.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryCommitStore } from '../../src/store/memoryCommitStore.js';
import { mergeHeads } from '../../src/sync/mergeHeads.js';
import { parseMessagePath } from '../../src/maildir/name.js';

type Op =
  | { t: 'deliver'; r: number; twice: number | null }
  | { t: 'seen' | 'flag' | 'unflag' | 'move' | 'copymove' | 'delete'; r: number; pick: number; folder: number }
  | { t: 'sync'; a: number; b: number };

const FOLDERS = ['INBOX', 'Archive', 'Trash'];
const N = 4;

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('deliver' as const), r: fc.nat(N - 1), twice: fc.option(fc.nat(N - 1), { nil: null }) }),
  fc.record({ t: fc.constantFrom('seen' as const, 'flag' as const, 'unflag' as const, 'move' as const, 'copymove' as const, 'delete' as const), r: fc.nat(N - 1), pick: fc.nat(50), folder: fc.nat(2) }),
  fc.record({ t: fc.constant('sync' as const), a: fc.nat(N - 1), b: fc.nat(N - 1) }),
);

async function run(ops: Op[]) {
  const s = new MemoryCommitStore();
  const clocks = Array(N).fill(0) as number[];
  const root = await s.commit(await s.editTree(null, [{ path: 'INBOX/maildirfolder', oid: await s.writeBlob('') }]), [], 'init', '', { clock: 0, replica: 'r0' });
  const heads = Array(N).fill(root) as string[];
  let seq = 0;
  const delivered = new Set<string>(); // blobs
  const deleted = new Set<string>(); // blobs someone deleted or replaced by a move
  const entries = async (r: number) => (await s.diff(null, heads[r]!)).filter((c) => parseMessagePath(c.path)).map((c) => ({ path: c.path, oid: c.newOid! }));
  const change = async (r: number, edits: { path: string; oid: string | null }[]) => {
    const clock = (await s.stamp(heads[r]!)).clock + 1;
    clocks[r] = clock;
    heads[r] = await s.commit(await s.editTree(heads[r]!, edits), [heads[r]!], 'record', '', { clock, replica: `r${r}` });
  };
  const pull = async (a: number, b: number) => {
    const out = await mergeHeads(s, heads[a]!, heads[b]!, `r${b}`, `r${a}`, () => []);
    heads[a] = out.commit;
  };
  for (const op of ops) {
    if (op.t === 'sync') {
      if (op.a === op.b) continue;
      await pull(op.a, op.b);
      await pull(op.b, op.a);
      continue;
    }
    if (op.t === 'deliver') {
      const key = `m${seq++}`;
      const oid = await s.writeBlob(`message ${key}`);
      delivered.add(oid);
      await change(op.r, [{ path: `INBOX/new/${key}`, oid }]);
      if (op.twice !== null && op.twice !== op.r) await change(op.twice, [{ path: `INBOX/new/${key}`, oid }]);
      continue;
    }
    const list = await entries(op.r);
    if (list.length === 0) continue;
    const e = list[op.pick % list.length]!;
    const m = parseMessagePath(e.path)!;
    const flags = m.info.startsWith(':2,') ? m.info.slice(3) : '';
    const at = (folder: string, sub: string, key: string, f: string) => `${folder}/${sub}/${key}${sub === 'new' && f === '' ? '' : `:2,${[...new Set(f)].sort().join('')}`}`;
    const to = FOLDERS[op.folder]!;
    const edits = (path: string) => (path === e.path ? [] : [{ path: e.path, oid: null }, { path, oid: e.oid }]);
    if (op.t === 'seen') await change(op.r, edits(at(m.folder, 'cur', m.key, flags + 'S')));
    if (op.t === 'flag') await change(op.r, edits(at(m.folder, 'cur', m.key, flags + 'F')));
    if (op.t === 'unflag') await change(op.r, edits(at(m.folder, 'cur', m.key, flags.replace('F', ''))));
    if (op.t === 'move') await change(op.r, [...edits(at(to, m.sub, m.key, flags)), { path: `${to}/maildirfolder`, oid: await s.writeBlob('') }]);
    if (op.t === 'copymove') await change(op.r, [{ path: e.path, oid: null }, { path: at(to, 'cur', `c${seq++}`, flags), oid: e.oid }]);
    if (op.t === 'delete') {
      deleted.add(e.oid);
      await change(op.r, [{ path: e.path, oid: null }]);
    }
  }
  // Quiesce: everyone pulls everyone, twice around.
  for (let round = 0; round < 3; round++) for (let a = 0; a < N; a++) for (let b = 0; b < N; b++) if (a !== b) await pull(a, b);
  return { s, heads, delivered, deleted };
}

describe('sync-level merge over random histories (in-memory store)', () => {
  it('converges, keeps every message no one deleted, and never doubles one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 40 }), async (ops) => {
        const { s, heads, delivered, deleted } = await run(ops);
        const trees = await Promise.all(heads.map((h) => s.treeOf(h)));
        expect(new Set(trees).size).toBe(1);
        const final = (await s.diff(null, heads[0]!)).filter((c) => parseMessagePath(c.path));
        const blobs = final.map((c) => c.newOid!);
        for (const b of delivered) if (!deleted.has(b)) expect(blobs).toContain(b);
        expect(new Set(blobs).size).toBe(blobs.length);
      }),
      { numRuns: Number(process.env.MAILGIT_PROPERTY_RUNS ?? 60), seed: process.env.MAILGIT_SEED ? Number(process.env.MAILGIT_SEED) : undefined },
    );
  });
});
