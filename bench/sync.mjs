#!/usr/bin/env node
/**
 * Sync benchmark: `mailgit sync` through a bare hub vs `unison` and `doveadm sync`,
 * replicating the same "day of changes" on identical copies of the same Maildirs.
 *
 *   node bench/sync.mjs [--messages N] [--rounds R] [--keep] [--out FILE] [--profile DIR]
 *
 * Steps (N messages, default 100000, ~4 KB each with realistic headers, 5 folders, fs layout):
 *   1. generate the Maildir once with plain fs writes, then copy it for every tool;
 *   2. mailgit: `mailgit init A`, a bare hub (`git init --bare`), A syncs (initial push),
 *      then `mailgit clone HUB B` — timed against `git clone HUB` (local, hard links) and
 *      `git clone --no-local HUB` (packs, as over a network) of the same hub;
 *   3. unison: two plain copies, one untimed initial run to build its archives;
 *      doveadm: one plain copy synced into an empty directory (untimed), so both sides
 *      have Dovecot indexes and UIDs;
 *   4. the same day of changes on the A side of each tool: 200 new messages, 1000 flag
 *      changes (renames in cur/), 50 moves between folders, 100 deletions;
 *   5. timed: `mailgit sync` on A then on B (A → hub → B); `unison UA UB`; `doveadm sync`;
 *      every result is checked (B holds exactly what A holds);
 *   6. bytes: the pack A pushes (what `git push` runs: `pack-objects --revs --thin
 *      --delta-base-offset` of new ^old) and the pack B fetches (GIT_TRACE_PACKFILE),
 *      plus pkt-line protocol bytes (GIT_TRACE_PACKET), against the zlib size of the new
 *      messages.
 * Run `npx tsc -p tsconfig.json` first (or set MAILGIT_BIN to another build's bin/mailgit.js).
 * Work dirs go to $TMPDIR (removed unless --keep). Prints Markdown; --out FILE writes it too.
 * --json FILE merges this size's medians (a day's wall time per tool, load, date) into FILE
 * (docs/benchmarks.json, which bench/chart.mjs draws).
 * --profile DIR runs the two timed mailgit syncs under `node --cpu-prof` with
 * GIT_TRACE2_EVENT and writes the profiles and traces to DIR.
 */
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { BIN, CHANGES, DAY, FOLDERS, GITENV, applyDay, curKeys, fmtB, fmtS, median, parseArgs, planDay, writeMaildir } from './lib.mjs';

const { opt, flag, rest: args } = parseArgs();
const N = Number(opt('--messages', '100000'));
const OUT = opt('--out', null);
const JSON_OUT = opt('--json', null);
const PROFILE = opt('--profile', null);
const KEEP = flag('--keep');
const ROUNDS = Number(opt('--rounds', '2'));
if (!Number.isInteger(N) || N < 2000) throw new Error('--messages must be an integer ≥ 2000');
if (args.length > 0) throw new Error(`unknown arguments: ${args.join(' ')}`);

// ---------------------------------------------------------------------------------------
// Generated mail (deterministic; bench/lib.mjs).

/** Writes `n` messages (fs layout) to `dir`; 2% of INBOX in new/. */
const generate = (dir, n) => writeMaildir(dir, n, { newShare: 0.02 });

// ---------------------------------------------------------------------------------------
// Running and measuring.

const log = (s) => console.error(`[sync-bench ${N}] ${s}`);

