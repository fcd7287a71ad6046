/**
 * The torture suite's seed choice (test/torture/lib.ts): the normal suite runs the fixed
 * CI seeds plus one rotating seed per test, derived from the commit, so that a bug a fixed
 * set misses is met on some commit; a seed given explicitly reruns just that one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rotatingSeed, rotationBasis, seeds, shard } from '../torture/lib.js';

const saved = { ...process.env };
afterEach(() => {
  for (const k of ['MAILGIT_TORTURE_SEED', 'MAILGIT_TORTURE_SEEDS', 'MAILGIT_TORTURE_ROTATE']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('torture seeds', () => {
  it('the normal run adds one seed that rotates with the basis (the commit) and differs per test', () => {
    delete process.env.MAILGIT_TORTURE_SEED;
    delete process.env.MAILGIT_TORTURE_SEEDS;
    process.env.MAILGIT_TORTURE_ROTATE = 'commit-a';
    const a = seeds([11], 1);
    expect(a).toEqual([11, rotatingSeed('commit-a', 1)]);
    expect(seeds([11], 1)).toEqual(a); // the same commit meets the same seeds
    process.env.MAILGIT_TORTURE_ROTATE = 'commit-b';
    expect(seeds([11], 1)[1]).not.toBe(a[1]);
    const many = new Set(Array.from({ length: 50 }, (_, i) => rotatingSeed(`c${i}`, 1)));
    expect(many.size).toBeGreaterThan(45);
    for (const s of many) expect(s >= 100_000 && s <= 999_999).toBe(true);
    expect(rotatingSeed('x', 1)).not.toBe(rotatingSeed('x', 2));
  });

  it('without an override the basis is the checked-out commit', () => {
    delete process.env.MAILGIT_TORTURE_ROTATE;
    expect(rotationBasis()).toMatch(/^[0-9a-f]{40}$|^\d{4}-\d\d-\d\d$/);
  });

  it('an explicit seed reruns exactly it; the long run extends the fixed set', () => {
    process.env.MAILGIT_TORTURE_SEED = '123456';
    expect(seeds([11], 1)).toEqual([123456]);
    delete process.env.MAILGIT_TORTURE_SEED;
    process.env.MAILGIT_TORTURE_SEEDS = '4';
    expect(seeds([11], 1)).toHaveLength(4);
    expect(seeds([11], 1)[0]).toBe(11);
  });

  it('shards split a long run without losing or repeating a seed', () => {
    const all = Array.from({ length: 50 }, (_, i) => i);
    const parts = [1, 2, 3].map((i) => shard(all, `${i}/3`));
    expect(parts.flat().sort((a, b) => a - b)).toEqual(all);
    expect(shard(all, undefined)).toEqual(all);
    expect(shard(all, '4/3')).toEqual(all);
  });
});
