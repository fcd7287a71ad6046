#!/usr/bin/env node
/**
 * Where a sync's time goes: replays days of changes (bench/lib.mjs `DAY`) on replicas that
 * `node bench/sync.mjs --keep` left, and for each `mailgit sync` (A records and pushes, then
 * B fetches and applies) reports what does not depend on the machine's load — the git
 * processes started (GIT_TRACE2_EVENT, children of git included) and the CPU time — beside
 * wall times, git's own elapsed time per command, and mailgit's steps (MAILGIT_TRACE_PERF).
 *
 *   node bench/breakdown.mjs --from WORKDIR [--days 3] [--json FILE] [--cpu-prof DIR]
 *
 * WORKDIR holds A/, B/ and hub.git from the sync benchmark. A detached packing that a sync
 * started is waited for (and timed) before the next step, so steps do not overlap.
 * Days continue from WORKDIR/.day-round (bench/lib.mjs `replayDay`), so reruns plan new ones. --cpu-prof DIR
 * writes a V8 CPU profile of each sync's node process (bench/profile-top.mjs summarises one).
 * mailgit runs without NODE_EXTRA_CA_CERTS (its CA bundle costs ~80 ms per node start here).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BIN, fmtS, median, parseArgs, replayDay } from './lib.mjs';

const { opt, rest } = parseArgs();
delete process.env.NODE_EXTRA_CA_CERTS;
const FROM = opt('--from', null);
const DAYS = Number(opt('--days', '3'));
const JSON_OUT = opt('--json', null);
const CPU_PROF = opt('--cpu-prof', null);
if (!FROM || rest.length > 0) throw new Error('usage: node bench/breakdown.mjs --from WORKDIR [--days N] [--json FILE]');

const P = (...p) => join(FROM, ...p);

/** Sleeps `ms` (the process has nothing else to do). */
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** True while a detached packing (`maintainMain.js REPO ...`, see src/repo/maintenance.ts) runs for `repo`. */
function packing(repo) {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmd.includes('maintainMain.js') && cmd.includes(`\0${repo}\0`)) return true;
  }
  return false;
}

/** Waits until no detached packing runs for `repo`; returns how long that took. */
function waitForPacking(repo) {
  const t = Date.now();
  while (packing(repo)) sleep(20);
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
    const v = by.get(k) ?? { cmd: k, nested: p.nested, n: 0, ms: 0 };
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

/**
 * A `git` first on PATH that runs the real one under time(1), so that each git process
 * mailgit starts has its CPU time (with its children's, e.g. a push's pack-objects) logged.
 */
function cpuShim() {
  const dir = P('.shim');
  mkdirSync(dir, { recursive: true });
  const real = spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim();
  writeFileSync(join(dir, 'git'), `#!/bin/sh\nexec /usr/bin/time -a -o "$GITCPU_LOG" -f "%U %S %C" ${real} "$@"\n`, { mode: 0o755 });
  return dir;
}
const SHIM = cpuShim();

/** CPU ms per git command that mailgit started (children included), from the shim's log. */
function gitCpu(file) {
  const by = new Map();
  if (!existsSync(file)) return by;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([\d.]+) ([\d.]+) \S+ (.*)$/.exec(line);
    if (!m) continue;
    const cmd = subcommand(['git', ...m[3].split(' ')]);
    by.set(cmd, (by.get(cmd) ?? 0) + (Number(m[1]) + Number(m[2])) * 1000);
  }
  return by;
}

/** The git commands of the packing after a record (src/git/maintain.ts). */
const PACKING = new Set(['show-index', 'pack-objects', 'prune-packed', 'repack']);

/** Runs `mailgit sync` in `repo` with the traces on; returns its figures. */
function traced(repo, tag) {
  const trace = P(`.trace2-${tag}.json`);
  const tfile = P(`.time-${tag}`);
  const cpuLog = P(`.gitcpu-${tag}.log`);
  rmSync(trace, { force: true });
  rmSync(cpuLog, { force: true });
  const load = os.loadavg()[0];
  const t = process.hrtime.bigint();
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      '%M %U %S',
      '-o',
      tfile,
      process.execPath,
      ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`, `--cpu-prof-name=sync-${tag}.cpuprofile`] : []),
      BIN,
      'sync',
    ],
    {
      cwd: repo,
      env: { ...process.env, PATH: `${SHIM}:${process.env.PATH}`, GITCPU_LOG: cpuLog, GIT_TRACE2_EVENT: trace, MAILGIT_TRACE_PERF: '1' },
      encoding: 'utf8',
    },
  );
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`mailgit sync in ${repo} failed (${r.status}): ${r.stderr}`);
  const [rssKB, u, s] = readFileSync(tfile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  const packingMs = waitForPacking(repo);
  const git = gitProcesses(trace);
  const cpu = gitCpu(cpuLog);
  for (const c of git.byCommand) c.cpuMs = c.nested ? undefined : cpu.get(c.cmd);
  const detached = packingMs > 0 ? PACKING : new Set();
  const gitCpuMs = [...cpu].reduce((sum, [cmd, ms]) => (detached.has(cmd) ? sum : sum + ms), 0);
  const packingCpuMs = [...cpu].reduce((sum, [cmd, ms]) => (detached.has(cmd) ? sum + ms : sum), 0);
  return { tag, ms, cpuMs: (u + s) * 1000, gitCpuMs, packingCpuMs, rssMB: Math.round(rssKB / 1024), load, packingMs, git, steps: perfSteps(r.stderr) };
}

const hubBytes = () => readdirSync(P('hub.git', 'objects', 'pack')).reduce((s, f) => s + statSync(P('hub.git', 'objects', 'pack', f)).size, 0);

const results = [];
for (let d = 0; d < DAYS; d++) {
  const round = replayDay(FROM, P('A'));
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
  `| of which git processes (their children included) | ${fmtS(med((r) => r.a.gitCpuMs))} | ${fmtS(med((r) => r.b.gitCpuMs))} |`,
  `| of which mailgit's node process | ${fmtS(med((r) => r.a.cpuMs - r.a.gitCpuMs))} | ${fmtS(med((r) => r.b.cpuMs - r.b.gitCpuMs))} |`,
  `| detached packing after it: wall / CPU | ${fmtS(med((r) => r.a.packingMs))} / ${fmtS(med((r) => r.a.packingCpuMs))} | ${fmtS(med((r) => r.b.packingMs))} / ${fmtS(med((r) => r.b.packingCpuMs))} |`,
  `| peak RSS | ${med((r) => r.a.rssMB)} MB | ${med((r) => r.b.rssMB)} MB |`,
  `| hub growth | ${(med((r) => r.hubGrowth) / 1048576).toFixed(2)} MB | |`,
  '',
];
const last = results[results.length - 1];
for (const side of ['a', 'b']) {
  const x = last[side];
  lines.push(
    `Day ${last.round}, sync on ${side.toUpperCase()}: git processes by elapsed time (sums; ↳ a child of a git process, counted in its parent's CPU; show-index, pack-objects and prune-packed at the top level are the packing after the record, detached when big):`,
    '',
  );
  lines.push('| git command | processes | CPU (with its children) | elapsed |', '|---|---:|---:|---:|');
  for (const c of x.git.byCommand) lines.push(`| ${c.cmd} | ${c.n} | ${c.cpuMs === undefined ? '' : fmtS(c.cpuMs)} | ${fmtS(c.ms)} |`);
  lines.push('', `mailgit's steps (ms since start): ${x.steps.map(([ms, s]) => `${s} ${ms.toFixed(0)}`).join('; ')}`, '');
}
console.log(lines.join('\n'));
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(results, null, 1));
