#!/usr/bin/env node
/**
 * Repo-core benchmark: mailgit vs the git CLI on the same generated Maildir.
 *
 *   node bench/core.mjs [SIZES] [--commits N] [--keep] [--out FILE]
 *   node bench/core.mjs [SIZES] --adopt-only [--reps 3] [--from DIR] [--out FILE]
 *   node bench/core.mjs N --generate DIR
 *   node bench/core.mjs --flags-on MAILREPO [--git-on GITREPO] [--after-status] [--out FILE]
 *
 * SIZES is a comma list of message counts (default 10000,100000). For each size:
 *   - adopt: `mailgit init DIR` on an existing Maildir vs `git init && git add -A && git commit`;
 *   - one flag rename recorded: `git add -A && git commit` vs `mailgit commit` (a cold CLI
 *     process) and vs the resident record `mailgit watch` runs after a burst (median of 5);
 *   - `.git` bytes added per single-flag-change commit over N commits in a row (default 100),
 *     for both, including mailgit's own maintenance (it packs as it goes).
 * Messages are ~4 KB with realistic headers, in 5 folders (fs layout), 90% in cur/.
 * --adopt-only times only the adopt, `--reps` times (default 3), mailgit and the git CLI
 * back to back on fresh `cp -a` copies, and reports medians with the load average;
 * --from DIR copies an already generated Maildir (see --generate) instead of generating.
 * --drop-caches (root) empties the page cache (`sync; echo 3 > /proc/sys/vm/drop_caches`)
 * before each timed adopt, mailgit's and git's alike, so both read the Maildir from disk.
 * --flags-on times only the one flag change (cold commit and resident record, median of 5)
 * on an existing mail repo, and the git CLI's on GITREPO (a plain git repo of a Maildir).
 * --after-status runs a plain `git status` (untimed) before each of mailgit's flag changes,
 * so that every record finds an index someone else wrote (src/repo/gitIndex.ts).
 * The git CLI runs with gc.auto=0: its `commit` would otherwise start a detached
 * `gc --auto` (10k+ loose objects) that disturbs the next timings and shrinks `.git`
 * under the growth count. mailgit's detached packing is waited for (untimed) before each
 * single flag commit and before `.git` is measured; its duration after the last of the
 * growth commits is reported. mailgit runs without NODE_EXTRA_CA_CERTS: that variable alone
 * costs ~80–90 ms per node start (loading the CA bundle) on the benchmark machine, and
 * nothing measured here uses TLS.
 * Run `npx tsc -p tsconfig.json` first (or point MAILGIT_BIN at another build's bin/mailgit.js). Work dirs go to $TMPDIR (removed unless --keep).
 * Prints a Markdown table; --out FILE writes it too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, lstatSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, GITENV, ROOT, fmtB, fmtS, median, parseArgs, writeMaildir } from './lib.mjs';

const { opt, flag, rest: args } = parseArgs();
const COMMITS = Number(opt('--commits', '100'));
/** The git CLI side of the growth test may run fewer commits (it is slow and its growth per commit is flat). */
const GIT_COMMITS = Number(opt('--git-commits', String(COMMITS)));
const OUT = opt('--out', null);
const KEEP = flag('--keep');
const ADOPT_ONLY = flag('--adopt-only');
const REPS = Number(opt('--reps', ADOPT_ONLY ? '3' : '1'));
const FROM = opt('--from', null);
const DROP = flag('--drop-caches');
const FLAGS_ON = opt('--flags-on', null);
const GIT_ON = opt('--git-on', null);
const AFTER_STATUS = flag('--after-status');
const SIZES = (args[0] ?? '10000,100000').split(',').map(Number);

/** Writes a Maildir tree of `n` messages to `dir` (fs layout; 10% of INBOX in new/). */
const generate = (dir, n) => writeMaildir(dir, n, { newShare: 0.1 });

