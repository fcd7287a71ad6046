/**
 * Crash injection: `commit` SIGKILLed at seeded random moments — the node process alone,
 * or its whole process group (git children too, as a power cut would). After each kill:
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
import { Rand, cli, diskVsHead, mgOk, restore, seeds, tempDir } from './lib.js';
import { POINTS, TIMEOUT, baseRepo, checkFsck, clientOps, describeKill, killPlan, note, rerun, tree } from './crashLib.js';

const FILE = 'test/torture/crash-commit.test.ts';

describe('crash injection: commit', () => {
  test.each(seeds([11], 1))(
    'seed %i',
    async (seed) => {
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
        const ctx = describeKill(FILE, seed, p, plan, run);
        note(`${seed}/${p}: ${plan.ms} ms ${plan.group ? 'group' : 'node'} killed=${run.killed} after ${run.ms} ms`);
        checkFsck([a], ctx);
        await rerun(['-C', a, 'commit'], ctx);
        expect(tree(a), ctx).toBe(refTree);
        expect(diskVsHead(a), ctx).toBe('');
        checkFsck([a], ctx);
      }
    },
    TIMEOUT,
  );
});
