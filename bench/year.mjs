#!/usr/bin/env node
/**
 * A year of synced days: how big `.git` gets on a replica and on the hub against the
 * Maildir's own size (a user's backup budget).
 *
 *   node bench/year.mjs [--messages 100000] [--days 365] [--every 30] [--keep]
 *
 * Setup with mailgit itself: a generated Maildir (bench/lib.mjs, ~4 KB messages, 5 folders)
 * adopted as A (`mailgit init`), pushed to a bare hub (`mailgit sync`; the hub's config
 * gets mailgit's hub packing settings, as `mailgit remote add --create` writes them) and
 * cloned as B (`mailgit clone`). Then each day is the shape of bench/sync.mjs (200 new,
 * 1000 flag changes, 50 moves, 100 deletions; yesterday's new mail also moves to cur/, as
 * a client that showed it does), but *recorded with git plumbing* on A
 * (`hash-object -w`, `update-index --index-info` on an index of its own, `write-tree`,
 * `commit-tree`, `update-ref`): mailgit's per-day time is not what is measured here
 * (bench/sync.mjs does that), the objects a day leaves are — the same trees and blobs a
 * record writes. After each day, as mailgit's sync would: A's own packing (mailgit's
 * maintenance, dist/repo/maintainMain.js, run to its end), `git push` to the hub (whose
 * receive-pack starts git's detached `gc --auto`, waited for), `git fetch` on B, B's
 * branch moved to it and B's packing. Every `--every` days and at the end: bytes (du,
 * apparent size) of A's and B's `.git`, the hub, and the Maildir (the sum of its files, and
 * with each file rounded up to a 4 KB block as ext4 stores it). At the end a copy of the
 * hub is repacked from scratch (`git repack -a -d -f`) and B is checked
 * (`fsck --connectivity-only`). Work dirs go to $TMPDIR (removed unless --keep). Prints
 * Markdown.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { HUB_PACKING } from '../dist/sync/remotes.js';
import { BIN, DAY, FOLDERS, GITENV, ROOT, fmtB, parseArgs, planDay, writeMaildir } from './lib.mjs';

const { opt, flag, rest } = parseArgs();
const N = Number(opt('--messages', '100000'));
const DAYS = Number(opt('--days', '365'));
const EVERY = Number(opt('--every', '30'));
const KEEP = flag('--keep');
if (!Number.isInteger(N) || N < 2000 || rest.length > 0) throw new Error('usage: node bench/year.mjs [--messages N ≥ 2000] [--days 365] [--every 30] [--keep]');
delete process.env.NODE_EXTRA_CA_CERTS;

const MAINTAIN = join(ROOT, 'dist/repo/maintainMain.js');
const WORK = mkdtempSync(join(process.env.TMPDIR ?? os.tmpdir(), 'mailgit-year-'));
const A = join(WORK, 'A');
const B = join(WORK, 'B');
const HUB = join(WORK, 'hub.git');
const INDEX = join(A, '.git', 'year-index');
const log = (s) => console.error(`[year ${N}] ${new Date().toISOString().slice(11, 19)} ${s}`);

/**
 * Runs git in `cwd` (with `input` on stdin); returns its stdout, trimmed. Without hooks:
 * a mail repo's reference-transaction hook refuses plain git moving `main`, which is what
 * this benchmark does in mailgit's place.
 */
