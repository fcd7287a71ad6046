/**
 * Crash injection: `watch` SIGKILLed at seeded random moments — the node process alone,
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
import { Rand, cli, diskVsHead, git, seeds, tempDir } from './lib.js';
import { POINTS, TIMEOUT, baseRepo, checkFsck, clientOps, describeKill, note, rerun } from './crashLib.js';
import { drop, makeFolder, messageText, newKey, removableFolders, startRemoval } from './client.js';

const FILE = 'test/torture/crash-watch.test.ts';

/** A folder the client makes with one message in it, under a name no other operation uses. */
function freshFolder(repo: string, r: Rand): string {
  const name = `Gone${r.int(1, 1_000_000)}`;
  makeFolder(repo, name);
  drop(repo, name, newKey(r, 'a'), messageText(r, 'a'), 'S');
  return name;
}

describe('crash injection: watch (long-lived cat-file and fast-import, packing in-process)', () => {
  test.each(seeds([31], 7))(
    'seed %i',
    async (seed) => {
      const r = new Rand(seed);
      const slow = new Rand(seed ^ 0x51d0);
      const root = tempDir();
      const a = join(root, 'a');
      await baseRepo(a, 'a', r);
      const commits = () => Number(git(a, ['rev-list', '--count', 'HEAD']).trim());
      /** One kill point; returns how many commits watch made before it was killed. */
      const point = async (p: number, plan: { ms: number; group: boolean; afterRecord?: boolean }): Promise<number> => {
        const before = commits();
        const kill = plan.afterRecord ? { killWhen: { ready: () => commits() > before, afterMs: plan.ms } } : { killAfterMs: plan.ms };
        const watching = cli(['-C', a, 'watch', '--debounce', '50', '--interval', '0'], { ...kill, killGroup: plan.group });
        let done = false;
        void watching.then(() => (done = true));
        // The client acts while watch records (and is killed mid-way): a few changes, a pause.
        const t0 = Date.now();
        while (plan.afterRecord ? !done : Date.now() - t0 < plan.ms + 300) {
          clientOps(a, r, 'a', r.int(1, 4));
          await new Promise((res) => setTimeout(res, r.int(10, 200)));
          // Now and then a folder removal that watch may record in the middle of, of a folder
          // just made (history does not know it yet) or of one there (its own stream, so that
          // the seed's client operations stay what they were).
          const rm = slow.chance(0.15) ? (slow.chance(0.5) ? freshFolder(a, slow) : slow.pick([...removableFolders(a), null])) : null;
          if (rm) {
            const finish = startRemoval(a, rm);
            await new Promise((res) => setTimeout(res, slow.int(50, 400)));
            finish();
          }
        }
        const run = await watching;
        const ctx = describeKill(FILE, seed, p, plan, run);
        note(
          `${seed}/${p}: watch ${plan.afterRecord ? `${plan.ms} ms after its first record` : `${plan.ms} ms`} ${plan.group ? 'group' : 'node'} killed=${run.killed}`,
        );
        expect(run.killed, ctx).toBe(true);
        checkFsck([a], ctx);
        const made = commits() - before;
        // Nothing the client did is lost: the next commit brings HEAD level with the disk.
        await rerun(['-C', a, 'commit'], ctx);
        expect(diskVsHead(a), ctx).toBe('');
        checkFsck([a], ctx);
        return made;
      };
      let byWatch = 0;
      for (let p = 0; p < POINTS; p++) byWatch += await point(p, { ms: r.int(700, 4000), group: r.chance(0.5) });
      // The kills must also land while watch records: on a machine so loaded that watch had
      // not recorded by any of the moments above, one more kill follows its first record.
      if (byWatch === 0) byWatch += await point(POINTS, { ms: r.int(0, 500), group: r.chance(0.5), afterRecord: true });
      expect(byWatch).toBeGreaterThan(0);
    },
    TIMEOUT,
  );
});
