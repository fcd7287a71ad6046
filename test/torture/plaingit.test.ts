/**
 * Plain git commands interleaved: random client changes on two replicas, random plain
 * git commands on one of them (status, stash, stash pop, checkout -f, reset --hard,
 * commit -a, pull, merge, checkout of an old commit, another branch, resets and a
 * `checkout -B main` to an old commit that the hook refuses after git rewrote the
 * Maildir, add -A) and mailgit
 * commands between them. After every mailgit command that succeeds: `git status` is
 * clean, the Maildir equals HEAD, no folder holds two names of one key. A mailgit
 * command may only fail with exit 78, naming a command that leads back, which the
 * generator then runs. At the end both replicas converge with every message nobody
 * deleted.
 */
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { addFlags, addRemote, arrive, bareHub, cloneReplica, diskFiles, expectDiskIsHead, messagesAt, mg, remove } from '../helpers/replica.js';
import { Rand, seeds } from './lib.js';

function plain(repo: string, args: string[]): number {
  const r = spawnSync('git', ['-c', 'user.name=P', '-c', 'user.email=p@example.org', ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, GIT_EDITOR: 'true' },
  });
  return r.status ?? 128;
}

/** Keys of messages on disk (cur/ or new/). */
function diskKeys(repo: string): string[] {
  return [...diskFiles(repo).keys()].filter((p) => /(^|\/)(cur|new)\/[^/]+$/.test(p)).map((p) => p.slice(p.lastIndexOf('/') + 1).split(':')[0]!);
}

function checkGitView(repo: string, what: string): void {
  expect(gitOut(repo, ['status', '--porcelain', '--untracked-files=all']), `git status after ${what}`).toBe('');
  try {
    expectDiskIsHead(repo);
  } catch (e) {
    throw new Error(`${(e as Error).message}\nafter ${what}`);
  }
  for (const [key, ms] of messagesAt(repo)) expect(new Set(ms.map((m) => m.folder)).size, `${key} doubled after ${what}`).toBe(ms.length);
}

