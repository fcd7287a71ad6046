#!/usr/bin/env node
/**
 * Repo-core benchmark: mailgit vs the git CLI on the same generated Maildir.
 *
 *   node bench/core.mjs [SIZES] [--commits N] [--keep] [--out FILE]
 *
 * SIZES is a comma list of message counts (default 10000,100000). For each size:
 *   - adopt: `mailgit init DIR` on an existing Maildir vs `git init && git add -A && git commit`;
 *   - one flag rename recorded: `mailgit commit` vs `git add -A && git commit` (median of 5);
 *   - `.git` bytes added per single-flag-change commit over N commits in a row (default 100),
 *     for both, including mailgit's own maintenance (it packs as it goes).
 * Messages are ~4 KB with realistic headers, in 5 folders (fs layout), 90% in cur/.
 * Run `npx tsc -p tsconfig.json` first (or point MAILGIT_BIN at another build's bin/mailgit.js). Work dirs go to $TMPDIR (removed unless --keep).
 * Prints a Markdown table; --out FILE writes it too.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, lstatSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.MAILGIT_BIN ? resolve(process.env.MAILGIT_BIN) : resolve(HERE, '../bin/mailgit.js');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return false;
  args.splice(i, 1);
  return true;
};
const COMMITS = Number(opt('--commits', '100'));
/** The git CLI side of the growth test may run fewer commits (it is slow and its growth per commit is flat). */
const GIT_COMMITS = Number(opt('--git-commits', String(COMMITS)));
const OUT = opt('--out', null);
const KEEP = flag('--keep');
const SIZES = (args[0] ?? '10000,100000').split(',').map(Number);

const FOLDERS = [
  ['INBOX', 0.4],
  ['Archive', 0.3],
  ['Sent', 0.1],
  ['Lists/rust', 0.1],
  ['Trash', 0.1],
];

// Deterministic PRNG (mulberry32).
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there ' +
  'mail message server build release patch review merge branch commit thanks regards meeting tomorrow project update please attached ' +
  'report question issue fixed version test rust compiler cargo async trait lifetime borrow checker crate docs example performance'
).split(' ');
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function message(r, i, date) {
  const pick = (a) => a[Math.floor(r() * a.length)];
  const name = () => pick(['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy']);
  const dom = () => pick(['example.org', 'lists.example.com', 'mail.example.net', 'corp.example']);
  const b64 = (n) => Array.from({ length: n }, () => B64[Math.floor(r() * 64)]).join('');
  const d = new Date(date).toUTCString().replace('GMT', '+0000');
  const subject = Array.from({ length: 3 + Math.floor(r() * 6) }, () => pick(WORDS)).join(' ');
  const from = `${name()}@${dom()}`;
  const h = [
    `Return-Path: <${from}>`,
    `Delivered-To: me@example.org`,
    `Received: from mx${Math.floor(r() * 9)}.${dom()} (mx.${dom()} [192.0.2.${Math.floor(r() * 250)}])`,
    `\tby mail.example.org (Postfix) with ESMTPS id ${b64(10)}`,
    `\tfor <me@example.org>; ${d}`,
    `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=${dom()}; s=s1;`,
    `\th=from:to:subject:date:message-id; bh=${b64(44)};`,
    `\tb=${b64(76)}`,
    `\t${b64(76)}`,
    `\t${b64(76)}`,
    `Message-ID: <${i}.${b64(12)}@${dom()}>`,
    `Date: ${d}`,
    `From: ${from}`,
    `To: me@example.org`,
    `Subject: ${subject}`,
    `MIME-Version: 1.0`,
    `Content-Type: text/plain; charset=utf-8`,
    `Content-Transfer-Encoding: 8bit`,
  ];
  const target = 3000 + Math.floor(r() * 2000);
  let body = '';
  let line = '';
  while (body.length < target) {
    line += pick(WORDS) + ' ';
    if (line.length > 66) {
      body += line.trimEnd() + '\n';
      line = '';
    }
  }
  return h.join('\n') + '\n\n' + body;
}

/** Writes a Maildir tree of `n` messages to `dir` (fs layout); returns rename candidates in INBOX/cur. */
function generate(dir, n) {
  const r = rng(n);
  const t0 = Date.UTC(2020, 0, 1);
  let i = 0;
  for (const [folder, share] of FOLDERS) {
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, folder, sub), { recursive: true });
    const count = folder === FOLDERS[FOLDERS.length - 1][0] ? n - i : Math.round(n * share);
    for (let k = 0; k < count; k++, i++) {
      const date = t0 + i * 600_000;
      const body = message(r, i, date);
      const key = `${Math.floor(date / 1000)}.M${i}P${1000 + (i % 5000)}.bench,S=${Buffer.byteLength(body)}`;
      const isNew = folder === 'INBOX' && r() < 0.1;
      const flags = r() < 0.8 ? 'S' : '';
      const path = isNew ? join(dir, folder, 'new', key) : join(dir, folder, 'cur', `${key}:2,${flags}`);
      writeFileSync(path, body);
    }
  }
}

