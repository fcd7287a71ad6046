/**
 * The torture's clock preload (test/torture/skew.cjs) holds a run to a given start: what
 * lets the crash files compare the runs after a kill with a reference run made earlier,
 * whatever time has passed since (last-writer-wins dates the changes a sync records by
 * when it records them; crash-sync-peers seed 141887 turned a conflict the other way when
 * its kill point came more than b's one-minute clock lead after the reference).
 */
import { expect, test } from 'vitest';
import { join } from 'node:path';
import { Rand, clockStartEnv, git, mgOk, skewEnv, tempDir } from './lib.js';
import { drop, messageText, newKey } from './client.js';

/** The committer time (ms) of HEAD after recording one new message in `dir` with `env`. */
async function recordAt(dir: string, r: Rand, env: Record<string, string>): Promise<number> {
  drop(dir, 'INBOX', newKey(r, 'a'), messageText(r, 'a'));
  await mgOk(['-C', dir, 'commit'], { env });
  return Number(git(dir, ['log', '-1', '--format=%ct']).trim()) * 1000;
}

test('a run whose clock is held to a start records at that start, not at the real time', async () => {
  const r = new Rand(7);
  const dir = join(tempDir(), 'a');
  await mgOk(['init', dir, '--name', 'a']);
  const start = Date.UTC(2024, 0, 2, 3, 4, 5);
  const t = await recordAt(dir, r, clockStartEnv(start));
  expect(t).toBeGreaterThanOrEqual(start - 1000);
  expect(t).toBeLessThan(start + 60_000);
  // The skew of a replica still runs with the real clock: a day ahead is a day ahead of now.
  const now = Date.now();
  expect(await recordAt(dir, r, skewEnv(86_400_000))).toBeGreaterThanOrEqual(now + 86_400_000 - 1000);
});
