/**
 * Crash injection: `commit`, `watch`, `sync` (the pushing and the receiving end, hub and
 * peer) and `deliver` are SIGKILLed at seeded random moments — the node process alone, or its whole
 * process group (git children too, as a power cut would). After each kill:
 *   - `git fsck --strict` is clean in every repo involved,
 *   - the rerun succeeds,
 *   - the result equals what a run without the kill gives (same tree: nothing lost,
 *     nothing doubled, no deleted message back),
 *   - the Maildir on disk agrees with HEAD.
 * CI runs a fixed seed set; `npm run torture` (MAILGIT_TORTURE_SEEDS=N) runs more, and
 * MAILGIT_TORTURE_SEED=S reruns one.
 */
import { describe, expect, test } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rand, cli, diskVsHead, fsckStrict, git, longRun, messageShapes, mgOk, randomSkew, reproduce, restore, seeds, skewEnv, tempDir, treeFiles, blobId } from './lib.js';
import type { Run } from './lib.js';
import { drop, messageText, newKey, randomFlags, randomOp } from './client.js';

const FILE = 'test/torture/crash.test.ts';
/** Kill points per scenario and seed. */
const POINTS = longRun() ? 8 : 3;
/** Generous: the machine may be loaded; the CI budget is kept by the number of points. */
const TIMEOUT = 900_000;

function tree(repo: string, rev = 'HEAD'): string {
  return git(repo, ['rev-parse', `${rev}^{tree}`]).trim();
}

/** A repo with a base of committed mail in two folders. */
async function baseRepo(dir: string, name: string, r: Rand): Promise<void> {
  await mgOk(['init', dir, '--name', name]);
  for (let i = 0; i < 25; i++) drop(dir, r.chance(0.7) ? 'INBOX' : 'Lists/x', newKey(r, name), messageText(r, name), r.chance(0.6) ? randomFlags(r) : undefined);
  await mgOk(['-C', dir, 'commit']);
}

