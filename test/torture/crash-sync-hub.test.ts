/**
 * Crash injection: `sync` through a hub SIGKILLed at seeded random moments — the node
 * process alone, or its whole process group (git children too, as a power cut would).
 * After each kill:
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

const FILE = 'test/torture/crash-sync-hub.test.ts';

describe('crash injection: sync through a hub (merge, apply and push end)', () => {
  test.each(seeds([21], 2))(
    'seed %i',
    async (seed) => {
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
      // The runs after a kill start at the reference's time: a's client changes are dated
      // when its sync records them, and b's clock may be minutes ahead (see crash-sync-peers).
      const at = Date.now();
      const ref = await mgOk(['-C', a, 'sync']);
      const refTree = tree(a);
      expect(tree(hub, 'main')).toBe(refTree);
      for (let p = 0; p < POINTS; p++) {
        const plan = killPlan(r, ref.ms);
        restore(snapA, a);
        restore(snapHub, hub);
        const run = await cli(['-C', a, 'sync'], { killAfterMs: plan.ms, killGroup: plan.group, env: clockStartEnv(at) });
        const ctx = `${describeKill(FILE, seed, p, plan, run)} (${shape.text})\nops on b: ${opsB.join('; ')}\nops on a: ${opsA.join('; ')}`;
        note(`${seed}/${p}: ${plan.ms} ms ${plan.group ? 'group' : 'node'} killed=${run.killed} after ${run.ms} ms`);
        checkFsck([a, hub], ctx);
        await rerun(['-C', a, 'sync'], ctx, clockStartEnv(at));
        expect(tree(a), ctx).toBe(refTree);
        expect(tree(hub, 'main'), ctx).toBe(refTree);
        expect(diskVsHead(a), ctx).toBe('');
        checkFsck([a, hub], ctx);
      }
    },
    TIMEOUT,
  );
});
