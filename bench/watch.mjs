#!/usr/bin/env node
/**
 * Watching a large Maildir: mailgit's directory-level watcher against chokidar 5.
 *
 *   node bench/watch.mjs [--messages 100000] [--folders 5] [--no-watchers] [--no-e2e] [--keep]
 *
 * 1. Watcher alone, each in its own process over the same tree: time to ready, RSS
 *    added, inotify watches held, and latency from a rename to its event (20 renames).
 *    - mailgit: DirWatcher (dist/watch/dirwatch.js): fs.watch on directories only;
 *    - chokidar default: chokidar.watch(root) (one watch per file);
 *    - chokidar depth 0: chokidar.watch(each cur/ and new/, {depth: 0}).
 * 2. End to end (unless --no-e2e): the tree adopted as a mail repo, `mailgit watch`
 *    running: latency from the last rename to the commit for 1 and for 500 renames, and
 *    the watch process's RSS at start, after the bursts, and after a full check.
 * Needs `npm run build` first. Prints a Markdown table and JSON.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, median, parseArgs } from './lib.mjs';

/** This checkout's CLI (the watcher measured in-process is this checkout's dist/ too). */
const BIN = join(ROOT, 'bin', 'mailgit.js');
const { opt, flag, rest: args } = parseArgs();

