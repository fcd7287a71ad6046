#!/usr/bin/env node
/**
 * Restore benchmark: bring back a whole deleted folder.
 *
 *   node bench/restore.mjs [SIZES] [--runs R] [--keep] [--out FILE]
 *
 * SIZES is a comma list of message counts (default 10000). For each size, an INBOX of N
 * generated ~4 KB messages is committed, every message of it is deleted and that is
 * committed too; then, timed with wall time and peak RSS (GNU time's %M, the largest
 * process of the run):
 *   - `mailgit restore --folder INBOX --as-of HEAD~1` (records, commits, applies through
 *     tmp/ + fsync + rename; packing that it starts in the background is not timed),
 *   - the git CLI on the same tree: `git checkout HEAD~1 -- INBOX`, and the commit of it.
 * Each size is measured R times (default 3), each on fresh copies; the table shows the
 * medians, the per-message peak RSS above an empty restore's, the load average at the
 * start of each size, and the page cache: warm (the trees were just written, nothing was
 * dropped). Run `npx tsc -p tsconfig.json` first. Work dirs go to $TMPDIR (removed unless --keep).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, GITENV, T0, fmtS, generateMessage, median, messageKey, parseArgs, rng } from './lib.mjs';

const { opt, flag, rest: args } = parseArgs();
const OUT = opt('--out', null);
const KEEP = flag('--keep');
const SIZES = (args[0] ?? '10000').split(',').map(Number);
const RUNS = Number(opt('--runs', '3'));

/** Runs a command under GNU time; returns wall ms and peak RSS in KB. */
function timed(cmd, argv, cwd, env = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...argv], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  const [secs, kb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { ms: secs * 1000, kb };
}

function quiet(cmd, argv, cwd, env = {}) {
  const r = spawnSync(cmd, argv, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
}

const mg = (cwd, a) => quiet(process.execPath, [BIN, ...a], cwd, { MAILGIT_MAINTAIN: 'foreground' });
const git = (cwd, a) => quiet('git', ['-c', 'gc.auto=0', ...a], cwd, GITENV);

function writeInbox(dir, n) {
  const r = rng(n);
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, 'INBOX', sub), { recursive: true });
  for (let i = 0; i < n; i++) {
    const date = T0 + i * 600_000;
    const body = generateMessage(r, i, date);
    writeFileSync(join(dir, 'INBOX', 'cur', `${messageKey(i, date, body)}:2,${r() < 0.8 ? 'S' : ''}`), body);
  }
}

function emptyInbox(dir) {
  for (const sub of ['cur', 'new']) rmSync(join(dir, 'INBOX', sub), { recursive: true, force: true });
  for (const sub of ['cur', 'new']) mkdirSync(join(dir, 'INBOX', sub));
}

/** One measured run on fresh copies of `src`: mailgit restore, and git checkout + commit. */
function once(work, src, n, run) {
  const a = join(work, `mailgit-${run}`);
  const g = join(work, `git-${run}`);
  cpSync(src, a, { recursive: true });
  cpSync(src, g, { recursive: true });
  mg(a, ['init', a, '--name', 'bench']);
  emptyInbox(a);
  mg(a, ['-C', a, 'commit']);
  git(g, ['init', '-q']);
  git(g, ['add', '-A']);
  git(g, ['commit', '-q', '-m', 'adopt']);
  emptyInbox(g);
  git(g, ['add', '-A']);
  git(g, ['commit', '-q', '-m', 'delete']);
  const m = timed(process.execPath, [BIN, '-C', a, 'restore', '--folder', 'INBOX', '--as-of', 'HEAD~1'], a);
  const back = readdirSync(join(a, 'INBOX', 'cur')).length;
  if (back !== n) throw new Error(`mailgit restored ${back} of ${n}`);
  const c = timed('git', ['checkout', 'HEAD~1', '--', 'INBOX'], g, GITENV);
  const k = timed('git', ['-c', 'gc.auto=0', 'commit', '-q', '-m', 'restore'], g, GITENV);
  rmSync(a, { recursive: true, force: true });
  rmSync(g, { recursive: true, force: true });
  return { m, c, ck: { ms: c.ms + k.ms, kb: Math.max(c.kb, k.kb) } };
}

const rows = [];
for (const n of SIZES) {
  const work = mkdtempSync(join(tmpdir(), `mailgit-bench-restore-${n}-`));
  const src = join(work, 'src');
  writeInbox(src, n);
  const load = loadavg()[0].toFixed(1);
  const runs = [];
  for (let run = 0; run < RUNS; run++) {
    runs.push(once(work, src, n, run));
    console.error(`${n} run ${run + 1}/${RUNS}: mailgit ${fmtS(runs.at(-1).m.ms)} ${runs.at(-1).m.kb} KB, git ${fmtS(runs.at(-1).c.ms)}`);
  }
  const med = (f) => median(runs.map(f));
  const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`;
  rows.push(
    `| ${n} | ${fmtS(med((r) => r.m.ms))} | ${mb(med((r) => r.m.kb))} | ${fmtS(med((r) => r.c.ms))} | ${mb(med((r) => r.c.kb))} | ${fmtS(med((r) => r.ck.ms))} | ${load} |`,
  );
  console.error(rows.at(-1));
  if (!KEEP) rmSync(work, { recursive: true, force: true });
}

const table = [
  `Medians of ${RUNS} runs each; page cache warm (the trees were just written); load = 1-minute load average when the size started.`,
  '',
  '| messages | mailgit restore --folder (wall) | peak RSS | git checkout -- INBOX | peak RSS | git checkout + commit | load |',
  '|---:|---:|---:|---:|---:|---:|---:|',
  ...rows,
].join('\n');
console.log(table);
if (OUT) writeFileSync(OUT, `${table}\n`);
