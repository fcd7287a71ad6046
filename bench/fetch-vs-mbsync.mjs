#!/usr/bin/env node
/**
 * Fetch benchmark: `mailgit fetch` vs `mbsync` (Debian isync) pulling the same account
 * from the same local Dovecot into a Maildir, side by side in one run.
 *
 *   node bench/fetch-vs-mbsync.mjs [--messages N] [--runs R] [--base BIN] [--keep] [--out FILE] [--json FILE] [--write-docs]
 *
 * 1. compiles test/helpers/dovecot.ts (the test harness) into bench/out/, starts a Dovecot
 *    on a loopback port and fills INBOX with N messages (default 10000, ~4 KB each with
 *    realistic headers; one in three \Seen) by writing the Maildir directly, then lets
 *    Dovecot index it (one untimed SELECT);
 * 2. R times (default 3), alternating the order: mbsync into an empty Maildir
 *    (`Sync Pull`, `Create Near`, `SubFolders Verbatim`, default `FSync yes`), and
 *    `mailgit fetch` into a fresh repo (`mailgit init` + `account add`, not timed);
 * 3. checks both copies hold N messages, and that mailgit's are byte-identical to
 *    the server's (sha256 set of mbsync's copy == mailgit's when mbsync keeps CRLF);
 * 4. reports wall time, CPU (user + sys of the process tree), messages/s, the throughput
 *    ratio (mailgit / mbsync; target ≥ 1.0) and peak RSS: mbsync's, mailgit's own process
 *    (VmHWM, polled), and the whole mailgit process tree as /usr/bin/time sees it (git
 *    children included).
 * `--base BIN` adds another build's bin/mailgit.js (e.g. a `git worktree` of the commit
 * before a change) as a third tool in the same rounds: before and after, side by side.
 * The load average is read before and after the runs; the page cache is warm (the
 * server's Maildir was just written and indexed; nothing is dropped).
 * Run `npx tsc -p tsconfig.json` first. Prints Markdown; --out FILE writes it too;
 * --write-docs replaces the "## fetch" section of docs/benchmarks.md (and only that);
 * --json FILE merges the medians into FILE's `fetch` entry (docs/benchmarks.json, which
 * bench/chart.mjs draws).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BIN, ROOT, loadHarness, median, must, parseArgs } from './lib.mjs';

const { opt, flag } = parseArgs();
const N = Number(opt('--messages', '10000'));
const RUNS = Number(opt('--runs', '3'));
const KEEP = flag('--keep');
const OUT = opt('--out', null);
const WRITE_DOCS = flag('--write-docs');
const VERBOSE = flag('--verbose');
const BASE = opt('--base', null);
const JSON_OUT = opt('--json', null);

// ---------------------------------------------------------------- the CLI to run
const CLIS = { mailgit: [BIN], ...(BASE ? { 'mailgit-base': [resolve(BASE)] } : {}) };

// ---------------------------------------------------------------- messages
const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(' ');
function message(i) {
  const date = new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toUTCString().replace('GMT', '+0000');
  const lines = [];
  let seed = (i * 2654435761) >>> 0;
  while (lines.join('\n').length < 3600) {
    let l = '';
    while (l.length < 70) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      l += `${WORDS[seed % WORDS.length]} `;
    }
    lines.push(l.trimEnd());
  }
  return (
    `Return-Path: <list-${i % 17}@lists.example.org>\n` +
    `Received: from mx.example.org (mx.example.org [192.0.2.${i % 250}])\n\tby mail.example.net with ESMTPS id ${i.toString(36)}\n\tfor <you@example.net>; ${date}\n` +
    `From: Sender ${i % 101} <sender${i % 101}@example.org>\nTo: you@example.net\nSubject: [list-${i % 17}] message number ${i}\n` +
    `Date: ${date}\nMessage-ID: <${i}.bench@example.org>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n` +
    lines.join('\n') +
    '\n'
  );
}

// ---------------------------------------------------------------- measuring
/** Runs a command under /usr/bin/time, polling the direct child's VmHWM. */
function measure(cmd, argv, env = {}) {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'TIME_MAXRSS_KB=%M TIME_CPU=%U+%S', cmd, ...argv], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let hwm = 0;
    const poll = setInterval(() => {
      try {
        // the time(1) process's only child is the measured command
        const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
        for (const k of kids) {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${k}/status`, 'utf8'));
          if (m) hwm = Math.max(hwm, Number(m[1]));
        }
      } catch {
        /* gone */
      }
    }, 20);
    child.on('close', (code) => {
      clearInterval(poll);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return rej(new Error(`${cmd} exited ${code}: ${stderr}`));
      const tree = Number(/TIME_MAXRSS_KB=(\d+)/.exec(stderr)?.[1] ?? 0);
      const cpu = /TIME_CPU=([\d.]+)\+([\d.]+)/.exec(stderr);
      if (VERBOSE) process.stderr.write(stderr);
      res({ secs, cpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : Number.NaN, ownKb: hwm, treeKb: tree, stdout });
    });
  });
}

function listMessages(root) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.git' || e.name === '.mailgit' || e.name === 'tmp') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\/(cur|new)$/.test(d)) out.push(p);
    }
  };
  walk(root);
  return out;
}

// ---------------------------------------------------------------- main
const { startDovecot } = await loadHarness();
const work = mkdtempSync(join(tmpdir(), 'mailgit-fetchbench-'));
const dc = await startDovecot({ users: [{ user: 'bench', password: 'bench-pw' }] });
try {
  process.stderr.write(`bench: Dovecot on ${dc.host}:${dc.port}, writing ${N} messages…\n`);
  const st = statSync(dc.mailRoot);
  let bytes = 0;
  for (let i = 0; i < N; i++) {
    const m = message(i);
    bytes += m.length;
    const name = `${1704067200 + i}.M${i}P1.bench,S=${m.length}${i % 3 === 0 ? ':2,S' : ':2,'}`;
    const p = join(dc.mailRoot, 'cur', name);
    writeFileSync(p, m);
    chownSync(p, st.uid, st.gid);
  }
  // Let Dovecot build its index (untimed), as a live server would have it.
  const c = await dc.connect();
  const mb = await c.mailboxOpen('INBOX');
  if (mb.exists !== N) throw new Error(`Dovecot sees ${mb.exists} messages, wanted ${N}`);
  await c.logout();

  const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const rows = [];
  const tools = ['mbsync', ...Object.keys(CLIS)];
  for (let run = 0; run < RUNS; run++) {
    const order = run % 2 === 0 ? tools : [...tools].reverse();
    for (const tool of order) {
      const dir = join(work, `${tool}-${run}`);
      if (tool === 'mbsync') {
        mkdirSync(join(dir, 'mail'), { recursive: true });
        const rc = join(dir, 'mbsyncrc');
        writeFileSync(
          rc,
          `IMAPAccount bench\nHost 127.0.0.1\nPort ${dc.port}\nUser bench\nPass bench-pw\nSSLType None\nAuthMechs LOGIN\n\n` +
            `IMAPStore remote\nAccount bench\n\nMaildirStore local\nPath ${dir}/mail/\nInbox ${dir}/mail/INBOX\nSubFolders Verbatim\n\n` +
            `Channel bench\nFar :remote:\nNear :local:\nPatterns *\nCreate Near\nSync Pull\nSyncState *\n`,
          { mode: 0o600 },
        );
        const r = await measure('mbsync', ['-c', rc, '-q', '-a']);
        const files = listMessages(join(dir, 'mail'));
        if (files.length !== N) throw new Error(`mbsync stored ${files.length} messages`);
        rows.push({ tool, run, ...r, files });
      } else {
        const CLI = CLIS[tool];
        must(process.execPath, [...CLI, 'init', dir, '--name', `bench${run}`]);
        must(process.execPath, [...CLI, '-C', dir, 'account', 'add', 'bench', '--host', '127.0.0.1', '--port', String(dc.port), '--no-tls', '--user', 'bench']);
        const r = await measure(process.execPath, [...CLI, '-C', dir, 'fetch', '--json', ...(VERBOSE ? ['-v'] : [])], { MAILGIT_PASSWORD_BENCH: 'bench-pw' });
        const files = listMessages(dir);
        if (files.length !== N) throw new Error(`mailgit stored ${files.length} messages`);
        const commits = Number(must('git', ['-C', dir, 'rev-list', '--count', 'HEAD']).trim());
        rows.push({ tool, run, ...r, files, commits });
      }
      process.stderr.write(`bench: run ${run} ${tool}: ${rows.at(-1).secs.toFixed(2)} s\n`);
    }
  }
  // Same bytes? mbsync stores what the server sends, minus CR (it writes native LF).
  const mg = rows.find((r) => r.tool === 'mailgit');
  const mb0 = rows.find((r) => r.tool === 'mbsync');
  // mbsync also inserts an X-TUID header line into every message it stores.
  const norm = (p) =>
    createHash('sha256')
      .update(
        readFileSync(p)
          .toString('latin1')
          .replace(/\r\n/g, '\n')
          .replace(/^X-TUID: [^\n]*\n/m, ''),
        'latin1',
      )
      .digest('hex');
  const a = new Set(mg.files.map(norm));
  const b = new Set(mb0.files.map(norm));
  const sameContent = a.size === b.size && [...a].every((h) => b.has(h));
  const crlf = readFileSync(mg.files[0]).includes('\r\n');

  const stats = (tool) => {
    const rs = rows.filter((r) => r.tool === tool);
    return {
      secs: median(rs.map((r) => r.secs)),
      cpu: median(rs.map((r) => r.cpu)),
      rate: N / median(rs.map((r) => r.secs)),
      ownMb: median(rs.map((r) => r.ownKb)) / 1024,
      treeMb: median(rs.map((r) => r.treeKb)) / 1024,
      all: rs.map((r) => r.secs.toFixed(2)).join(', '),
      commits: rs[0].commits,
    };
  };
  const S = Object.fromEntries(tools.map((t) => [t, stats(t)]));
  const ratio = S.mailgit.rate / S.mbsync.rate;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const md = [
    `## fetch`,
    '',
    `\`node bench/fetch-vs-mbsync.mjs --messages ${N} --runs ${RUNS}\` — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}, ` +
      `isync ${must('mbsync', ['--version']).trim().split(' ').pop()}, Dovecot ${must('dovecot', ['--version']).trim().split(' ')[0]}; load average before ${loadBefore}, at the end ${load}; page cache warm.`,
    '',
    `${N} messages (${(bytes / 1048576).toFixed(1)} MB, ~${Math.round(bytes / N)} B each) in one Dovecot INBOX on 127.0.0.1, plaintext IMAP; each tool pulls into an empty Maildir. ` +
      `Median of ${RUNS} runs, order alternating.`,
    '',
    '| | wall time (s) | CPU, user + sys (s) | messages/s | peak RSS, own process | peak RSS, process tree | runs (s) |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...tools.map((t) => {
      const x = S[t];
      const name =
        t === 'mbsync' ? 'mbsync (`Sync Pull`, FSync yes)' : `${t === 'mailgit' ? 'mailgit fetch' : 'mailgit fetch, --base build'} (${x.commits - 2} commits)`;
      return `| ${name} | ${x.secs.toFixed(2)} | ${x.cpu.toFixed(2)} | ${x.rate.toFixed(0)} | ${x.ownMb.toFixed(1)} MB | ${x.treeMb.toFixed(1)} MB | ${x.all} |`;
    }),
    '',
    `Throughput ratio mailgit / mbsync: **${ratio.toFixed(2)}×** (target ≥ 1.0×)${S['mailgit-base'] ? `; the --base build: ${(S['mailgit-base'].rate / S.mbsync.rate).toFixed(2)}×` : ''}. ` +
      `Same messages: ${sameContent ? 'yes' : 'NO'} (compared with line endings normalised: mailgit keeps the server's bytes${crlf ? ' (CRLF)' : ''}, mbsync writes LF and adds an \`X-TUID:\` header). ` +
      `mailgit's time includes committing every batch to git (checkpoint in the same commit); its process-tree peak includes those git children.`,
    '',
  ].join('\n');
  process.stdout.write(`${md}\n`);
  if (OUT) writeFileSync(OUT, `${md}\n`);
  if (JSON_OUT) {
    const figures = existsSync(JSON_OUT) ? JSON.parse(readFileSync(JSON_OUT, 'utf8')) : {};
    const loads = [loadBefore, load].map((l) => Math.round(Number(l.split(' ')[0]))).sort((x, y) => x - y);
    figures.fetch = {
      messages: N,
      mailgit: Math.round(S.mailgit.rate),
      mbsync: Math.round(S.mbsync.rate),
      date: new Date().toISOString().slice(0, 10),
      load: loads,
    };
    writeFileSync(JSON_OUT, `${JSON.stringify(figures, null, 1)}\n`);
  }
  if (WRITE_DOCS) {
    const path = join(ROOT, 'docs/benchmarks.md');
    let doc = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
    const start = doc.search(/^## fetch\s*$/m);
    if (start >= 0) {
      const rest = doc.slice(start + 1);
      const next = rest.search(/^## /m);
      doc = `${doc.slice(0, start) + md}\n${next >= 0 ? rest.slice(next) : ''}`;
    } else {
      doc = `${doc.replace(/\s*$/, '\n\n') + md}\n`;
    }
    writeFileSync(path, doc.replace(/\n{3,}/g, '\n\n'));
  }
} finally {
  await dc.stop();
  if (!KEEP) rmSync(work, { recursive: true, force: true });
  else process.stderr.write(`bench: kept ${work}\n`);
}
