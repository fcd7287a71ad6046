/**
 * The seeded PRNG of the tests and the benchmarks (plain ESM, so that bench/ can import it
 * without a build: bench depends on test, never the other way).
 */

/**
 * mulberry32: a small, fast, seeded PRNG returning [0, 1).
 * @param {number} seed
 * @returns {() => number}
 */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
