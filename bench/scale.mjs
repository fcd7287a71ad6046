#!/usr/bin/env node
/**
 * Scale benchmark (not CI): how mailgit's everyday commands grow with the mailbox.
 *
 *   node bench/scale.mjs [SIZES] [--keep] [--write-docs]
 *
 * SIZES: comma list of message counts (default 10000,100000; 1000000 if you have the disk:
 * ~2.5 KB per message plus the repo). For each size a Maildir is written with fs (5 folders,
 * 90% in cur/, ~2 KB messages), adopted with `mailgit init`, pushed to a bare hub and cloned
 * as a second replica. Then, each under `/usr/bin/time` (wall time, peak RSS of the command
 * and its children as reported by time(1)):
 *   - commit of one change (a flag rename; median of 3),
 *   - status with one change pending,
 *   - log --message KEY (one message's story),
 *   - sync of a day of changes made on the other replica (200 new, 1000 flag changes,
 *     50 moves, 100 deletions): the pushing sync there, then the pulling sync here.
 * Prints a Markdown table; --write-docs replaces the `## scale` section of
 * docs/benchmarks.md (only that section). Work dirs go to $TMPDIR (removed unless --keep).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { BIN, FOLDERS as SHARES, ROOT, median, parseArgs, rng } from './lib.mjs';

const { flag, rest: args } = parseArgs();
const KEEP = flag('--keep');
const WRITE = flag('--write-docs');
const SIZES = (args[0] ?? '10000,100000').split(',').map(Number);

// Its own messages (~2 KB, lorem filler), not bench/lib.mjs's ~4 KB ones: the results in
// docs/benchmarks.md were measured with these.
const R = rng(42);
const FOLDERS = SHARES.map(([f]) => f);
const pickFolder = () => {
  let u = R();
  for (const [f, w] of SHARES) if ((u -= w) < 0) return f;
  return FOLDERS[0];
};
const FILLER = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n'.repeat(22);
let seq = 0;
function message(tag) {
  const id = `${tag}.${seq++}.${Math.floor(R() * 1e9)}`;
  return `Return-Path: <a${seq % 97}@example.org>\nFrom: Someone ${seq % 97} <a${seq % 97}@example.org>\nTo: me@example.org\nSubject: scale message ${id}\nDate: Tue, 24 Nov 2026 10:00:00 +0000\nMessage-ID: <${id}@bench>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n${id}\n${FILLER}`;
}
const key = (tag) => `${1700000000 + seq}.M${seq}P1Q1.${tag}`;

function run(cmd, argv, opts = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', cmd, ...argv], { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  const m = /([\d.]+) (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return { s: Number(m[1]), rssMB: Math.round(Number(m[2]) / 1024), cpu: Number(m[3]) + Number(m[4]) };
}
const mg = (dir, ...a) => run(process.execPath, [BIN, '-C', dir, ...a]);
const git = (dir, ...a) => {
  const r = spawnSync('git', a, { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`git ${a.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const du = (dir) => spawnSync('du', ['-sm', dir], { encoding: 'utf8' }).stdout.split('\t')[0];

function listCur(dir) {
  const out = [];
  for (const f of FOLDERS) for (const n of readdirSync(join(dir, f, 'cur'))) out.push([f, n]);
  return out;
}

/** A day of client changes on `dir`: 200 new, 1000 flag changes, 50 moves, 100 deletions. */
function day(dir) {
  for (let i = 0; i < 200; i++) writeFileSync(join(dir, 'INBOX/new', key('day')), message('day'));
  const cur = listCur(dir);
  const used = new Set();
  const take = () => {
    for (;;) {
      const i = Math.floor(R() * cur.length);
      if (!used.has(i)) {
        used.add(i);
        return cur[i];
      }
    }
  };
  for (let i = 0; i < 1000; i++) {
    const [f, n] = take();
    const k = n.split(':')[0];
    renameSync(join(dir, f, 'cur', n), join(dir, f, 'cur', `${k}:2,${n.endsWith('S') ? 'FS' : 'S'}`));
  }
  for (let i = 0; i < 50; i++) {
    const [f, n] = take();
    const to = FOLDERS[(FOLDERS.indexOf(f) + 1) % FOLDERS.length];
    renameSync(join(dir, f, 'cur', n), join(dir, to, 'cur', n));
  }
  for (let i = 0; i < 100; i++) {
    const [f, n] = take();
    unlinkSync(join(dir, f, 'cur', n));
  }
}

