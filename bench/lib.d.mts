// Types of bench/lib.mjs, for the TypeScript tests that import from it.
export declare const ROOT: string;
export declare const BIN: string;
export declare function must(cmd: string, argv: string[], opts?: Record<string, unknown>): string;
export declare function loadHarness(): Promise<typeof import('../test/helpers/dovecot.js')>;
export declare function parseArgs(argv?: string[]): {
  opt: <T extends string | null>(name: string, dflt: T) => string | T;
  flag: (name: string) => boolean;
  rest: string[];
};
/** mulberry32: a small, fast, seeded PRNG returning [0, 1). */
export declare function rng(seed: number): () => number;
export declare const FOLDERS: [string, number][];
export declare function generateMessage(r: () => number, i: number, date: number): string;
export declare const T0: number;
export declare function messageKey(i: number, date: number, body: string): string;
export declare function writeMaildir(dir: string, n: number, opts?: { newShare?: number }): void;
export declare const GITENV: Record<string, string>;
export declare function fmtS(ms: number): string;
export declare function fmtB(bytes: number): string;
export declare function median(xs: number[]): number;