/** Runs a mailgit verb; on exit 78 runs the way back it names (once) and retries. */
function mailgitVerb(repo: string, verb: string[], log: string[]): void {
  for (let attempt = 0; ; attempt++) {
    const r = mailgit(['-C', repo, ...verb]);
    log.push(`${repo.endsWith('/A') ? 'a' : 'b'}: mailgit ${verb.join(' ')} → ${r.code}${r.code ? `: ${r.stderr.trim()}` : ''}`);
    if (r.code === 0) {
      checkGitView(repo, log.join('\n'));
      return;
    }
    expect(r.code, log.join('\n')).toBe(78);
    expect(r.stderr.trim().split('\n'), log.join('\n')).toHaveLength(1);
    const way = /run `([^`]+)`/.exec(r.stderr)?.[1];
    expect(way, r.stderr).toBeDefined();
    expect(attempt, log.join('\n')).toBeLessThan(2);
    const args = way!.split(' ');
    expect(args[0]).toBe('git');
    log.push(`way back: ${way}`);
    expect(plain(repo, args.slice(1)), log.join('\n')).toBe(0);
  }
}

const PLAIN: [number, string[][]][] = [
  [3, [['status']]],
  [2, [['stash', '-q']]],
  [2, [['stash', 'pop', '-q']]],
  [2, [['checkout', '-q', '-f']]],
  [2, [['reset', '-q', '--hard']]],
  [1, [['commit', '-q', '-a', '-m', 'plain']]],
  [1, [['commit', '-q', '-a', '-n', '-m', 'plain']]],
  [1, [['pull', '-q', '--no-rebase']]],
  [
    1,
    [
      ['fetch', '-q', 'origin'],
      ['merge', '-q', 'origin/main'],
    ],
  ],
  [1, [['checkout', '-q', '-B', 'other']]],
  [1, [['checkout', '-q', 'HEAD~1']]],
  [1, [['reset', '-q', '--hard', 'HEAD~1']]],
  // Refused moves of main after git rewrote the index and the work tree (or only the
  // index) (docs/design.md, "Plain git"), and a person's `add -A`, whose staged names the
  // client may rename before the next record.
  [1, [['reset', '-q', '--hard', 'HEAD~2']]],
  [1, [['reset', '-q', '--mixed', 'HEAD~1']]],
  [1, [['checkout', '-q', '-B', 'main', 'HEAD~1']]],
  [1, [['add', '-A']]],
];

function pickPlain(r: Rand): string[][] {
  const total = PLAIN.reduce((n, [w]) => n + w, 0);
  let x = r.int(1, total);
  for (const [w, cmds] of PLAIN) if ((x -= w) <= 0) return cmds;
  return PLAIN[0]![1];
}

function clientStep(r: Rand, repo: string, deleted: Set<string>, log: string[]): void {
  const keys = diskKeys(repo);
  const who = repo.endsWith('/A') ? 'a' : 'b';
  const op = r.int(0, 5);
  if (op <= 1 || keys.length < 3) {
    const k = arrive(repo, `m${r.hex(4)}`);
    log.push(`${who}: arrive ${k}`);
  } else if (op <= 4) {
    const k = r.pick(keys);
    addFlags(repo, k, r.pick(['S', 'R', 'F', 'T', 'D']));
    log.push(`${who}: flag ${k}`);
  } else {
    const k = r.pick(keys);
    remove(repo, k);
    deleted.add(k);
    log.push(`${who}: delete ${k}`);
  }
}

async function runCase(seed: number): Promise<void> {
  const r = new Rand(seed);
  const log: string[] = [`seed ${seed}`];
  const hub = bareHub(join(tempDir(), 'hub.git'));
  const a = join(tempDir(), 'A');
  for (let i = 0; i < 4; i++) arrive(a, `start ${i}`);
  expect(mailgit(['init', a, '--name', 'a']).code).toBe(0);
  addRemote(a, 'origin', hub);
  mg(a, ['sync']);
  gitOut(a, ['branch', '-q', '--set-upstream-to=origin/main', 'main']);
  const b = cloneReplica(hub, join(tempDir(), 'B'), 'b');
  log.push(`a is ${a}, b is ${b}`);
  const deleted = new Set<string>();
  const steps = r.int(25, 40);
  for (let i = 0; i < steps; i++) {
    const what = r.int(0, 9);
    try {
      if (what <= 3) clientStep(r, r.chance(0.7) ? a : b, deleted, log);
      else if (what <= 6) {
        for (const cmd of pickPlain(r)) log.push(`git ${cmd.join(' ')} → ${plain(a, cmd)}`);
      } else if (what === 7) mailgitVerb(a, ['commit'], log);
      else mailgitVerb(r.chance(0.6) ? a : b, ['sync'], log);
    } catch (e) {
      // A client that cannot do its step (a folder without cur/) fails with the op log too.
      throw (e as Error).message.includes('\nseed ') ? e : new Error(`${(e as Error).message}\n${log.join('\n')}`);
    }
  }
  for (const repo of [a, b, a]) mailgitVerb(repo, ['sync'], log);
  expect(gitOut(a, ['rev-parse', 'HEAD^{tree}']), log.join('\n')).toBe(gitOut(b, ['rev-parse', 'HEAD^{tree}']));
  const have = new Set(messagesAt(a).keys());
  const arrived = log.flatMap((l) => /^[ab]: arrive (.*)$/.exec(l)?.[1] ?? []);
  for (const k of arrived) if (!deleted.has(k)) expect(have.has(k), `${k} lost\n${log.join('\n')}`).toBe(true);
}

describe('torture: plain git commands interleaved with mailgit', () => {
  test.each(seeds([1, 2], 11))('seed %i', async (seed) => runCase(seed), 1_800_000);
});