function run(cmd, argv, cwd, env = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

const gitCli = (cwd, a) => run('git', a, cwd, GITENV);
/** The git CLI's adopt; gc.auto=0 so that its commit does not leave a detached gc running. */
function gitAdopt(cwd) {
  const t = process.hrtime.bigint();
  for (const a of [
    ['init', '-q'],
    ['add', '-A'],
    ['commit', '-q', '-m', 'adopt'],
  ])
    gitCli(cwd, ['-c', 'gc.auto=0', ...a]);
  return Number(process.hrtime.bigint() - t) / 1e6;
}
const mg = (cwd, a) => run(process.execPath, [BIN, ...a], cwd, { NODE_EXTRA_CA_CERTS: undefined });

/** `fn()`, or `fallback` when what it reads vanished meanwhile (ENOENT). */
function unlessGone(fn, fallback) {
  try {
    return fn();
  } catch (e) {
    if (e.code === 'ENOENT') return fallback;
    throw e;
  }
}

/** Bytes under `p`; files that vanish during the walk (a git gc deleting loose objects) count 0. */
function dirBytes(p) {
  let total = 0;
  const st = unlessGone(() => lstatSync(p), null);
  if (st === null) return 0;
  if (!st.isDirectory()) return st.size;
  const names = unlessGone(() => readdirSync(p), []);
  for (const e of names) total += dirBytes(join(p, e));
  return total;
}

/** The 1-minute load average, from /proc/loadavg. */
const load1 = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/** Renames one message in INBOX/cur (toggles F); returns nothing. Picks the i-th file. */
function flipOne(root, i) {
  const cur = join(root, 'INBOX', 'cur');
  const names = readdirSync(cur).sort();
  const name = names[(i * 7919) % names.length];
  const [key, info = ':2,'] = [name.slice(0, name.indexOf(':')), name.slice(name.indexOf(':'))];
  const flags = info.slice(3);
  const next = flags.includes('F') ? flags.replace('F', '') : [...flags, 'F'].sort().join('');
  renameSync(join(cur, name), join(cur, `${key}:2,${next}`));
  return [name, `${key}:2,${next}`];
}

/** With --after-status: a person's `git status`, which writes the index (untimed). */
function plainStatus(root) {
  if (AFTER_STATUS) gitCli(root, ['status', '--porcelain']);
}

/**
 * Times `reps` flag commits. With `settled`, each mailgit commit starts once the packing
 * the previous one left to a detached process has ended (not timed): a person's flag
 * changes are seconds apart, and the commit should not be charged for competing with it.
 */
async function flagTimes(root, isMail, reps, offset, settled = false) {
  const ts = [];
  for (let k = 0; k < reps; k++) {
    if (settled && isMail) await settle(root);
    if (isMail) plainStatus(root);
    flipOne(root, offset + k);
    if (isMail) ts.push(mg(root, ['commit']));
    else {
      const t = process.hrtime.bigint();
      // gc.auto=0: after the 100k-object adopt, git's first commit would start a
      // detached `gc --auto` that competes with the next timings and shrinks `.git`
      // under the growth count. (mailgit's own detached packing is likewise waited for.)
      gitCli(root, ['-c', 'gc.auto=0', 'add', '-A']);
      gitCli(root, ['-c', 'gc.auto=0', 'commit', '-q', '-m', 'flag']);
      ts.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  return ts;
}

/**
 * Times recording one flag rename the way `mailgit watch` does after a burst, in this
 * process: the same resident RecordSession that watch holds (HEAD's listings, one tree
 * reader, one fast-import, the names its events gave), packing after each record as watch
 * does (not timed). No node start-up and no debounce wait
 * are counted: that is the cost of the record itself. The first record (which fills the
 * listing, as watch's first record does) is not counted.
 */
async function residentTimes(root, reps, offset) {
  const dist = (m) => import(new URL(`../dist/${m}`, import.meta.url).href);
  const [{ openRepo }, { RecordSession }, { withRepoLock }] = await Promise.all(['repo/repo.js', 'repo/record.js', 'repo/lock.js'].map(dist));
  const repo = await openRepo(root);
  const session = new RecordSession(repo, { resident: true });
  const ts = [];
  try {
    for (let k = 0; k <= reps; k++) {
      await session.packed(); // watch packs after a record, alongside; a person's next flag change comes later
      plainStatus(root);
      const names = flipOne(root, offset + k);
      const hints = k === 0 ? new Map() : new Map([['INBOX/cur', new Set(names)]]);
      const t = process.hrtime.bigint();
      const r = await withRepoLock(repo, { what: 'bench' }, (locked) => session.record(locked, { hints }));
      if (k > 0) ts.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (!r) throw new Error('resident record found nothing to record');
    }
  } finally {
    await session.close();
  }
  return ts;
}

/** Waits until no detached maintenance runs in the repo (packing that a record started); returns the ms waited. */
async function settle(root) {
  const t = Date.now();
  const lock = join(root, '.git', 'mailgit', 'maintain.lock');
  let quiet = 0;
  while (quiet < 3) {
    quiet = existsSync(lock) ? 0 : quiet + 1;
    await new Promise((r) => setTimeout(r, 200));
  }
  return Date.now() - t - 600;
}

async function growth(root, isMail, n, offset) {
  if (isMail) {
    // Start from a packed state, so that young packs of the runs above (folded later,
    // when due) do not count as shrinkage here.
    await settle(root);
    const { maintain } = await import(new URL('../dist/git/maintain.js', import.meta.url).href);
    await maintain({ root, gitDir: join(root, '.git') }, { force: true });
  }
  const before = dirBytes(join(root, '.git'));
  const t = process.hrtime.bigint();
  await flagTimes(root, isMail, n, offset);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  // mailgit may still be packing in the background (as git's gc --auto would): wait for it.
  const packingMs = isMail ? await settle(root) : 0;
  const after = dirBytes(join(root, '.git'));
  return { perCommit: (after - before) / n, totalMs: ms, packingMs };
}

const GEN = opt('--generate', null);
if (GEN) {
  // Only write a Maildir tree (for profiling by hand): --generate DIR [N]
  generate(GEN, SIZES[0]);
  process.exit(0);
}

/** Adopt only: mailgit and the git CLI back to back on fresh copies, REPS times; medians. */
/** With --drop-caches: writes dirty pages and empties the page cache (needs root). */
function dropCaches() {
  if (DROP) run('sh', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches'], ROOT);
}

async function adoptOnly() {
  const rows = [];
  const base = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), 'mailgit-bench-'));
  try {
    for (const n of SIZES) {
      const src = FROM ?? join(base, `src${n}`);
      if (!FROM) generate(src, n);
      const bytes = dirBytes(src);
      const ms = [];
      const gs = [];
      const loads = [];
      let gitBytesM = 0;
      let gitBytesG = 0;
      for (let k = 0; k < REPS; k++) {
        const dirM = join(base, `m${n}.${k}`);
        const dirG = join(base, `g${n}.${k}`);
        run('cp', ['-a', src, dirM], base);
        run('cp', ['-a', src, dirG], base);
        run('sync', [], base);
        const l0 = load1();
        dropCaches();
        const tm = mg(base, ['init', dirM, '--name', 'bench']);
        dropCaches();
        const tg = gitAdopt(dirG);
        const l1 = load1();
        ms.push(tm);
        gs.push(tg);
        loads.push(l0, l1);
        gitBytesM = dirBytes(join(dirM, '.git'));
        gitBytesG = dirBytes(join(dirG, '.git'));
        console.error(
          `${n} #${k + 1}: mailgit ${fmtS(tm)} (.git ${fmtB(gitBytesM)}), git ${fmtS(tg)} (.git ${fmtB(gitBytesG)}), ratio ${(tm / tg).toFixed(2)}, load ${l0} → ${l1}`,
        );
        if (!KEEP) {
          rmSync(dirM, { recursive: true, force: true });
          rmSync(dirG, { recursive: true, force: true });
        }
      }
      rows.push({ n, bytes, adoptM: median(ms), adoptG: median(gs), gitBytesM, gitBytesG, loads });
    }
  } finally {
    if (!KEEP) rmSync(base, { recursive: true, force: true });
    else console.error(`kept ${base}`);
  }
  const lines = [
    `| messages | tree | adopt mailgit (median of ${REPS}${DROP ? ', page cache dropped before each' : ', page cache warm'}) | adopt git CLI | ratio (≤ 1.0×) | .git after adopt (mailgit / git) | load average (1 min) during the runs |`,
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.n.toLocaleString('en')} | ${fmtB(r.bytes)} | ${fmtS(r.adoptM)} | ${fmtS(r.adoptG)} | ${(r.adoptM / r.adoptG).toFixed(2)}× | ${fmtB(r.gitBytesM)} / ${fmtB(r.gitBytesG)} | ${Math.min(...r.loads)}–${Math.max(...r.loads)} |`,
    ),
  ];
  const table = `${lines.join('\n')}\n`;
  process.stdout.write(table);
  if (OUT) writeFileSync(OUT, table);
}

if (ADOPT_ONLY) {
  await adoptOnly();
  process.exit(0);
}

/**
 * One flag change only, on repos that exist (a 1M-message replica that bench/sync.mjs
 * kept): `mailgit commit` cold and the resident record (median of 5 each) on the mail
 * repo, and `git add -A && git commit` on a plain git repo of the same Maildir if given.
 */
async function flagsOnly(mailRepo, gitRepo) {
  await settle(mailRepo);
  mg(mailRepo, ['commit'], mailRepo);
  const l0 = load1();
  const fM = median(await flagTimes(mailRepo, true, 5, 0, true));
  await settle(mailRepo);
  const fR = median(await residentTimes(mailRepo, 5, 50));
  await settle(mailRepo);
  const fG = gitRepo ? median(await flagTimes(gitRepo, false, 5, 0)) : NaN;
  const l1 = load1();
  const versus = (x) => (gitRepo ? ` (${(x / fG).toFixed(2)}×)` : '');
  const table = [
    '| repo | one flag: git CLI | `mailgit commit` (ratio) | resident record, as `mailgit watch` (ratio) | load average (1 min) |',
    '|---|---:|---:|---:|---:|',
    `| ${mailRepo} | ${gitRepo ? fmtS(fG) : '—'} | ${fmtS(fM)}${versus(fM)} | ${fmtS(fR)}${versus(fR)} | ${l0}–${l1} |`,
    '',
  ].join('\n');
  process.stdout.write(table);
  if (OUT) writeFileSync(OUT, table);
}

if (FLAGS_ON) {
  await flagsOnly(FLAGS_ON, GIT_ON);
  process.exit(0);
}

const rows = [];
const base = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), 'mailgit-bench-'));
try {
  for (const n of SIZES) {
    const dirM = join(base, `m${n}`);
    const dirG = join(base, `g${n}`);
    const t = process.hrtime.bigint();
    generate(dirM, n);
    console.error(`generated in ${fmtS(Number(process.hrtime.bigint() - t) / 1e6)}`);
    run('cp', ['-a', dirM, dirG], base);
    const genMs = Number(process.hrtime.bigint() - t) / 1e6;
    const bytes = dirBytes(dirM);
    console.error(`# ${n} messages, ${fmtB(bytes)}, generated in ${fmtS(genMs)}`);
    run('sync', [], base);

    const adoptM = mg(base, ['init', dirM, '--name', 'bench']);
    const adoptG = gitAdopt(dirG);
    const gitBytesM = dirBytes(join(dirM, '.git'));
    const gitBytesG = dirBytes(join(dirG, '.git'));
    console.error(`adopt: mailgit ${fmtS(adoptM)} (.git ${fmtB(gitBytesM)}), git ${fmtS(adoptG)} (.git ${fmtB(gitBytesG)})`);

    // Settle mtimes (mailgit does not trust directory stamps younger than 2 s).
    await new Promise((r) => setTimeout(r, 2100));
    mg(dirM, ['commit']);
    const fM = median(await flagTimes(dirM, true, 5, 0, true));
    await settle(dirM);
    const fR = median(await residentTimes(dirM, 5, 50));
    await settle(dirM);
    const fG = median(await flagTimes(dirG, false, 5, 0));
    console.error(`one flag: mailgit commit ${fmtS(fM)}, mailgit resident record ${fmtS(fR)}, git ${fmtS(fG)}`);

    const gM = await growth(dirM, true, COMMITS, 100);
    const gG = await growth(dirG, false, GIT_COMMITS, 100);
    console.error(
      `growth over ${COMMITS}/${GIT_COMMITS}: mailgit ${fmtB(gM.perCommit)}/commit (${fmtS(gM.totalMs)}), git ${fmtB(gG.perCommit)}/commit (${fmtS(gG.totalMs)})`,
    );
    const loose = (root) => spawnSync('git', ['count-objects', '-v'], { cwd: root, encoding: 'utf8' }).stdout.replace(/\n/g, ' ');
    console.error(`mailgit objects: ${loose(dirM)}`);
    rows.push({ n, bytes, adoptM, adoptG, gitBytesM, gitBytesG, fM, fR, fG, gM, gG });
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
  `| messages | tree | adopt mailgit | adopt git CLI | ratio (≤ 1.0×) | .git after adopt (mailgit / git) | one flag: git CLI | \`mailgit commit\` (ratio) | resident record, as \`mailgit watch\` (ratio; ≤ 0.1× at 100k) | .git per flag commit mailgit (≤ 10 KB) | .git per flag commit git CLI | ${COMMITS} / ${GIT_COMMITS} flag commits, time mailgit / git | background packing after the last commit |`,
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.n.toLocaleString('en')} | ${fmtB(r.bytes)} | ${fmtS(r.adoptM)} | ${fmtS(r.adoptG)} | ${ratio(r.adoptM, r.adoptG)} | ${fmtB(r.gitBytesM)} / ${fmtB(r.gitBytesG)} | ${fmtS(r.fG)} | ${fmtS(r.fM)} (${ratio(r.fM, r.fG)}) | ${fmtS(r.fR)} (${ratio(r.fR, r.fG)}) | ${fmtB(r.gM.perCommit)} | ${fmtB(r.gG.perCommit)} | ${fmtS(r.gM.totalMs)} / ${fmtS(r.gG.totalMs)} | ${fmtS(r.gM.packingMs)} |`,
  ),
];
const table = `${lines.join('\n')}\n`;
process.stdout.write(table);
if (OUT) writeFileSync(OUT, table);
