/**
 * The pieces a streamed restore is made of: git listings read in batches
 * (src/git/run.ts `gitRecords`, `lsTreeBatches`, `diffBatches`) list exactly what the whole
 * listings do, and a caller may stop early; the hash set (src/util/hashSet.ts) never
 * misses a member.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffBatches, diffTrees } from '../../src/git/diff.js';
import { lsTreeBatches, lsTreeRecursive } from '../../src/git/tree.js';
import { HashSet52, hash52 } from '../../src/util/hashSet.js';
import { gitOut, tempDir } from '../helpers/cli.js';

/** A repo with two commits: 300 files (names with spaces and UTF-8), then some changed, removed and added. */
function repo(): { dir: string; a: string; b: string } {
  const dir = tempDir('mailgit-streams-');
  gitOut(dir, ['init', '-q']);
  mkdirSync(join(dir, 'INBOX/cur'), { recursive: true });
  for (let i = 0; i < 300; i++) writeFileSync(join(dir, 'INBOX/cur', `${i} ünï:2,S`), `m${i}\n`);
  const commit = (m: string) => {
    gitOut(dir, ['add', '-A']);
    gitOut(dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.org', 'commit', '-qm', m]);
    return gitOut(dir, ['rev-parse', 'HEAD']).trim();
  };
  const a = commit('a');
  for (let i = 0; i < 300; i += 7) writeFileSync(join(dir, 'INBOX/cur', `${i} ünï:2,S`), `changed ${i}\n`);
  for (let i = 300; i < 340; i++) writeFileSync(join(dir, 'INBOX/cur', `${i} ünï:2,`), `new ${i}\n`);
  gitOut(dir, ['rm', '-q', 'INBOX/cur/1 ünï:2,S']);
  return { dir, a, b: commit('b') };
}

async function collect<T>(gen: AsyncGenerator<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const batch of gen) out.push(batch);
  return out;
}

describe('git listings in batches', () => {
  it('list what the whole listings list, in batches no larger than asked; a caller may stop after any batch', async () => {
    const { dir, a, b } = repo();
    const trees = await collect(lsTreeBatches(dir, b));
    expect(trees.flat()).toEqual(await lsTreeRecursive(dir, b));
    expect((await collect(lsTreeBatches(dir, a, ['INBOX/cur']))).flat()).toEqual(await lsTreeRecursive(dir, a, { paths: ['INBOX/cur'] }));
    const diffs = await collect(diffBatches(dir, { from: a, to: b }, 5));
    expect(diffs.flat()).toEqual(await diffTrees(dir, { from: a, to: b }));
    expect(diffs.flat().length).toBe(43 + 40 + 1);
    expect(Math.max(...diffs.map((d) => d.length))).toBe(5);
    for await (const batch of diffBatches(dir, { from: a, to: b }, 5)) {
      expect(batch.length).toBe(5);
      break;
    }
    await expect(collect(lsTreeBatches(dir, 'no-such-rev'))).rejects.toThrow(/git ls-tree failed/);
  }, 60_000);
});

describe('HashSet52', () => {
  it('has every member; a string never added is (here) not taken for one', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ unit: 'grapheme', maxLength: 30 }), { minLength: 1, maxLength: 3000 }), (names) => {
        const set = new HashSet52();
        const [members, others] = [names.filter((_, i) => i % 2 === 0), names.filter((_, i) => i % 2 === 1)];
        for (const m of members) set.add(m);
        expect(members.every((m) => set.mayHave(m))).toBe(true);
        expect(others.filter((o) => set.mayHave(o))).toEqual([]);
      }),
      { numRuns: 50 },
    );
    expect(hash52('a')).not.toBe(hash52('b'));
    expect(Number.isSafeInteger(hash52('a message key'))).toBe(true);
    expect(new HashSet52().mayHave('')).toBe(false);
  });
});
