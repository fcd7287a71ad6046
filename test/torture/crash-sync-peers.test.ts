/**
 * Crash injection: `sync` between checked-out peers SIGKILLed (the pushing and the
 * receiving end) at seeded random moments — the node process alone, or its whole process
 * group (git children too, as a power cut would). After each kill:
 *   - `git fsck --strict` is clean in every repo involved,
 *   - the rerun succeeds,
 *   - the result equals what a run without the kill gives (same tree: nothing lost,
 *     nothing doubled, no deleted message back),
 *   - the Maildir on disk agrees with HEAD.
 * CI runs a fixed seed set; `npm run torture` (MAILGIT_TORTURE_SEEDS=N) runs more, and
 * MAILGIT_TORTURE_SEED=S reruns one.
 */
import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { Rand, cli, clockStartEnv, diskVsHead, git, mgOk, restore, seeds, tempDir } from './lib.js';
import { POINTS, TIMEOUT, baseRepo, checkFsck, clientOps, describeKill, killPlan, note, opsMaybeBusy, peerShape, rerun, tree } from './crashLib.js';

const FILE = 'test/torture/crash-sync-peers.test.ts';

describe('crash injection: sync between checked-out peers (both ends)', () => {
  test.each(seeds([31], 3))(
    'seed %i',
    async (seed) => {
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
      // When each run started, on its replica's clock: last-writer-wins dates the client
      // changes a sync records by when it records them, so the runs after a kill are held to
      // the reference's times (else a kill point a minute later can turn a conflict the
      // other way, as it did for seed 141887 with b's clock a minute ahead).
      const at = { b1: Date.now() + shape.skewB, a: 0, b2: 0 };
      const refB = await mgOk(['-C', b, 'sync'], { env: shape.envB });
      const snap2 = { a: join(root, 's2-a'), b: join(root, 's2-b') };
      restore(a, snap2.a);
      restore(b, snap2.b);
      at.a = Date.now();
      const refA = await mgOk(['-C', a, 'sync']);
      at.b2 = Date.now() + shape.skewB;
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
        const envOf = (d: string) => clockStartEnv(d === a ? at.a : killB ? at.b1 : at.b2);
        const run = await cli(['-C', victim, 'sync'], { killAfterMs: plan.ms, killGroup: plan.group, env: envOf(victim) });
        const ctx = `${describeKill(FILE, seed, p, plan, run)} (killed: sync in ${killB ? 'b, pushing' : 'a, receiving'})\n${ops}`;
        note(`${seed}/${p}: ${plan.ms} ms ${plan.group ? 'group' : 'node'} killed=${run.killed} after ${run.ms} ms`);
        checkFsck([a, b], ctx);
        await rerun(['-C', victim, 'sync'], ctx, envOf(victim));
        if (killB) await rerun(['-C', a, 'sync'], ctx, clockStartEnv(at.a));
        await rerun(['-C', b, 'sync'], ctx, clockStartEnv(at.b2));
        expect(tree(a), ctx).toBe(refTree);
        expect(tree(b), ctx).toBe(refTree);
        expect(diskVsHead(a), ctx).toBe('');
        expect(diskVsHead(b), ctx).toBe('');
        checkFsck([a, b], ctx);
      }
    },
    TIMEOUT,
  );
});
