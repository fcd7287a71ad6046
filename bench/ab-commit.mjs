#!/usr/bin/env node
/**
 * Two builds side by side: the CPU time (user + sys of the whole process tree, from
 * /usr/bin/time) of `mailgit commit` recording one flag change, for a refactor that must
 * not make anything slower. On a loaded machine wall times of single runs vary 2×; CPU
 * time of many alternating runs compares builds at the same moment.
 *
 *   node bench/ab-commit.mjs BASE_BIN OTHER_BIN [--messages N] [--runs R]
 *
 * BASE_BIN and OTHER_BIN are two builds' bin/mailgit.js (`git worktree add DIR REV`,
 * `npx tsc -p tsconfig.json` there). One generated Maildir (N messages, default 2000) is
 * copied and adopted once per build; then R times (default 30) each build records one
 * flag rename in its copy, the order of the two alternating per run. Packing runs in the
 * foreground (MAILGIT_MAINTAIN=foreground) so that no detached packing overlaps the next
 * run. Prints the medians and means of CPU and wall time, and the load average.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median, parseArgs, writeMaildir } from './lib.mjs';

const { opt, rest } = parseArgs();
const N = Number(opt('--messages', '2000'));
const RUNS = Number(opt('--runs', '30'));
if (rest.length !== 2) throw new Error('usage: node bench/ab-commit.mjs BASE_BIN OTHER_BIN [--messages N] [--runs R]');
const bins = { base: resolve(rest[0]), other: resolve(rest[1]) };
const env = { ...process.env, MAILGIT_MAINTAIN: 'foreground' };
delete env.NODE_EXTRA_CA_CERTS; // ~80 ms of CA loading per node start, and nothing here uses TLS

/** Runs the CLI under /usr/bin/time; returns wall and CPU seconds. */
function timed(bin, args, cwd) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', process.execPath, bin, ...args], { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mailgit ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const [wall, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + sys };
}

const work = mkdtempSync(join(tmpdir(), 'mailgit-ab-'));
try {
  writeMaildir(join(work, 'mail'), N);
  const repos = {};
  for (const side of Object.keys(bins)) {
    repos[side] = join(work, side);
    cpSync(join(work, 'mail'), repos[side], { recursive: true });
    timed(bins[side], ['init', repos[side]], work);
  }
  const res = { base: [], other: [] };
  for (let k = 0; k < RUNS; k++) {
    for (const side of k % 2 ? ['other', 'base'] : ['base', 'other']) {
      const cur = join(repos[side], 'INBOX', 'cur');
      const f = readdirSync(cur).sort()[k];
      renameSync(join(cur, f), join(cur, f.replace(/:2,.*$/, f.endsWith(':2,F') ? ':2,' : ':2,F')));
      res[side].push(timed(bins[side], ['commit'], repos[side]));
    }
  }
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  for (const [side, rs] of Object.entries(res)) {
    const cpu = rs.map((r) => r.cpu);
    const wall = rs.map((r) => r.wall);
    console.log(`${side}: CPU median ${median(cpu).toFixed(2)} s, mean ${mean(cpu).toFixed(3)} s; wall median ${median(wall).toFixed(2)} s (${RUNS} runs)`);
  }
  console.log(`load average: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
