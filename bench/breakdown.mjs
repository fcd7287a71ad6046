#!/usr/bin/env node
/**
 * Where a sync's time goes: replays days of changes (bench/lib.mjs `DAY`) on replicas that
 * `node bench/sync.mjs --keep` left, and for each `mailgit sync` (A records and pushes, then
 * B fetches and applies) reports what does not depend on the machine's load — the git
 * processes started (GIT_TRACE2_EVENT, children of git included) and the CPU time — beside
 * wall times, git's own elapsed time per command, and mailgit's steps (MAILGIT_TRACE_PERF).
 *
 *   node bench/breakdown.mjs --from WORKDIR [--days 3] [--json FILE]
 *
 * WORKDIR holds A/, B/ and hub.git from the sync benchmark. A detached packing that a sync
 * started is waited for (and timed) before the next step, so steps do not overlap.
 * Rounds continue from WORKDIR/.breakdown-round, so reruns plan new days.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BIN, applyDay, curKeys, fmtS, median, parseArgs, planDay } from './lib.mjs';

const { opt, rest } = parseArgs();
const FROM = opt('--from', null);
const DAYS = Number(opt('--days', '3'));
const JSON_OUT = opt('--json', null);
if (!FROM || rest.length > 0) throw new Error('usage: node bench/breakdown.mjs --from WORKDIR [--days N] [--json FILE]');

const P = (...p) => join(FROM, ...p);
const roundFile = P('.breakdown-round');
const firstRound = existsSync(roundFile) ? Number(readFileSync(roundFile, 'utf8')) : 100;

/** Sleeps `ms` (the process has nothing else to do). */
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Waits until no detached packing holds `.git/mailgit/maintain.lock`; returns how long that took. */
function waitForPacking(repo) {
  const t = Date.now();
  while (existsSync(join(repo, '.git', 'mailgit', 'maintain.lock'))) sleep(20);
  return Date.now() - t;
}

/** The git subcommand of an argv (`git -c x=y fetch ...` → fetch). */
function subcommand(argv) {
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === '-c' || argv[i] === '-C') i++;
    else if (!argv[i].startsWith('-')) return argv[i];
  }
  return '?';
}

/** Per git command: processes and summed elapsed ms, from one GIT_TRACE2_EVENT file. */
function gitProcesses(file) {
  const procs = new Map();
  if (!existsSync(file)) return { top: 0, all: 0, byCommand: [] };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line);
    if (e.event === 'start') procs.set(e.sid, { cmd: subcommand(e.argv), nested: e.sid.includes('/'), ms: 0 });
    else if (e.event === 'exit' && procs.has(e.sid)) procs.get(e.sid).ms = e.t_abs * 1000;
  }
  const by = new Map();
  for (const p of procs.values()) {
    const k = `${p.nested ? '  ↳ ' : ''}${p.cmd}`;
    const v = by.get(k) ?? { cmd: k, n: 0, ms: 0 };
    v.n++;
    v.ms += p.ms;
    by.set(k, v);
  }
  const all = [...procs.values()];
  return { top: all.filter((p) => !p.nested).length, all: all.length, byCommand: [...by.values()].sort((a, b) => b.ms - a.ms) };
}

/** mailgit's own steps (MAILGIT_TRACE_PERF lines): [ms since start, step]. */
function perfSteps(stderr) {
  return [...stderr.matchAll(/^mailgit perf: ([\d.]+) ms (.*)$/gm)].map((m) => [Number(m[1]), m[2]]);
}

/** Runs `mailgit sync` in `repo` with the traces on; returns its figures. */
function traced(repo, tag) {
  const trace = P(`.trace2-${tag}.json`);
  const tfile = P(`.time-${tag}`);
  rmSync(trace, { force: true });
  const load = os.loadavg()[0];
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', '-o', tfile, process.execPath, BIN, 'sync'], {
    cwd: repo,
    env: { ...process.env, GIT_TRACE2_EVENT: trace, MAILGIT_TRACE_PERF: '1' },
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`mailgit sync in ${repo} failed (${r.status}): ${r.stderr}`);
  const [rssKB, u, s] = readFileSync(tfile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  const packingMs = waitForPacking(repo);
  return { tag, ms, cpuMs: (u + s) * 1000, rssMB: Math.round(rssKB / 1024), load, packingMs, git: gitProcesses(trace), steps: perfSteps(r.stderr) };
}

const hubBytes = () => readdirSync(P('hub.git', 'objects', 'pack')).reduce((s, f) => s + statSync(P('hub.git', 'objects', 'pack', f)).size, 0);

const results = [];
for (let d = 0; d < DAYS; d++) {
  const round = firstRound + d;
  const keys = curKeys(P('A'));
  applyDay(P('A'), planDay(keys, keys.length, round));
  writeFileSync(roundFile, String(round + 1));
  sleep(2100); // past the record's racy window, as a day's last change would be
  const hub0 = hubBytes();
  const a = traced(P('A'), `A${round}`);
  const b = traced(P('B'), `B${round}`);
  results.push({ round, a, b, hubGrowth: hubBytes() - hub0 });
  console.error(`[breakdown] day ${round}: A ${fmtS(a.ms)} (cpu ${fmtS(a.cpuMs)}, ${a.git.all} git), B ${fmtS(b.ms)} (cpu ${fmtS(b.cpuMs)}, ${b.git.all} git)`);
}

const med = (f) => median(results.map(f));
const lines = [
  `Days replayed: ${results.length}; load average (1 min) at the steps: ${Math.min(...results.flatMap((r) => [r.a.load, r.b.load])).toFixed(1)}–${Math.max(...results.flatMap((r) => [r.a.load, r.b.load])).toFixed(1)}.`,
  '',
  '| median of the days | sync on A | sync on B |',
  '|---|---:|---:|',
  `| wall | ${fmtS(med((r) => r.a.ms))} | ${fmtS(med((r) => r.b.ms))} |`,
  `| CPU (user+sys, process tree) | ${fmtS(med((r) => r.a.cpuMs))} | ${fmtS(med((r) => r.b.cpuMs))} |`,
  `| git processes (started by mailgit / all, git's children included) | ${med((r) => r.a.git.top)} / ${med((r) => r.a.git.all)} | ${med((r) => r.b.git.top)} / ${med((r) => r.b.git.all)} |`,
  `| detached packing after it | ${fmtS(med((r) => r.a.packingMs))} | ${fmtS(med((r) => r.b.packingMs))} |`,
  `| peak RSS | ${med((r) => r.a.rssMB)} MB | ${med((r) => r.b.rssMB)} MB |`,
  `| hub growth | ${(med((r) => r.hubGrowth) / 1048576).toFixed(2)} MB | |`,
  '',
];
const last = results[results.length - 1];
for (const side of ['a', 'b']) {
  const x = last[side];
  lines.push(`Day ${last.round}, sync on ${side.toUpperCase()}: git commands by elapsed time (sum; one process's time includes its children's):`, '');
  lines.push('| git command | processes | elapsed |', '|---|---:|---:|');
  for (const c of x.git.byCommand) lines.push(`| ${c.cmd} | ${c.n} | ${fmtS(c.ms)} |`);
  lines.push('', `mailgit's steps (ms since start): ${x.steps.map(([ms, s]) => `${s} ${ms.toFixed(0)}`).join('; ')}`, '');
}
console.log(lines.join('\n'));
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(results, null, 1));