function rssMb(pid = process.pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** inotify watches held by a process (Linux): "inotify wd:" lines in its fdinfo. */
function inotifyWatches(pid = process.pid) {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      n += (readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').match(/^inotify wd:/gm) ?? []).length;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- child: one watcher
async function child(kind, root) {
  global.gc?.();
  const rss0 = rssMb();
  const t0 = performance.now();
  let onEvent = () => {};
  let close;
  const folders = readdirSync(root).filter((f) => !f.startsWith('.'));
  if (kind === 'mailgit') {
    const { DirWatcher } = await import(join(ROOT, 'dist/watch/dirwatch.js'));
    const w = new DirWatcher(root, (e) => onEvent(e.name ?? ''));
    await w.refresh();
    close = () => w.close();
  } else {
    const { watch } = await import('chokidar');
    const paths = kind === 'chokidar-depth0' ? folders.flatMap((f) => [join(root, f, 'cur'), join(root, f, 'new')]) : [root];
    const w = watch(paths, {
      ignoreInitial: true,
      depth: kind === 'chokidar-depth0' ? 0 : undefined,
      ignored: (p) => /\/(\.git|tmp)(\/|$)/.test(p.slice(root.length)),
    });
    for (const ev of ['add', 'unlink', 'addDir', 'unlinkDir', 'change']) w.on(ev, (p) => onEvent(p.slice(p.lastIndexOf('/') + 1)));
    let failed = null;
    w.on('error', (e) => (failed = e));
    await new Promise((r) => w.once('ready', r));
    if (failed) throw failed;
    close = () => w.close();
  }
  const readyMs = performance.now() - t0;
  await sleep(500);
  global.gc?.();
  const rssReady = rssMb();
  const watches = inotifyWatches();
  // Latency: rename a message in cur/ and wait for the event naming its new name.
  const lat = [];
  const dir = join(root, folders[0], 'cur');
  const names = readdirSync(dir).slice(0, 20);
  for (const n of names) {
    const to = `${n.split(':')[0]}:2,S`;
    const seen = new Promise((r) => {
      const t = setTimeout(() => r(NaN), 10_000);
      onEvent = (name) => {
        if (name === to) {
          clearTimeout(t);
          r(performance.now());
        }
      };
    });
    const s = performance.now();
    renameSync(join(dir, n), join(dir, to));
    const e = await seen;
    lat.push(e - s);
    renameSync(join(dir, to), join(dir, n));
    await sleep(30);
  }
  await close();
  process.stdout.write(
    `${JSON.stringify({ kind, readyMs, rssAddedMb: rssReady - rss0, rssMb: rssReady, watches, latencyMedianMs: median(lat.filter(Number.isFinite)), latencyMaxMs: Math.max(...lat.filter(Number.isFinite)), lost: lat.filter((x) => Number.isNaN(x)).length })}\n`,
  );
}

function runChild(kind, root) {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', kind, root], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
    timeout: 600_000,
  });
  const line = (r.stdout ?? '').trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    return { kind, error: (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(-3).join(' ') };
  }
}

// ---------------------------------------------------------------- tree
function makeTree(root, messages, folders) {
  const per = Math.ceil(messages / folders);
  for (let f = 0; f < folders; f++) {
    const dir = join(root, `Folder${f}`);
    for (const s of ['cur', 'new', 'tmp']) mkdirSync(join(dir, s), { recursive: true });
    for (let i = 0; i < per && f * per + i < messages; i++) {
      const k = f * per + i;
      writeFileSync(
        join(dir, 'cur', `1700000000.M${k}P1Q1.bench:2,`),
        `From: a@example.org\nSubject: bench ${k}\nMessage-ID: <b${k}@example.org>\n\nbody ${k}\n`,
      );
    }
  }
}

// ---------------------------------------------------------------- end to end
async function endToEnd(root) {
  const t0 = performance.now();
  const init = spawnSync(process.execPath, [BIN, 'init', root, '--name', 'bench'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (init.status !== 0) throw new Error(`init failed: ${init.stderr}`);
  const adoptMs = performance.now() - t0;
  const w = spawn(process.execPath, [BIN, '-C', root, 'watch', '--json', '--interval', '3600'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const events = [];
  let buf = '';
  w.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      events.push({ ...JSON.parse(buf.slice(0, nl)), at: performance.now() });
      buf = buf.slice(nl + 1);
    }
  });
  const waitEvent = async (pred, from, ms = 60_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const e = events.slice(from).find(pred);
      if (e) return e;
      if (Date.now() > end) throw new Error('timeout waiting for watch');
      await sleep(20);
    }
  };
  const tReady0 = performance.now();
  await waitEvent((e) => e.event === 'ready', 0);
  const readyMs = performance.now() - tReady0;
  await sleep(1000);
  const rssStart = rssMb(w.pid);
  const watches = inotifyWatches(w.pid);
  const dir = join(root, 'Folder1', 'cur');
  const names = readdirSync(dir).filter((n) => n.endsWith(':2,'));
  const burst = async (list) => {
    const from = events.length;
    for (const n of list) renameSync(join(dir, n), join(dir, `${n}S`));
    const end = performance.now();
    const e = await waitEvent((x) => x.event === 'commit', from);
    await sleep(1500);
    return { ms: e.at - end, commits: events.slice(from).filter((x) => x.event === 'commit').length, summary: e.summary };
  };
  const one = await burst(names.slice(0, 1));
  const five = await burst(names.slice(1, 501));
  const rssAfter = rssMb(w.pid);
  // Flat memory: RSS after each of 8 more commits (single renames).
  const more = [];
  for (let i = 0; i < 8; i++) {
    const b = await burst(names.slice(501 + i, 502 + i));
    more.push({ ms: Math.round(b.ms), rssMb: Math.round(rssMb(w.pid)) });
  }
  w.kill('SIGTERM');
  await new Promise((r) => w.on('exit', r));
  return { adoptMs, readyMs, watches, rssStartMb: rssStart, rssAfterBurstsMb: rssAfter, oneRename: one, burst500: five, more };
}

// ---------------------------------------------------------------- main
if (args[0] === '--child') {
  await child(args[1], args[2]);
  process.exit(0);
}
const messages = Number(opt('--messages', '100000'));
const folders = Number(opt('--folders', '5'));
const base = mkdtempSync(join(tmpdir(), 'mailgit-bench-watch-'));
const root = join(base, 'Mail');
console.error(`making ${messages} messages in ${folders} folders under ${root} ...`);
const t = performance.now();
makeTree(root, messages, folders);
console.error(`  ${((performance.now() - t) / 1000).toFixed(1)} s`);
const maxWatches = Number(readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8'));
const results = [];
for (const kind of flag('--no-watchers') ? [] : ['mailgit', 'chokidar-depth0', 'chokidar']) {
  console.error(`watcher: ${kind} ...`);
  results.push(runChild(kind, root));
  console.error(`  ${JSON.stringify(results.at(-1))}`);
}
let e2e = null;
if (!flag('--no-e2e')) {
  console.error('end to end: adopt + mailgit watch ...');
  e2e = await endToEnd(root);
  console.error(`  ${JSON.stringify(e2e)}`);
}
const f = (x, d = 0) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : String(x));
console.log(`\n${messages} messages in ${folders} folders; node ${process.version}; ${cpus().length} cores; max_user_watches ${maxWatches}\n`);
console.log('| watcher | ready | RSS added | inotify watches | rename → event, median / max | events lost |');
console.log('|---|---|---|---|---|---|');
for (const r of results) {
  if (r.error) console.log(`| ${r.kind} | failed: ${r.error} | | | | |`);
  else
    console.log(
      `| ${r.kind} | ${f(r.readyMs)} ms | ${f(r.rssAddedMb, 1)} MB | ${r.watches} | ${f(r.latencyMedianMs, 1)} / ${f(r.latencyMaxMs, 1)} ms | ${r.lost}/20 not seen within 10 s |`,
    );
}
if (e2e) {
  console.log(
    `\nmailgit watch end to end: adopt ${f(e2e.adoptMs / 1000, 1)} s; ready ${f(e2e.readyMs)} ms with ${e2e.watches} inotify watches; RSS ${f(e2e.rssStartMb, 1)} MB at start, ${f(e2e.rssAfterBurstsMb, 1)} MB after the bursts`,
  );
  console.log(`- 1 rename → commit ${f(e2e.oneRename.ms)} ms after it (${e2e.oneRename.commits} commit)`);
  console.log(`- 500 renames → commit ${f(e2e.burst500.ms)} ms after the last (${e2e.burst500.commits} commit: ${e2e.burst500.summary?.join('; ')})`);
  console.log(`- 8 more single renames: commit after ${e2e.more.map((m) => m.ms).join(', ')} ms; RSS ${e2e.more.map((m) => m.rssMb).join(', ')} MB`);
}
console.log(`\n${JSON.stringify({ messages, folders, results, e2e })}`);
if (!flag('--keep')) rmSync(base, { recursive: true, force: true });
