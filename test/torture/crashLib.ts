/**
 * What the crash-injection files (test/torture/crash-*.test.ts) share: the base repo, the
 * client's operations, the kill plan, the checks after a kill. Each scenario has a file of
 * its own so that a long run spreads them over the workers.
 */
import { Rand, cli, fsckStrict, git, longRun, mgOk, randomSkew, reproduce, skewEnv } from './lib.js';
import type { Run } from './lib.js';
import { drop, messageText, newKey, randomFlags, randomOp } from './client.js';

/** Kill points per scenario and seed. */
export const POINTS = longRun() ? 8 : 3;
/** Generous: the machine may be loaded; the CI budget is kept by the number of points. */
export const TIMEOUT = 900_000;

/** The tree id of `rev` in `repo`. */
export function tree(repo: string, rev = 'HEAD'): string {
  return git(repo, ['rev-parse', `${rev}^{tree}`]).trim();
}

/** A repo with a base of committed mail in two folders. */
export async function baseRepo(dir: string, name: string, r: Rand): Promise<void> {
  await mgOk(['init', dir, '--name', name]);
  for (let i = 0; i < 25; i++)
    drop(dir, r.chance(0.7) ? 'INBOX' : 'Lists/x', newKey(r, name), messageText(r, name), r.chance(0.6) ? randomFlags(r) : undefined);
  await mgOk(['-C', dir, 'commit']);
}

/** Performs `n` random client operations on `dir`; returns their descriptions. */
export function clientOps(dir: string, r: Rand, host: string, n: number): string[] {
  const log: string[] = [];
  while (log.length < n) {
    const op = randomOp(dir, r, host);
    if (op) log.push(op.text);
  }
  return log;
}

/**
 * What the sync scenarios vary beside the kill (drawn from their own stream, so that a
 * seed's client operations and kill points stay what they were): the clock of the second
 * replica (skewed by minutes to days, or true), and whether the first is busy — it
 * commits after every few changes, so the two have very different commit counts.
 */
export function peerShape(seed: number): { envB: Record<string, string>; skewB: number; busyA: boolean; text: string } {
  const x = new Rand(seed ^ 0x5eed);
  const skew = randomSkew(x);
  const busyA = x.chance(0.5);
  return { envB: skewEnv(skew), skewB: skew, busyA, text: `b's clock ${skew / 60_000} min off, a ${busyA ? 'busy' : 'not busy'}` };
}

/** Client operations, committed every 3 when `busy` (the stream of `r` is the same either way). */
export async function opsMaybeBusy(dir: string, r: Rand, host: string, n: number, busy: boolean): Promise<string[]> {
  if (!busy) return clientOps(dir, r, host, n);
  const log: string[] = [];
  while (log.length < n) {
    log.push(...clientOps(dir, r, host, Math.min(3, n - log.length)));
    await mgOk(['-C', dir, 'commit']);
  }
  return log;
}

/** A kill moment: spread over the whole run, weighted towards its later part (after node starts). */
export function killPlan(r: Rand, refMs: number): { ms: number; group: boolean } {
  const u = r.next();
  const ms = Math.round(u < 0.4 ? refMs * (0.05 + u * 0.9) : refMs * (0.4 + 0.55 * r.next()));
  return { ms, group: r.chance(0.5) };
}

/** How to rerun one kill point, and what the killed run printed. */
export function describeKill(file: string, seed: number, point: number, plan: { ms: number; group: boolean }, run: Run): string {
  return `${reproduce(file, seed, `kill point ${point}: SIGKILL ${plan.group ? 'group' : 'node'} at ${plan.ms} ms, ${run.killed ? 'killed' : `finished first (exit ${run.code})`}`)}\nkilled run stderr: ${run.stderr}`;
}

const VERBOSE = !!process.env.MAILGIT_TORTURE_VERBOSE;
/** Prints a progress line when MAILGIT_TORTURE_VERBOSE is set. */
export function note(msg: string): void {
  if (VERBOSE) console.log(`${new Date().toISOString().slice(11, 23)} ${msg}`);
}

/** `git fsck --strict` in each of `dirs`; throws with `ctx` prefixed. */
export function checkFsck(dirs: string[], ctx: string): void {
  for (const d of dirs) {
    try {
      fsckStrict(d);
    } catch (e) {
      throw new Error(`${ctx}\n${(e as Error).message}`);
    }
  }
}

/** Reruns mailgit after a kill; throws with `ctx` unless it exits 0. */
export async function rerun(args: string[], ctx: string, env?: Record<string, string>): Promise<void> {
  const r = await cli(args, { env });
  if (r.code !== 0) throw new Error(`${ctx}\nrerun mailgit ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
}