function git(cwd, args, { input, env = {} } = {}) {
  const r = spawnSync('git', ['-c', 'core.hooksPath=/dev/null', ...args], {
    cwd,
    input,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: { ...process.env, ...GITENV, ...env },
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} in ${cwd} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}
/** Runs a program to its end; throws with its stderr when it fails. */
function must(cmd, args, cwd = WORK) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}
const bytes = (dir) => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** The Maildir as git holds it: path → { oid, size } of every message file. */
function readModel() {
  const model = new Map();
  for (const line of git(A, ['ls-tree', '-r', '-l', 'HEAD']).split('\n')) {
    const m = /^\d+ blob ([0-9a-f]+) +(\d+)\t(.*)$/.exec(line);
    if (m && /\/(cur|new)\//.test(m[3])) model.set(m[3], { oid: m[1], size: Number(m[2]) });
  }
  return model;
}

/** The flag change a client makes (as bench/lib.mjs's applyDay does). */
function toggled(name) {
  const c = name.indexOf(':2,');
  const fl = name.slice(c + 3);
  const next = !fl.includes('S') ? `${fl}S` : fl.includes('F') ? fl.replace('F', '') : `${fl}F`;
  return `${name.slice(0, c)}:2,${[...next].sort().join('')}`;
}

/** Records one planned day on A with git plumbing and moves A's main; updates `model`. */
function recordDay(model, round) {
  const cur = [];
  const byKey = new Map();
  for (const path of model.keys()) {
    const m = /^(.*)\/cur\/(([^:]*):.*)$/.exec(path);
    if (!m) continue;
    cur.push({ folder: m[1], key: m[3] });
    byKey.set(`${m[1]}/${m[3]}`, m[2]);
  }
  const day = planDay(cur, N, round);
  const lines = [];
  const move = (from, to) => {
    const e = model.get(from);
    model.delete(from);
    model.set(to, e);
    lines.push(`0 ${'0'.repeat(40)}\t${from}`, `100644 ${e.oid}\t${to}`);
  };
  for (const path of [...model.keys()].filter((p) => /\/new\//.test(p))) move(path, `${path.replace('/new/', '/cur/')}:2,`);
  for (const c of day.flags) {
    const name = byKey.get(`${c.folder}/${c.key}`);
    move(`${c.folder}/cur/${name}`, `${c.folder}/cur/${toggled(name)}`);
  }
  for (const c of day.moves) {
    const name = byKey.get(`${c.folder}/${c.key}`);
    move(`${c.folder}/cur/${name}`, `${c.to}/cur/${name}`);
  }
  for (const c of day.deletes) {
    const path = `${c.folder}/cur/${byKey.get(`${c.folder}/${c.key}`)}`;
    model.delete(path);
    lines.push(`0 ${'0'.repeat(40)}\t${path}`);
  }
  const tmp = join(WORK, 'fresh');
  mkdirSync(tmp, { recursive: true });
  const files = day.fresh.map((f, k) => {
    const p = join(tmp, String(k));
    writeFileSync(p, f.body);
    return p;
  });
  const oids = git(A, ['hash-object', '-w', '--stdin-paths'], { input: `${files.join('\n')}\n` }).split('\n');
  day.fresh.forEach((f, k) => {
    const path = `${f.folder}/new/${f.key}`;
    model.set(path, { oid: oids[k], size: Buffer.byteLength(f.body) });
    lines.push(`100644 ${oids[k]}\t${path}`);
  });
  rmSync(tmp, { recursive: true, force: true });
  const env = { GIT_INDEX_FILE: INDEX };
  git(A, ['update-index', '--index-info'], { input: `${lines.join('\n')}\n`, env });
  const tree = git(A, ['write-tree'], { env });
  const parent = git(A, ['rev-parse', 'refs/heads/main']);
  const commit = git(A, ['commit-tree', tree, '-p', parent, '-m', `day ${round + 1}`]);
  git(A, ['update-ref', 'refs/heads/main', commit, parent]);
  return commit;
}

/** Runs mailgit's packing on a replica to its end (what its record or sync schedules). */
const maintain = (dir) => must(process.execPath, [MAINTAIN, dir, join(dir, '.git')], dir);

/** Waits for the detached `gc --auto` that receive-pack may have started on the hub. */
function waitHubGc() {
  sleep(200);
  while (existsSync(join(HUB, 'gc.pid'))) sleep(100);
}

/** The Maildir's size: file bytes, and with each file rounded up to a 4 KB block. */
function maildirBytes(model) {
  let raw = 0;
  let blocks = 0;
  for (const { size } of model.values()) {
    raw += size;
    blocks += Math.ceil(size / 4096) * 4096;
  }
  return { raw, blocks, files: model.size };
}

const rows = [];
function measure(model, days, ms) {
  const row = { days, ...maildirBytes(model), a: bytes(join(A, '.git')), hub: bytes(HUB), b: bytes(join(B, '.git')), load: os.loadavg()[0], ms };
  rows.push(row);
  log(`day ${days}: Maildir ${fmtB(row.raw)} (${row.files} files), A .git ${fmtB(row.a)}, hub ${fmtB(row.hub)}, B .git ${fmtB(row.b)}`);
}

try {
  let t = Date.now();
  writeMaildir(A, N, { newShare: 0.02 });
  log(`generated in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  must(process.execPath, [BIN, 'init', A, '--name', 'a']);
  git(WORK, ['init', '-q', '--bare', '-b', 'main', HUB]);
  for (const [k, v] of HUB_PACKING) git(HUB, ['config', k, v]);
  git(A, ['remote', 'add', 'hub', HUB]);
  must(process.execPath, [BIN, 'sync'], A);
  must(process.execPath, [BIN, 'clone', HUB, B, '--name', 'b']);
  waitHubGc();
  log(`adopted, pushed and cloned in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  git(A, ['read-tree', 'HEAD'], { env: { GIT_INDEX_FILE: INDEX } });
  const model = readModel();
  measure(model, 0, 0);
  t = Date.now();
  for (let d = 0; d < DAYS; d++) {
    const head = recordDay(model, d);
    maintain(A);
    git(A, ['push', '-q', 'hub', 'HEAD:refs/heads/main']);
    waitHubGc();
    git(B, ['fetch', '-q', '--no-tags', 'origin', '+refs/heads/main:refs/remotes/origin/main']);
    git(B, ['update-ref', 'refs/heads/main', head]);
    maintain(B);
    if ((d + 1) % EVERY === 0 || d + 1 === DAYS) measure(model, d + 1, Date.now() - t);
  }
  git(B, ['fsck', '--connectivity-only', '--no-progress']);
  const copy = join(WORK, 'hub-repacked.git');
  must('cp', ['-a', HUB, copy]);
  git(copy, ['repack', '-a', '-d', '-f', '-q']);
  const fresh = bytes(copy);
  rmSync(copy, { recursive: true, force: true });
  const first = rows[0];
  const last = rows.at(-1);
  const x = (a, b) => `${(a / b).toFixed(2)}×`;
  console.log(
    [
      `A year at ${N.toLocaleString('en-US')} messages: ${DAYS} days of ${DAY.fresh} new, ${DAY.flags} flag changes, ${DAY.moves} moves, ${DAY.deletes} deletions (plus yesterday's new mail moved to cur/), recorded with git plumbing, packed and synced as mailgit does; ${os.cpus().length} cores, load average ${Math.min(...rows.map((r) => r.load)).toFixed(1)}–${Math.max(...rows.map((r) => r.load)).toFixed(1)}.`,
      '',
      '| days | messages | Maildir (file bytes) | Maildir (4 KB blocks) | A `.git` | hub | B `.git` | hub / Maildir (file bytes) |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.days} | ${r.files.toLocaleString('en-US')} | ${fmtB(r.raw)} | ${fmtB(r.blocks)} | ${fmtB(r.a)} | ${fmtB(r.hub)} | ${fmtB(r.b)} | ${x(r.hub, r.raw)} |`,
      ),
      '',
      `After ${DAYS} days: the hub grew ${fmtB(last.hub - first.hub)} (${fmtB((last.hub - first.hub) / DAYS)} a day) and A's \`.git\` ${fmtB(last.a - first.a)}, while the Maildir's files grew ${fmtB(last.raw - first.raw)}; a fresh \`git repack -a -d -f\` of the hub: ${fmtB(fresh)} (the hub is ${x(last.hub, fresh)} that). ${((last.ms / 1000 / DAYS) * 1).toFixed(1)} s of wall time a day for the whole loop (all three repos).`,
    ].join('\n'),
  );
} finally {
  if (KEEP) log(`kept ${WORK}`);
  else rmSync(WORK, { recursive: true, force: true });
}