const rows = [];
for (const n of SIZES) {
  const work = mkdtempSync(join(tmpdir(), `mailgit-scale-${n}-`));
  const a = join(work, 'a');
  try {
    const t0 = Date.now();
    for (const f of FOLDERS) for (const s of ['cur', 'new', 'tmp']) mkdirSync(join(a, f, s), { recursive: true });
    let firstKey = null;
    for (let i = 0; i < n; i++) {
      const f = pickFolder();
      const k = key('gen');
      firstKey ??= k;
      const inCur = R() < 0.9;
      writeFileSync(join(a, f, inCur ? 'cur' : 'new', inCur ? `${k}:2,S` : k), message('gen'));
    }
    const genS = (Date.now() - t0) / 1000;
    const adopt = run(process.execPath, [BIN, 'init', a, '--name', 'a']);
    const hub = join(work, 'hub.git');
    git(work, 'init', '-q', '--bare', '-b', 'main', hub);
    git(a, 'remote', 'add', 'hub', hub);
    const push0 = mg(a, 'sync');
    const b = join(work, 'b');
    const clone = run(process.execPath, [BIN, 'clone', hub, b, '--name', 'b']);
    // commit of one change, median of 3
    const commits = [];
    for (let i = 0; i < 3; i++) {
      const [f, name] = listCur(a)[Math.floor(R() * 1000)];
      const k = name.split(':')[0];
      renameSync(join(a, f, 'cur', name), join(a, f, 'cur', `${k}:2,${name.endsWith('S') ? 'FS' : 'S'}`));
      commits.push(mg(a, 'commit'));
    }
    const commit = { s: median(commits.map((c) => c.s)), rssMB: Math.max(...commits.map((c) => c.rssMB)), cpu: median(commits.map((c) => c.cpu)) };
    const [f1, n1] = listCur(a)[7];
    renameSync(join(a, f1, 'cur', n1), join(a, f1, 'cur', `${n1.split(':')[0]}:2,RS`));
    const status = mg(a, 'status');
    const logMsg = mg(a, 'log', '--message', firstKey);
    mg(a, 'sync');
    mg(b, 'sync');
    day(b);
    const pushDay = mg(b, 'sync');
    const pullDay = mg(a, 'sync');
    const same = git(a, 'rev-parse', 'HEAD^{tree}') === git(b, 'rev-parse', 'HEAD^{tree}');
    rows.push({ n, genS, adopt, push0, clone, commit, status, logMsg, pushDay, pullDay, same, gitMB: du(join(a, '.git')), load: loadavg()[0].toFixed(1) });
    console.error(JSON.stringify(rows[rows.length - 1]));
  } finally {
    if (!KEEP) rmSync(work, { recursive: true, force: true });
  }
}

const cell = (x) => `${x.s.toFixed(1)} s (cpu ${x.cpu.toFixed(1)} s) / ${x.rssMB} MB`;
const table = [
  '| messages | adopt (`init`) | first push | `clone` | commit of one change | `status` | `log --message` | sync of a day: push (other replica) | sync of a day: pull + apply | `.git` | load avg |',
  '|---:|---|---|---|---|---|---|---|---|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.n.toLocaleString('en')} | ${cell(r.adopt)} | ${cell(r.push0)} | ${cell(r.clone)} | ${cell(r.commit)} | ${cell(r.status)} | ${cell(r.logMsg)} | ${cell(r.pushDay)} | ${cell(r.pullDay)}${r.same ? '' : ' (trees differ!)'} | ${r.gitMB} MB | ${r.load} |`,
  ),
].join('\n');
console.log(table);

if (WRITE) {
  const path = join(ROOT, 'docs/benchmarks.md');
  const doc = readFileSync(path, 'utf8');
  const section = `## scale\n\nGenerated by \`node bench/scale.mjs ${SIZES.join(',')} --write-docs\` on ${new Date().toISOString().slice(0, 10)} (${cpus().length} cores; the load average column says how busy the shared machine was — wall times scale with it). Each cell: wall time (user+sys CPU of the command and its children, which the load changes far less) / peak RSS, from time(1). Messages ~2 KB in 5 folders (fs layout), 90% in cur/. A day = 200 new, 1000 flag changes, 50 moves, 100 deletions made on the other replica.\n\n${table}\n`;
  const start = doc.indexOf('\n## scale\n');
  let out;
  if (start < 0) out = `${doc.trimEnd()}\n\n${section}`;
  else {
    const rest = doc.indexOf('\n## ', start + 1);
    out = doc.slice(0, start + 1) + section + (rest < 0 ? '' : doc.slice(rest));
  }
  writeFileSync(path, out);
}
