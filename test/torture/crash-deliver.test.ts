/**
 * Crash injection: `deliver` SIGKILLed at seeded random moments — the node process
 * alone, or its whole process group (git children too, as a power cut would). After each
 * kill:
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
import { Rand, blobId, cli, diskVsHead, messageShapes, mgOk, restore, seeds, tempDir, treeFiles } from './lib.js';
import { messageText } from './client.js';
import { POINTS, TIMEOUT, baseRepo, checkFsck, clientOps, describeKill, killPlan, note, rerun } from './crashLib.js';

const FILE = 'test/torture/crash-deliver.test.ts';

describe('crash injection: deliver', () => {
  test.each(seeds([41], 4))(
    'seed %i',
    async (seed) => {
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
        const ctx = `${describeKill(FILE, seed, p, plan, run)}\nops: ${opsA.join('; ')}`;
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
    },
    TIMEOUT,
  );
});

function readFileSyncSafe(p: string): Buffer {
  try {
    return readFileSync(p);
  } catch {
    return Buffer.alloc(0);
  }
}