/** Runs a command under /usr/bin/time; returns wall ms, peak RSS (KB) of the largest process, output. */
function run(cmd, argv, { cwd, env = {}, okCodes = [0] } = {}) {
  const tfile = join(WORK, `.time-${process.pid}`);
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', '-o', tfile, cmd, ...argv], {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (!okCodes.includes(r.status)) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  let rssKB = NaN;
  let cpuMs = NaN;
  try {
    const [m, u, s] = readFileSync(tfile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    rssKB = m;
    cpuMs = (u + s) * 1000;
  } catch {}
  return { ms, cpuMs, rssKB, stdout: r.stdout, stderr: r.stderr };
}

const git = (cwd, a, env = {}) => run('git', a, { cwd, env: { ...GITENV, ...env } });
const gitOut = (cwd, a) => git(cwd, a).stdout.trim();
const mg = (cwd, a, env = {}, nodeArgs = []) => run(process.execPath, [...nodeArgs, BIN, ...a], { cwd, env });

/** Sorted "folder/sub/name" list of the message files under a Maildir root (no caches). */
function listing(root, { ignoreSub = false } = {}) {
  const out = [];
  for (const [f] of FOLDERS)
    for (const sub of ['cur', 'new']) {
      const d = join(root, f, sub);
      if (!existsSync(d)) continue;
      for (const n of readdirSync(d)) {
        if (n.startsWith('.')) continue;
        // Dovecot moves new/ mail to cur/ (adding ":2,") when it syncs a mailbox.
        out.push(ignoreSub ? `${f}/${n.includes(':') ? n : `${n}:2,`}` : `${f}/${sub}/${n}`);
      }
    }
  return out.sort();
}

function sameListing(a, b, label) {
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
    const sa = new Set(a);
    const sb = new Set(b);
    const onlyA = a.filter((x) => !sb.has(x)).slice(0, 5);
    const onlyB = b.filter((x) => !sa.has(x)).slice(0, 5);
    throw new Error(`${label}: replicas differ (${a.length} vs ${b.length}); only in first: ${onlyA.join(', ')}; only in second: ${onlyB.join(', ')}`);
  }
}

function fileSize(p) {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

/** Client-side pkt-line bytes (payload + 4-byte header) in a GIT_TRACE_PACKET file. */
function pktBytes(traceFile) {
  let bytes = 0;
  let lines = 0;
  if (!existsSync(traceFile)) return { bytes, lines };
  for (const l of readFileSync(traceFile, 'latin1').split('\n')) {
    const m = /packet:\s+(fetch|push|clone|git)([<>]) (.*)$/.exec(l);
    if (!m) continue;
    lines++;
    bytes += m[3] === '0000' || m[3] === '0001' ? 4 : Buffer.byteLength(m[3], 'latin1') + 4 + 1;
  }
  return { bytes, lines };
}

/** Bytes on disk under `dir` (du, allocated blocks). */
const duBytes = (dir) => Number(spawnSync('du', ['-sB1', dir], { encoding: 'utf8' }).stdout.split('\t')[0]);

function version(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  return ((r.stdout || '') + (r.stderr || '')).trim().split('\n')[0];
}

// ---------------------------------------------------------------------------------------

/** The same as {@link run}, without blocking: for setup steps that may overlap (untimed). */
function runAsync(cmd, argv, { cwd, env = {}, okCodes = [0] } = {}) {
  return new Promise((res, rej) => {
    const t = process.hrtime.bigint();
    const child = spawn(cmd, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (!okCodes.includes(code)) rej(new Error(`${cmd} ${argv.join(' ')} failed (${code}):\n${out}`));
      else res({ ms });
    });
  });
}