function clientOps(dir: string, r: Rand, host: string, n: number): string[] {
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
function peerShape(seed: number): { envB: Record<string, string>; busyA: boolean; text: string } {
  const x = new Rand(seed ^ 0x5eed);
  const skew = randomSkew(x);
  const busyA = x.chance(0.5);
  return { envB: skewEnv(skew), busyA, text: `b's clock ${skew / 60_000} min off, a ${busyA ? 'busy' : 'not busy'}` };
}

/** Client operations, committed every 3 when `busy` (the stream of `r` is the same either way). */
async function opsMaybeBusy(dir: string, r: Rand, host: string, n: number, busy: boolean): Promise<string[]> {
  if (!busy) return clientOps(dir, r, host, n);
  const log: string[] = [];
  while (log.length < n) {
    log.push(...clientOps(dir, r, host, Math.min(3, n - log.length)));
    await mgOk(['-C', dir, 'commit']);
  }
  return log;
}

/** A kill moment: spread over the whole run, weighted towards its later part (after node starts). */
function killPlan(r: Rand, refMs: number): { ms: number; group: boolean } {
  const u = r.next();
  const ms = Math.round(u < 0.4 ? refMs * (0.05 + u * 0.9) : refMs * (0.4 + 0.55 * r.next()));
  return { ms, group: r.chance(0.5) };
}

function describeKill(seed: number, point: number, plan: { ms: number; group: boolean }, run: Run): string {
  return `${reproduce(FILE, seed, `kill point ${point}: SIGKILL ${plan.group ? 'group' : 'node'} at ${plan.ms} ms, ${run.killed ? 'killed' : `finished first (exit ${run.code})`}`)}\nkilled run stderr: ${run.stderr}`;
}

const VERBOSE = !!process.env.MAILGIT_TORTURE_VERBOSE;
function note(msg: string): void {
  if (VERBOSE) console.log(`${new Date().toISOString().slice(11, 23)} ${msg}`);
}

function checkFsck(dirs: string[], ctx: string): void {
  for (const d of dirs) {
    try {
      fsckStrict(d);
    } catch (e) {
      throw new Error(`${ctx}\n${(e as Error).message}`);
    }
  }
}

async function rerun(args: string[], ctx: string, env?: Record<string, string>): Promise<void> {
  const r = await cli(args, { env });
  if (r.code !== 0) throw new Error(`${ctx}\nrerun mailgit ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
}

describe('crash injection: commit', () => {
  test.each(seeds([11], 1))('seed %i', async (seed) => {
    const r = new Rand(seed);
    const root = tempDir();
    const a = join(root, 'a');
    await baseRepo(a, 'a', r);
    const clean = join(root, 'snap-clean');
    restore(a, clean);
    const opsSeed = r.int(1, 1e9);
    // Each point starts from the committed base, warms the directory cache with a commit
    // (so that the cached path is what gets killed), then lets the client act.
    const prepare = async () => {
      restore(clean, a);
      await mgOk(['-C', a, 'commit']);
      clientOps(a, new Rand(opsSeed), 'a', 40);
    };
    await prepare();
    const ref = await mgOk(['-C', a, 'commit']);
    const refTree = tree(a);
    for (let p = 0; p < POINTS; p++) {
      const plan = killPlan(r, ref.ms);
      await prepare();
      const run = await cli(['-C', a, 'commit'], { killAfterMs: plan.ms, killGroup: plan.group });
      const ctx = describeKill(seed, p, plan, run);
      note(`${seed}/${p}: ${plan.ms} ms ${plan.group ? 'group' : 'node'} killed=${run.killed} after ${run.ms} ms`);
      checkFsck([a], ctx);
      await rerun(['-C', a, 'commit'], ctx);
      expect(tree(a), ctx).toBe(refTree);
      expect(diskVsHead(a), ctx).toBe('');
      checkFsck([a], ctx);
    }
  }, TIMEOUT);
});

describe('crash injection: watch (long-lived cat-file and fast-import, packing in-process)', () => {
  test.each(seeds([31], 7))('seed %i', async (seed) => {
    const r = new Rand(seed);
    const root = tempDir();
    const a = join(root, 'a');
    await baseRepo(a, 'a', r);
    const commits = () => Number(git(a, ['rev-list', '--count', 'HEAD']).trim());
    let byWatch = 0;
    for (let p = 0; p < POINTS; p++) {
      const plan = { ms: r.int(700, 4000), group: r.chance(0.5) };
      const before = commits();
      const watching = cli(['-C', a, 'watch', '--debounce', '50', '--interval', '0'], { killAfterMs: plan.ms, killGroup: plan.group });
      // The client acts while watch records (and is killed mid-way): a few changes, a pause.
      const t0 = Date.now();
      while (Date.now() - t0 < plan.ms + 300) {
        clientOps(a, r, 'a', r.int(1, 4));
        await new Promise((res) => setTimeout(res, r.int(10, 200)));
      }
      const run = await watching;
      const ctx = describeKill(seed, p, plan, run);
      note(`${seed}/${p}: watch ${plan.ms} ms ${plan.group ? 'group' : 'node'} killed=${run.killed}`);
      expect(run.killed, ctx).toBe(true);
      checkFsck([a], ctx);
      byWatch += commits() - before;
      // Nothing the client did is lost: the next commit brings HEAD level with the disk.
      await rerun(['-C', a, 'commit'], ctx);
      expect(diskVsHead(a), ctx).toBe('');
      checkFsck([a], ctx);
    }
    // The kills landed while watch was recording, not before it ever did.
    expect(byWatch).toBeGreaterThan(0);
  }, TIMEOUT);
});

describe('crash injection: sync through a hub (merge, apply and push end)', () => {
  test.each(seeds([21], 2))('seed %i', async (seed) => {
    const r = new Rand(seed);
    const root = tempDir();
    const hub = join(root, 'hub');
    const a = join(root, 'a');
    const b = join(root, 'b');
    git(root, ['init', '-q', '--bare', '-b', 'main', hub]);
    const shape = peerShape(seed);
    await baseRepo(a, 'a', r);
    git(a, ['remote', 'add', 'hub', hub]);
    await mgOk(['-C', a, 'sync']);
    await mgOk(['clone', hub, b, '--name', 'b'], { env: shape.envB });
    const opsB = clientOps(b, r, 'b', 30);
    await mgOk(['-C', b, 'sync'], { env: shape.envB });
    const opsA = await opsMaybeBusy(a, r, 'a', 30, shape.busyA);
    const snapA = join(root, 'snap-a');
    const snapHub = join(root, 'snap-hub');
    restore(a, snapA);
    restore(hub, snapHub);
    const ref = await mgOk(['-C', a, 'sync']);
    const refTree = tree(a);
    expect(tree(hub, 'main')).toBe(refTree);
    for (let p = 0; p < POINTS; p++) {
      const plan = killPlan(r, ref.ms);
      restore(snapA, a);
      restore(snapHub, hub);
      const run = await cli(['-C', a, 'sync'], { killAfterMs: plan.ms, killGroup: plan.group });
      const ctx = `${describeKill(seed, p, plan, run)} (${shape.text})\nops on b: ${opsB.join('; ')}\nops on a: ${opsA.join('; ')}`;
      note(`${seed}/${p}: ${plan.ms} ms ${plan.group ? 'group' : 'node'} killed=${run.killed} after ${run.ms} ms`);
      checkFsck([a, hub], ctx);
      await rerun(['-C', a, 'sync'], ctx);
      expect(tree(a), ctx).toBe(refTree);
      expect(tree(hub, 'main'), ctx).toBe(refTree);
      expect(diskVsHead(a), ctx).toBe('');
      checkFsck([a, hub], ctx);
    }
  }, TIMEOUT);
});

describe('crash injection: sync between checked-out peers (both ends)', () => {
  test.each(seeds([31], 3))('seed %i', async (seed) => {
    const r = new Rand(seed);
    const root = tempDir();
    const a = join(root, 'a');
    const b = join(root, 'b');
    const shape = peerShape(seed);
    await baseRepo(a, 'a', r);
    await mgOk(['clone', a, b, '--name', 'b'], { env: shape.envB });
    git(a, ['remote', 'add', 'b', b]);
    const opsA = await opsMaybeBusy(a, r, 'a', 25, shape.busyA);
    const opsB = clientOps(b, r, 'b', 25);
    const snap1 = { a: join(root, 's1-a'), b: join(root, 's1-b') };
    restore(a, snap1.a);
    restore(b, snap1.b);
    // Reference: b pushes into a's incoming ref; a receives, merges and pushes back; b receives.
    const refB = await mgOk(['-C', b, 'sync'], { env: shape.envB });
    const snap2 = { a: join(root, 's2-a'), b: join(root, 's2-b') };
    restore(a, snap2.a);
    restore(b, snap2.b);
    const refA = await mgOk(['-C', a, 'sync']);
    await mgOk(['-C', b, 'sync'], { env: shape.envB });
    const refTree = tree(a);
    expect(tree(b)).toBe(refTree);
    const ops = `${shape.text}\nops on a: ${opsA.join('; ')}\nops on b: ${opsB.join('; ')}`;
    for (let p = 0; p < POINTS; p++) {
      const killB = p % 2 === 0; // the pushing end (b) or the receiving end (a)
      const plan = killPlan(r, killB ? refB.ms : refA.ms);
      const snap = killB ? snap1 : snap2;
      restore(snap.a, a);
      restore(snap.b, b);
      const victim = killB ? b : a;
      const envOf = (d: string) => (d === b ? shape.envB : {});
      const run = await cli(['-C', victim, 'sync'], { killAfterMs: plan.ms, killGroup: plan.group, env: envOf(victim) });
      const ctx = `${describeKill(seed, p, plan, run)} (killed: sync in ${killB ? 'b, pushing' : 'a, receiving'})\n${ops}`;
      note(`${seed}/${p}: ${plan.ms} ms ${plan.group ? 'group' : 'node'} killed=${run.killed} after ${run.ms} ms`);
      checkFsck([a, b], ctx);
      await rerun(['-C', victim, 'sync'], ctx, envOf(victim));
      if (killB) await rerun(['-C', a, 'sync'], ctx);
      await rerun(['-C', b, 'sync'], ctx, shape.envB);
      expect(tree(a), ctx).toBe(refTree);
      expect(tree(b), ctx).toBe(refTree);
      expect(diskVsHead(a), ctx).toBe('');
      expect(diskVsHead(b), ctx).toBe('');
      checkFsck([a, b], ctx);
    }
  }, TIMEOUT);
});

describe('crash injection: deliver', () => {
  test.each(seeds([41], 4))('seed %i', async (seed) => {
    const r = new Rand(seed);
    const root = tempDir();
    const a = join(root, 'a');
    await baseRepo(a, 'a', r);
    const opsA = clientOps(a, r, 'a', 15); // deliver records the client's changes too
    const snap = join(root, 'snap');
    restore(a, snap);
    const text = messageText(r, 'delivered');
    const blob = blobId(Buffer.from(text));
    const folder = r.pick(['INBOX', 'Lists/x', 'Newfolder']);
    const args = ['-C', a, 'deliver', '--folder', folder];
    const ref = await mgOk(args, { input: text });
    const refShapes = messageShapes(treeFiles(a));
    for (let p = 0; p < POINTS; p++) {
      const plan = killPlan(r, ref.ms);
      restore(snap, a);
      const run = await cli(args, { input: text, killAfterMs: plan.ms, killGroup: plan.group });
      const ctx = `${describeKill(seed, p, plan, run)}\nops: ${opsA.join('; ')}`;
      note(`${seed}/${p}: ${plan.ms} ms ${plan.group ? 'group' : 'node'} killed=${run.killed} after ${run.ms} ms`);
      checkFsck([a], ctx);
      // The MTA sees a failure and retries only what was not delivered; a message already
      // linked into new/ is delivered (a retry would duplicate it, as with any MDA).
      const newDir = join(a, folder, 'new');
      const delivered = existsSync(newDir) && readdirSync(newDir).some((n) => blobId(readFileSyncSafe(join(newDir, n))) === blob);
      if (delivered) await rerun(['-C', a, 'commit'], ctx);
      else {
        const again = await cli(args, { input: text });
        if (again.code !== 0) throw new Error(`${ctx}\nredelivery exited ${again.code}: ${again.stderr}`);
      }
      expect(messageShapes(treeFiles(a)), ctx).toEqual(refShapes);
      expect(diskVsHead(a), ctx).toBe('');
      checkFsck([a], ctx);
    }
  }, TIMEOUT);
});

function readFileSyncSafe(p: string): Buffer {
  try {
    return readFileSync(p);
  } catch {
    return Buffer.alloc(0);
  }
}
