/**
 * Conflicts go to the later change, not the busier replica (issue 10 item 9): two
 * replicas through a hub; for each of several messages one deletes it and the other
 * flags it, one change at least a second after the other; then one replica (chosen by
 * the seed) makes many unrelated commits, and both sync to quiescence (true clocks: with
 * a skewed one, "later" is what the clocks say, which the convergence fuzz covers). Each message must end as its *later* change left it: gone when the
 * deletion came last, flagged when the flag change did.
 * (Before the merge decided by the changes' own clocks, the busy replica won whatever
 * happened when: this case failed.)
 */
import { describe, expect, test } from 'vitest';
import { existsSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Rand, cli, git, mgOk, reproduce, seeds, tempDir } from './lib.js';
import { drop, messageText, newKey } from './client.js';

const FILE = 'test/torture/later-wins.test.ts';

/** The name of message `key` in `dir`'s INBOX/cur, or null. */
function nameOf(dir: string, key: string): string | null {
  const cur = join(dir, 'INBOX/cur');
  return existsSync(cur) ? (readdirSync(cur).find((n) => n.startsWith(`${key}:`)) ?? null) : null;
}

interface Plan {
  key: string;
  deleter: 0 | 1;
  deleteFirst: boolean;
}

async function runCase(seed: number): Promise<void> {
  const r = new Rand(seed);
  const root = tempDir();
  const hub = join(root, 'hub.git');
  const dirs = [join(root, 'r0'), join(root, 'r1')] as const;
  const busy = r.int(0, 1);
  const envs: Record<string, string>[] = [{}, {}];
  git(root, ['init', '-q', '--bare', '-b', 'main', hub]);
  await mgOk(['init', dirs[0], '--name', 'r0'], { env: envs[0] });
  const plans: Plan[] = [];
  for (let i = 0; i < 6; i++) {
    const key = newKey(r, 'base');
    drop(dirs[0], 'INBOX', key, messageText(r, 'base'), 'S');
    plans.push({ key, deleter: r.int(0, 1) as 0 | 1, deleteFirst: r.chance(0.5) });
  }
  git(dirs[0], ['remote', 'add', 'hub', hub]);
  await mgOk(['-C', dirs[0], 'sync'], { env: envs[0] });
  await mgOk(['clone', hub, dirs[1], '--name', 'r1'], { env: envs[1] });
  const log = [`busy: r${busy}`];
  // Two phases, a second and more apart: first changes, then the later ones.
  for (const phase of [0, 1]) {
    for (const p of plans) {
      const deleting = p.deleteFirst === (phase === 0);
      const who = deleting ? p.deleter : 1 - p.deleter;
      const dir = dirs[who]!;
      const name = nameOf(dir, p.key)!;
      if (deleting) unlinkSync(join(dir, 'INBOX/cur', name));
      else renameSync(join(dir, 'INBOX/cur', name), join(dir, 'INBOX/cur', `${p.key}:2,FS`));
      log.push(`phase ${phase}: r${who} ${deleting ? 'deletes' : 'flags'} ${p.key}`);
    }
    for (const i of [0, 1]) await mgOk(['-C', dirs[i]!, 'commit'], { env: envs[i] });
    await new Promise((res) => setTimeout(res, 1500));
  }
  for (let k = 0; k < 15; k++) {
    drop(dirs[busy]!, 'INBOX', newKey(r, `busy${busy}`), messageText(r, 'busy'));
    await mgOk(['-C', dirs[busy]!, 'commit'], { env: envs[busy] });
  }
  for (let round = 0; round < 3; round++)
    for (const i of [0, 1]) {
      const s = await cli(['-C', dirs[i]!, 'sync'], { env: envs[i] });
      if (s.code !== 0) throw new Error(`${reproduce(FILE, seed)}\nr${i} sync exited ${s.code}: ${s.stderr}`);
    }
  const ctx = `${reproduce(FILE, seed)}\n${log.join('\n')}`;
  expect(git(dirs[0], ['rev-parse', 'HEAD^{tree}']), ctx).toBe(git(dirs[1], ['rev-parse', 'HEAD^{tree}']));
  const wrong = plans
    .filter((p) => (nameOf(dirs[0], p.key) === null) !== !p.deleteFirst)
    .map((p) => `${p.key}: the ${p.deleteFirst ? 'flag change' : 'deletion'} came later, but the message is ${p.deleteFirst ? 'gone' : 'there'}`);
  expect(wrong, ctx).toEqual([]);
}

describe('conflicts go to the later change, not the busier replica', () => {
  test.each(seeds([61], 8))('seed %i', async (seed) => runCase(seed), 900_000);
});