const WORK = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), 'mailgit-syncbench-'));
const P = (...p) => join(WORK, ...p);
const loads = [];
const loadNow = () => loads.push(os.loadavg()[0]);
try {
  const since = (t) => fmtS(Number(process.hrtime.bigint() - t) / 1e6);
  let t = process.hrtime.bigint();
  generate(P('gen'), N);
  log(`generated ${N} messages in ${since(t)}`);

  // Phase 1: plain copies for unison and doveadm (overlapping, untimed), then the
  // generated tree becomes A and is adopted alone (timed, with its peak RSS).
  t = process.hrtime.bigint();
  await Promise.all(['UA', 'UB', 'DA'].map((d) => runAsync('cp', ['-a', P('gen'), P(d)])));
  log(`copies in ${since(t)}`);
  renameSync(P('gen'), P('A'));
  loadNow();
  const init = mg(WORK, ['init', P('A'), '--name', 'a']);
  log(`mailgit init (adopt) ${fmtS(init.ms)}, CPU ${fmtS(init.cpuMs)}, peak RSS ${Math.round(init.rssKB / 1024)} MB`);

  // Unison: archives under our own UNISON dir.
  const UNISON = P('unison-home');
  mkdirSync(UNISON);
  const unisonArgs = [P('UA'), P('UB'), '-batch', '-auto', '-times=false', '-confirmbigdel=false', '-ui', 'text'];

  // Dovecot: no server, a minimal config; files owned by an unprivileged user because
  // Dovecot refuses mail access as root.
  const DV = P('dovecot');
  mkdirSync(P('DB'));
  mkdirSync(DV);
  const isRoot = process.getuid?.() === 0;
  const uid = Number(version('id', ['-u', 'nobody'])) || 65534;
  const gid = Number(version('id', ['-g', 'nobody'])) || 65534;
  if (isRoot) {
    run('chown', ['-R', `${uid}:${gid}`, P('DA'), P('DB'), DV]);
    run('chmod', ['755', WORK]);
  }
  writeFileSync(
    join(DV, 'dovecot.conf'),
    [
      '# minimal: no server, doveadm only',
      `base_dir = ${DV}/run`,
      `state_dir = ${DV}/state`,
      'mail_location = maildir:/nonexistent',
      ...(isRoot ? [`mail_uid = ${uid}`, `mail_gid = ${gid}`, 'first_valid_uid = 1', 'first_valid_gid = 1'] : []),
      'namespace inbox {',
      '  inbox = yes',
      '  separator = /',
      '}',
      '',
    ].join('\n'),
  );
  const loc = (d) => `maildir:${d}:LAYOUT=fs:INBOX=${d}/INBOX`;
  const doveArgs = ['-c', join(DV, 'dovecot.conf'), '-o', `mail_location=${loc(P('DA'))}`, 'sync', loc(P('DB'))];
  const doveEnv = { USER: isRoot ? 'nobody' : (process.env.USER ?? 'bench'), HOME: DV };

  // Phase 2 (overlapping, untimed): the first push to an empty bare hub; unison's first
  // run (builds its archives); doveadm's first sync into an empty Maildir (without fsync).
  t = process.hrtime.bigint();
  git(WORK, ['init', '-q', '--bare', '-b', 'main', P('hub.git')]);
  git(P('A'), ['remote', 'add', 'hub', P('hub.git')]);
  const [firstPush] = await Promise.all([
    runAsync(process.execPath, [BIN, 'sync'], { cwd: P('A') }),
    runAsync('unison', unisonArgs, { env: { UNISON }, okCodes: [0, 1] }),
    runAsync('doveadm', ['-o', 'mail_fsync=never', ...doveArgs], { env: doveEnv }),
  ]);
  log(`first push (${fmtS(firstPush.ms)}), unison and doveadm first runs in ${since(t)}`);
  sameListing(listing(P('DA'), { ignoreSub: true }), listing(P('DB'), { ignoreSub: true }), 'doveadm first sync');
  sameListing(listing(P('UA')), listing(P('UB')), 'unison first run');

  // Phase 3 (timed, one at a time): the initial replica from the hub.
  loadNow();
  const clone = mg(WORK, ['clone', P('hub.git'), P('B'), '--name', 'b']);
  const gclone = git(WORK, ['clone', '-q', P('hub.git'), P('G1')]);
  rmSync(P('G1'), { recursive: true, force: true });
  const gcloneNL = git(WORK, ['clone', '-q', '--no-local', P('hub.git'), P('G2')]);
  rmSync(P('G2'), { recursive: true, force: true });
  log(`clone: mailgit ${fmtS(clone.ms)}, git ${fmtS(gclone.ms)}, git --no-local ${fmtS(gcloneNL.ms)}`);
  sameListing(listing(P('A')), listing(P('B')), 'mailgit clone');
  sameListing(listing(P('A')), listing(P('UA')), 'mailgit and unison copies');

  if (PROFILE) mkdirSync(PROFILE, { recursive: true });
  const profEnv = (who) => (PROFILE ? { GIT_TRACE2_EVENT: join(resolve(PROFILE), `trace2-${N}-${who}.json`) } : {});
  const profNode = (who) => (PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${resolve(PROFILE)}`, `--cpu-prof-name=mailgit-sync-${N}-${who}.cpuprofile`] : []);

  // Phase 4 (timed): ROUNDS days of changes, each replicated by each tool in turn.
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const day = planDay(curKeys(P('A')), N, round);
    const before = listing(P('A'));
    for (const d of ['A', 'UA', 'DA']) applyDay(P(d), day);
    if (isRoot) run('chown', ['-R', `${uid}:${gid}`, P('DA')]);
    const after = listing(P('A'));
    sameListing(after, listing(P('UA')), 'after the day (mailgit vs unison copy)');
    if (after.length !== before.length + DAY.fresh - DAY.deletes) throw new Error('day of changes: wrong message count');
    const zlibNew = day.fresh.reduce((s, f) => s + deflateSync(f.body).length, 0);
    const gzipNew = gzipSync(Buffer.concat(day.fresh.map((f) => Buffer.from(f.body)))).length;
    const rawNew = day.fresh.reduce((s, f) => s + Buffer.byteLength(f.body), 0);

    // mailgit: A → hub → B.
    loadNow();
    const hubBefore = gitOut(P('hub.git'), ['rev-parse', 'main']);
    const hubPacks = readdirSync(P('hub.git', 'objects', 'pack'));
    const tag = (w) => `${w}${round + 1}`;
    const syncA = mg(P('A'), ['sync'], { GIT_TRACE_PACKET: P(`packet-A${round}.trace`), ...profEnv(tag('A')) }, profNode(tag('A')));
    const hubAfter = gitOut(P('hub.git'), ['rev-parse', 'main']);
    const syncB = mg(
      P('B'),
      ['sync'],
      { GIT_TRACE_PACKET: P(`packet-B${round}.trace`), GIT_TRACE_PACKFILE: P(`fetch-B${round}.pack`), ...profEnv(tag('B')) },
      profNode(tag('B')),
    );
    log(`round ${round + 1}: mailgit sync A ${fmtS(syncA.ms)}, B ${fmtS(syncB.ms)}`);
    sameListing(after, listing(P('A')), 'mailgit A after sync');
    sameListing(after, listing(P('B')), 'mailgit B after sync');
    const treeA = gitOut(P('A'), ['rev-parse', 'HEAD^{tree}']);
    const treeB = gitOut(P('B'), ['rev-parse', 'HEAD^{tree}']);
    if (treeA !== treeB) throw new Error(`mailgit: trees differ after sync (${treeA} vs ${treeB})`);
    if (hubAfter !== gitOut(P('A'), ['rev-parse', 'HEAD'])) throw new Error('mailgit: the hub is not at A’s head');
    // What `git push` sent: send-pack runs this pack-objects over new ^old.
    const pushPack = spawnSync('git', ['pack-objects', '--revs', '--thin', '--stdout', '--delta-base-offset', '-q'], {
      cwd: P('A'),
      input: `${hubAfter}\n^${hubBefore}\n`,
      maxBuffer: 1 << 30,
    }).stdout.length;
    const fetchPack = fileSize(P(`fetch-B${round}.pack`));
    const hubStored = readdirSync(P('hub.git', 'objects', 'pack'))
      .filter((f) => f.endsWith('.pack') && !hubPacks.includes(f))
      .reduce((s, f) => s + fileSize(P('hub.git', 'objects', 'pack', f)), 0);
    const commitsA = Number(gitOut(P('A'), ['rev-list', '--count', `${hubBefore}..${hubAfter}`]));

    // unison.
    loadNow();
    const uni = run('unison', unisonArgs, { env: { UNISON } });
    log(`round ${round + 1}: unison ${fmtS(uni.ms)}`);
    sameListing(after, listing(P('UB')), 'unison UB after sync');

    // doveadm sync.
    loadNow();
    const dv = run('doveadm', doveArgs, { env: doveEnv });
    log(`round ${round + 1}: doveadm sync ${fmtS(dv.ms)}`);
    const afterFlat = listing(P('A'), { ignoreSub: true });
    sameListing(afterFlat, listing(P('DA'), { ignoreSub: true }), 'doveadm DA after sync');
    sameListing(afterFlat, listing(P('DB'), { ignoreSub: true }), 'doveadm DB after sync');
    loadNow();

    rounds.push({
      syncA,
      syncB,
      uni,
      dv,
      pushPack,
      fetchPack,
      hubStored,
      commitsA,
      pktA: pktBytes(P(`packet-A${round}.trace`)),
      pktB: pktBytes(P(`packet-B${round}.trace`)),
      zlibNew,
      gzipNew,
      rawNew,
    });
  }

  // ---------------------------------------------------------------------------------------
  // Report.
  const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
  const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`;
  const sum = (f) => rounds.reduce((s, r) => s + f(r), 0);
  const per = (f) => rounds.map((r) => fmtS(f(r))).join(' / ');
  const perB = (f) => rounds.map((r) => fmtB(f(r))).join(' / ');
  const maxRss = (f) => mb(Math.max(...rounds.map((r) => f(r).rssKB)));
  const mgAll = sum((r) => r.syncA.ms + r.syncB.ms);
  const uniAll = sum((r) => r.uni.ms);
  const dvAll = sum((r) => r.dv.ms);
  const mgCpu = sum((r) => r.syncA.cpuMs + r.syncB.cpuMs);
  const uniCpu = sum((r) => r.uni.cpuMs);
  const dvCpu = sum((r) => r.dv.cpuMs);
  const budget = (r) => 1.2 * r.zlibNew + 100 * CHANGES;
  const rn = rounds.map((_, i) => `day ${i + 1}`).join(' / ');
  const r0 = rounds[0];
  const sizes = { maildir: duBytes(P('UA')), gitA: duBytes(P('A', '.git')), hub: duBytes(P('hub.git')), gitB: duBytes(P('B', '.git')) };
  const lines = [
    `### ${N.toLocaleString('en-US')} messages`,
    '',
    `Each day on A: ${DAY.fresh} new messages (day 1: ${fmtB(r0.rawNew)} raw, ${fmtB(r0.zlibNew)} zlib one by one, ${fmtB(r0.gzipNew)} as one gzip stream), ${DAY.flags} flag changes, ${DAY.moves} moves, ${DAY.deletes} deletions (${CHANGES} changes). Load average (1 min) seen during the timed steps: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}.`,
    '',
    `| replicating a day A → B | wall, ${rn} | CPU (user+sys), all days | vs unison (wall / CPU) | vs doveadm (wall / CPU) | peak RSS, largest process |`,
    '|---|---:|---:|---:|---:|---:|',
    `| mailgit sync on A (record, fetch, push to the hub) | ${per((r) => r.syncA.ms)} | ${fmtS(sum((r) => r.syncA.cpuMs))} | | | ${maxRss((r) => r.syncA)} |`,
    `| mailgit sync on B (fetch, fast-forward, apply) | ${per((r) => r.syncB.ms)} | ${fmtS(sum((r) => r.syncB.cpuMs))} | | | ${maxRss((r) => r.syncB)} |`,
    `| **mailgit, A then B** | **${per((r) => r.syncA.ms + r.syncB.ms)}** | **${fmtS(mgCpu)}** | **${ratio(mgAll, uniAll)} / ${ratio(mgCpu, uniCpu)}** | **${ratio(mgAll, dvAll)} / ${ratio(mgCpu, dvCpu)}** | |`,
    `| unison UA UB | ${per((r) => r.uni.ms)} | ${fmtS(uniCpu)} | 1.00× | ${ratio(uniAll, dvAll)} / ${ratio(uniCpu, dvCpu)} | ${maxRss((r) => r.uni)} |`,
    `| doveadm sync | ${per((r) => r.dv.ms)} | ${fmtS(dvCpu)} | ${ratio(dvAll, uniAll)} / ${ratio(dvCpu, uniCpu)} | 1.00× | ${maxRss((r) => r.dv)} |`,
    '',
    `mailgit / the faster anchor, wall time over all days: **${ratio(mgAll, Math.min(uniAll, dvAll))}** (target ≤ 1.0×).`,
    '',
    `| bytes of a day | ${rn} | vs zlib new mail |`,
    '|---|---:|---:|',
    `| pack pushed A → hub | ${perB((r) => r.pushPack)} | ${ratio(
      sum((r) => r.pushPack),
      sum((r) => r.zlibNew),
    )} |`,
    `| pack fetched hub → B | ${perB((r) => r.fetchPack)} | ${ratio(
      sum((r) => r.fetchPack),
      sum((r) => r.zlibNew),
    )} |`,
    `| pkt-lines (refs, wants, haves), A + B | ${perB((r) => r.pktA.bytes + r.pktB.bytes)} | |`,
    `| hub growth on disk (the thin pack completed by index-pack --fix-thin) | ${perB((r) => r.hubStored)} | |`,
    `| new mail, zlib one message at a time | ${perB((r) => r.zlibNew)} | 1.00× |`,
    `| new mail, one gzip stream | ${perB((r) => r.gzipNew)} | ${ratio(
      sum((r) => r.gzipNew),
      sum((r) => r.zlibNew),
    )} |`,
    `| budget: 1.2 × zlib new mail + 100 B × ${CHANGES} changes | ${perB(budget)} | ${ratio(
      sum(budget),
      sum((r) => r.zlibNew),
    )} |`,
    '',
    `Pack fetched by B / budget: **${ratio(
      sum((r) => r.fetchPack),
      sum(budget),
    )}** (target ≤ 1.0×). Commits pushed per day: ${rounds.map((r) => r.commitsA).join(' / ')}.`,
    '',
    '| initial replica from the same hub | wall | CPU | peak RSS |',
    '|---|---:|---:|---:|',
    `| mailgit clone HUB B | ${fmtS(clone.ms)} | ${fmtS(clone.cpuMs)} | ${mb(clone.rssKB)} |`,
    `| git clone HUB (local: hard-links the objects) | ${fmtS(gclone.ms)} | ${fmtS(gclone.cpuMs)} | ${mb(gclone.rssKB)} |`,
    `| git clone --no-local HUB (packs, as over a network) | ${fmtS(gcloneNL.ms)} | ${fmtS(gcloneNL.cpuMs)} | ${mb(gcloneNL.rssKB)} |`,
    '',
    `Adopt (\`mailgit init\`, alone): ${fmtS(init.ms)}, CPU ${fmtS(init.cpuMs)}, peak RSS ${mb(init.rssKB)}. First mailgit sync (push to the empty hub, untimed, overlapped with the other tools' first runs): ${fmtS(firstPush.ms)}. On disk after the last day: the Maildir ${fmtB(sizes.maildir)}, A's \`.git\` ${fmtB(sizes.gitA)}, the hub ${fmtB(sizes.hub)}, B's \`.git\` ${fmtB(sizes.gitB)}.`,
    '',
  ];
  const text = lines.join('\n');
  console.log(text);
  if (OUT) writeFileSync(OUT, text);
  if (JSON_OUT) {
    const figures = existsSync(JSON_OUT) ? JSON.parse(readFileSync(JSON_OUT, 'utf8')) : { sync: [] };
    const day = (f) => median(rounds.map(f)) / 1000;
    const row = {
      messages: N,
      mailgit: day((r) => r.syncA.ms + r.syncB.ms),
      unison: day((r) => r.uni.ms),
      doveadm: day((r) => r.dv.ms),
      cpu: { mailgit: day((r) => r.syncA.cpuMs + r.syncB.cpuMs), unison: day((r) => r.uni.cpuMs), doveadm: day((r) => r.dv.cpuMs) },
      load: [Math.min(...loads), Math.max(...loads)],
      adopt: { s: init.ms / 1000, cpu: init.cpuMs / 1000, rssMB: Math.round(init.rssKB / 1024) },
      clone: { s: clone.ms / 1000, cpu: clone.cpuMs / 1000, rssMB: Math.round(clone.rssKB / 1024) },
      syncRssMB: Math.round(Math.max(...rounds.flatMap((r) => [r.syncA.rssKB, r.syncB.rssKB])) / 1024),
      bytes: sizes,
      date: new Date().toISOString().slice(0, 10),
    };
    figures.sync = [...figures.sync.filter((x) => x.messages !== N), row];
    writeFileSync(JSON_OUT, `${JSON.stringify(figures, null, 1)}\n`);
  }
} finally {
  if (KEEP) log(`kept ${WORK}`);
  else rmSync(WORK, { recursive: true, force: true });
}