function run(cmd, argv, cwd, env = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

const GITENV = { GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b', GIT_CONFIG_NOSYSTEM: '1' };
const gitCli = (cwd, a) => run('git', a, cwd, GITENV);
const mg = (cwd, a) => run(process.execPath, [BIN, ...a], cwd);

function dirBytes(p) {
  let total = 0;
  const st = lstatSync(p);
  if (!st.isDirectory()) return st.size;
  for (const e of readdirSync(p)) total += dirBytes(join(p, e));
  return total;
}

/** Renames one message in INBOX/cur (toggles F); returns nothing. Picks the i-th file. */
function flipOne(root, i) {
  const cur = join(root, 'INBOX', 'cur');
  const names = readdirSync(cur).sort();
  const name = names[(i * 7919) % names.length];
  const [key, info = ':2,'] = [name.slice(0, name.indexOf(':')), name.slice(name.indexOf(':'))];
  const flags = info.slice(3);
  const next = flags.includes('F') ? flags.replace('F', '') : [...flags, 'F'].sort().join('');
  renameSync(join(cur, name), join(cur, `${key}:2,${next}`));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmtS = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const fmtB = (b) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(2)} MB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KB` : `${b} B`);

function flagTimes(root, isMail, reps, offset) {
  const ts = [];
  for (let k = 0; k < reps; k++) {
    flipOne(root, offset + k);
    if (isMail) ts.push(mg(root, ['commit']));
    else {
      const t = process.hrtime.bigint();
      gitCli(root, ['add', '-A']);
      gitCli(root, ['commit', '-q', '-m', 'flag']);
      ts.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  return ts;
}

function growth(root, isMail, n, offset) {
  const before = dirBytes(join(root, '.git'));
  const t = process.hrtime.bigint();
  flagTimes(root, isMail, n, offset);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const after = dirBytes(join(root, '.git'));
  return { perCommit: (after - before) / n, totalMs: ms };
}

const GEN = opt('--generate', null);
if (GEN) {
  // Only write a Maildir tree (for profiling by hand): --generate DIR [N]
  generate(GEN, SIZES[0]);
  process.exit(0);
}

const rows = [];
const base = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), 'mailgit-bench-'));
try {
  for (const n of SIZES) {
    const dirM = join(base, `m${n}`);
    const dirG = join(base, `g${n}`);
    let t = process.hrtime.bigint();
    generate(dirM, n);
    console.error(`generated in ${fmtS(Number(process.hrtime.bigint() - t) / 1e6)}`);
    run('cp', ['-a', dirM, dirG], base);
    const genMs = Number(process.hrtime.bigint() - t) / 1e6;
    const bytes = dirBytes(dirM);
    console.error(`# ${n} messages, ${fmtB(bytes)}, generated in ${fmtS(genMs)}`);
    run('sync', [], base);

    const adoptM = mg(base, ['init', dirM, '--name', 'bench']);
    t = process.hrtime.bigint();
    gitCli(dirG, ['init', '-q']);
    gitCli(dirG, ['add', '-A']);
    gitCli(dirG, ['commit', '-q', '-m', 'adopt']);
    const adoptG = Number(process.hrtime.bigint() - t) / 1e6;
    const gitBytesM = dirBytes(join(dirM, '.git'));
    const gitBytesG = dirBytes(join(dirG, '.git'));
    console.error(`adopt: mailgit ${fmtS(adoptM)} (.git ${fmtB(gitBytesM)}), git ${fmtS(adoptG)} (.git ${fmtB(gitBytesG)})`);

    // Settle mtimes (mailgit does not trust directory stamps younger than 2 s).
    await new Promise((r) => setTimeout(r, 2100));
    mg(dirM, ['commit']);
    const fM = median(flagTimes(dirM, true, 5, 0));
    const fG = median(flagTimes(dirG, false, 5, 0));
    console.error(`one flag: mailgit ${fmtS(fM)}, git ${fmtS(fG)}`);

    const gM = growth(dirM, true, COMMITS, 100);
    const gG = growth(dirG, false, GIT_COMMITS, 100);
    console.error(`growth over ${COMMITS}/${GIT_COMMITS}: mailgit ${fmtB(gM.perCommit)}/commit (${fmtS(gM.totalMs)}), git ${fmtB(gG.perCommit)}/commit (${fmtS(gG.totalMs)})`);
    const loose = (root) => spawnSync('git', ['count-objects', '-v'], { cwd: root, encoding: 'utf8' }).stdout.replace(/\n/g, ' ');
    console.error(`mailgit objects: ${loose(dirM)}`);
    rows.push({ n, bytes, adoptM, adoptG, gitBytesM, gitBytesG, fM, fG, gM, gG });
    if (!KEEP) {
      rmSync(dirM, { recursive: true, force: true });
      rmSync(dirG, { recursive: true, force: true });
    }
  }
} finally {
  if (!KEEP) rmSync(base, { recursive: true, force: true });
  else console.error(`kept ${base}`);
}

const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
const lines = [
  `| messages | tree | adopt mailgit | adopt git CLI | ratio (≤ 1.0×) | .git after adopt (mailgit / git) | one flag mailgit | one flag git CLI | ratio (≤ 0.1× at 100k) | .git per flag commit mailgit (≤ 10 KB) | .git per flag commit git CLI | ${COMMITS} / ${GIT_COMMITS} flag commits, time mailgit / git |`,
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.n.toLocaleString('en')} | ${fmtB(r.bytes)} | ${fmtS(r.adoptM)} | ${fmtS(r.adoptG)} | ${ratio(r.adoptM, r.adoptG)} | ${fmtB(r.gitBytesM)} / ${fmtB(r.gitBytesG)} | ${fmtS(r.fM)} | ${fmtS(r.fG)} | ${ratio(r.fM, r.fG)} | ${fmtB(r.gM.perCommit)} | ${fmtB(r.gG.perCommit)} | ${fmtS(r.gM.totalMs)} / ${fmtS(r.gG.totalMs)} |`,
  ),
];
const table = lines.join('\n') + '\n';
process.stdout.write(table);
if (OUT) writeFileSync(OUT, table);
