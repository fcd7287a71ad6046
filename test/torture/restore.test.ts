/**
 * Crash injection for the time machine: `restore --folder --as-of` and `undo` of a mass
 * deletion are SIGKILLed at seeded random moments (the node process alone, or its whole
 * process group). After each kill:
 *   - `git fsck --strict` is clean,
 *   - the next command (a plain `commit`) leaves HEAD either before the restore or with
 *     all of it — never half restored — and the Maildir on disk equal to HEAD,
 *   - running the restore (or undo) again ends on the tree of a run that was not killed.
 * The apply goes in batches of 16 (`MAILGIT_APPLY_BATCH`), so that kills land between
 * batches of a restore's streamed apply too.
 * CI runs a fixed seed set; MAILGIT_TORTURE_SEEDS=N runs more, MAILGIT_TORTURE_SEED=S one.
 */
import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { Rand, cli, diskVsHead, fsckStrict, git, longRun, mgOk, reproduce, restore, seeds, tempDir } from './lib.js';
import { drop, messageText, messages, newKey, randomFlags } from './client.js';
import { existsSync, unlinkSync } from 'node:fs';

const FILE = 'test/torture/restore.test.ts';
const POINTS = longRun() ? 8 : 3;
const TIMEOUT = 900_000;
const BATCHED = { MAILGIT_APPLY_BATCH: '16' };

function tree(repo: string, rev = 'HEAD'): string {
  return git(repo, ['rev-parse', `${rev}^{tree}`]).trim();
}

/** A repo with mail in two folders (commit T0), then most of it deleted (commit D). */
async function deletedRepo(dir: string, r: Rand): Promise<{ t0: string; d: string }> {
  await mgOk(['init', dir, '--name', 'a']);
  for (let i = 0; i < 300; i++) drop(dir, r.chance(0.7) ? 'INBOX' : 'Lists/x', newKey(r, 'a'), messageText(r, 'a'), r.chance(0.6) ? randomFlags(r) : undefined);
  await mgOk(['-C', dir, 'commit']);
  const t0 = git(dir, ['rev-parse', 'HEAD']).trim();
  for (const m of messages(dir)) if (r.chance(0.8)) unlinkSync(join(dir, m.path));
  await mgOk(['-C', dir, 'commit']);
  return { t0, d: git(dir, ['rev-parse', 'HEAD']).trim() };
}

const SCENARIOS: { name: string; args: (c: { t0: string; d: string }) => string[] }[] = [
  { name: 'restore --folder --as-of', args: (c) => ['restore', '--folder', 'INBOX', '--as-of', c.t0] },
  { name: 'undo of a mass deletion', args: (c) => ['undo', c.d] },
];

describe.each(SCENARIOS)('crash injection: $name', ({ args }) => {
  test.each(seeds([41, 31021], 3))(
    'seed %i',
    async (seed) => {
      const r = new Rand(seed);
      const root = tempDir();
      const a = join(root, 'a');
      const commits = await deletedRepo(a, r);
      const snap = join(root, 'snap');
      restore(a, snap);
      const before = tree(a);
      const ref = await mgOk(['-C', a, ...args(commits)], { env: BATCHED });
      const after = tree(a);
      expect(after).not.toBe(before);
      for (let p = 0; p < POINTS; p++) {
        const u = r.next();
        const plan = { ms: Math.round(ref.ms * (u < 0.4 ? 0.05 + u * 0.9 : 0.4 + 0.55 * r.next())), group: r.chance(0.5) };
        restore(snap, a);
        const run = await cli(['-C', a, ...args(commits)], { killAfterMs: plan.ms, killGroup: plan.group, env: BATCHED });
        const ctx = `${reproduce(FILE, seed, `kill point ${p}: SIGKILL ${plan.group ? 'group' : 'node'} at ${plan.ms} ms, ${run.killed ? 'killed' : `finished first (exit ${run.code})`}`)}\nstderr: ${run.stderr}`;
        fsckStrict(a);
        if (process.env.MAILGIT_TORTURE_VERBOSE)
          console.log(`${seed}/${p}: ${plan.ms} ms killed=${run.killed} journal=${existsSync(join(a, '.git/mailgit/apply.json'))} moved=${tree(a) === after}`);
        await mgOk(['-C', a, 'commit']);
        expect([before, after], ctx).toContain(tree(a));
        expect(diskVsHead(a), ctx).toBe('');
        await mgOk(['-C', a, ...args(commits)], { env: BATCHED });
        expect(tree(a), ctx).toBe(after);
        expect(diskVsHead(a), ctx).toBe('');
        fsckStrict(a);
      }
    },
    TIMEOUT,
  );
});
