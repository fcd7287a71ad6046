#!/usr/bin/env node
/**
 * Latency of `mailgit watch --fetch`: how long after a message reaches the server it is
 * committed in the repo, and how long after a flag changes in the Maildir the server has
 * it — side by side with the anchor, one `mailgit fetch` started the moment the message
 * arrived (the best a cron job could do).
 *
 *   node bench/watch-fetch.mjs [--runs R] [--messages N] [--out FILE] [--write-docs]
 *
 * A Dovecot on loopback (the tests' harness), INBOX with N messages (default 1000), a
 * two-way repo fetched once; then R times (default 5): APPEND one message and time until
 * the watch's `fetch` event (printed after its commit); rename a file to `:2,S` and time
 * until an IMAP client sees `\Seen`; APPEND one more to a second repo and time one
 * `mailgit fetch`. Each step starts once the watch printed nothing for 2 s. Medians; load
 * average and page cache stated. Run
 * `npx tsc -p tsconfig.json` first. --write-docs replaces the "## watch --fetch" section
 * of docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT, fmtS, loadHarness, median, must, parseArgs } from './lib.mjs';

const { opt, flag } = parseArgs();
const RUNS = Number(opt('--runs', '5'));
const N = Number(opt('--messages', '1000'));
const OUT = opt('--out', null);
const WRITE_DOCS = flag('--write-docs');

const { startDovecot } = await loadHarness();
const user = { user: 'bench', password: 'bench-pw-1' };
const dc = await startDovecot({ users: [user] });
const tmp = mkdtempSync(join(tmpdir(), 'mailgit-bench-watch-fetch-'));
const env = { ...process.env, MAILGIT_PASSWORD_WORK: user.password };
const mg = (dir, args) => must(process.execPath, [BIN, '-C', dir, ...args], { env });
const msg = (i, tag) =>
  `From: s${i}@example.org\r\nTo: you@example.org\r\nSubject: ${tag} ${i}\r\nMessage-ID: <${tag}.${i}@example.org>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n${'body line\r\n'.repeat(40)}`;

function repo(name) {
  const dir = join(tmp, name);
  must(process.execPath, [BIN, 'init', dir, '--name', name]);
  mg(dir, ['account', 'add', 'work', '--host', '127.0.0.1', '--port', String(dc.port), '--no-tls', '--user', user.user]);
  mg(dir, ['fetch']);
  return dir;
}

async function seen(uid) {
  const c = await dc.connect(user);
  try {
    await c.mailboxOpen('INBOX', { readOnly: true });
    for await (const m of c.fetch(String(uid), { flags: true }, { uid: true })) return m.flags?.has('\\Seen') ?? false;
    return false;
  } finally {
    await c.logout().catch(() => undefined);
  }
}

const until = async (fn) => {
  for (;;) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
};

try {
  await dc.append(
    'INBOX',
    Array.from({ length: N }, (_, i) => msg(i, 'base')),
    { user },
  );
  const a = repo('watched');
  const b = repo('anchor');
  const child = spawn(process.execPath, [BIN, '-C', a, 'watch', '--json', '--fetch', '--debounce', '100'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const events = [];
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) events.push({ ...JSON.parse(buf.slice(0, nl)), at: performance.now() });
  });
  await until(() => events.some((e) => e.event === 'ready'));
  await new Promise((r) => setTimeout(r, 3000)); // the start-up fetch
  /** Until the watch printed nothing for 2 s (the fetches the last steps set off are done). */
  const settled = async () => {
    for (let n = -1; n !== events.length; ) {
      n = events.length;
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  const appender = await dc.connect(user);
  const arrive = [];
  const up = [];
  const anchor = [];
  for (let run = 0; run < RUNS; run++) {
    await settled();
    const from = events.length;
    // The clock starts when the server has the message (APPEND answered OK).
    await appender.append('INBOX', msg(run, 'new'));
    const t0 = performance.now();
    await until(() => events.slice(from).some((e) => e.event === 'fetch' && e.fetched > 0));
    arrive.push(events.slice(from).find((e) => e.event === 'fetch' && e.fetched > 0).at - t0);
    // A flag changed here: the watch records it, then its fetch sends it.
    const cur = readdirSync(join(a, 'INBOX', 'new')).sort()[0] ?? readdirSync(join(a, 'INBOX', 'cur')).find((n) => !n.includes('S'));
    const sub = readdirSync(join(a, 'INBOX', 'new')).includes(cur) ? 'new' : 'cur';
    const key = cur.split(':')[0];
    const uid = Number(
      readFileSync(join(a, '.mailgit/imap/work/INBOX/0.state'), 'utf8')
        .split('\n')
        .find((l) => l.split(' ')[1] === key)
        .split(' ')[0],
    );
    await settled();
    const t1 = performance.now();
    renameSync(join(a, 'INBOX', sub, cur), join(a, 'INBOX', 'cur', `${key}:2,S`));
    await until(() => seen(uid));
    up.push(performance.now() - t1);
    // The anchor: one fetch started when the message is there.
    await appender.append('INBOX', msg(run, 'anchor'));
    const t2 = performance.now();
    mg(b, ['fetch']);
    anchor.push(performance.now() - t2);
  }
  await appender.logout();
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  const la = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const node = process.version;
  const text = `## watch --fetch

\`node bench/watch-fetch.mjs --runs ${RUNS} --messages ${N}\` — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${node}, Dovecot on 127.0.0.1 (plaintext); load average at the end ${la}; page cache warm (the mailbox and the repo were just written).

INBOX holds ${N} messages; a two-way repo is level with it. Median of ${RUNS} runs (all runs in brackets).

| | median | runs |
|---|---:|---|
| server → repo: APPEND done → the watch's fetch committed it (IDLE) | ${fmtS(median(arrive))} | ${arrive.map(fmtS).join(', ')} |
| repo → server: file renamed to \`:2,S\` → \`\\Seen\` seen by another IMAP client | ${fmtS(median(up))} | ${up.map(fmtS).join(', ')} |
| anchor: one \`mailgit fetch\` started when the message is there | ${fmtS(median(anchor))} | ${anchor.map(fmtS).join(', ')} |

The repo → server time includes the watch's debounce (100 ms here, 300 ms by default) and its record before the fetch. Each step starts once the watch printed nothing for 2 s.
`;
  process.stdout.write(text);
  if (OUT) writeFileSync(OUT, text);
  if (WRITE_DOCS) {
    const p = join(ROOT, 'docs/benchmarks.md');
    const doc = readFileSync(p, 'utf8');
    const start = doc.indexOf('## watch --fetch');
    const next = start < 0 ? -1 : doc.indexOf('\n## ', start + 3);
    const updated = start < 0 ? `${doc.trimEnd()}\n\n${text}` : doc.slice(0, start) + text + (next < 0 ? '' : doc.slice(next + 1));
    writeFileSync(p, updated);
  }
} finally {
  await dc.stop();
  rmSync(tmp, { recursive: true, force: true });
}
