/** mulberry32: a small, fast, seeded PRNG returning [0, 1). */
export declare function rng(seed: number): () => number;
