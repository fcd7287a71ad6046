/**
 * Cold start of the CLI: `mailgit --version` and `mailgit status` (a fresh node process
 * each, in a 1,000-message repo) against bare `node -e 0`, timed by hyperfine. Prints the
 * medians of wall and CPU time, the 1-minute load average before and after, and the
 * page-cache state (warm: each command ran twice before timing starts).
 *
 *   node bench/startup.mjs [--runs 15] [--messages 1000]
 *
 * `MAILGIT_BIN=/other/bin/mailgit.js` adds that build as a second column (the anchor, e.g.
 * the build before a change). NODE_EXTRA_CA_CERTS is removed from the environment: it costs
 * ~80 ms per node start on the benchmark machine and none of these commands uses TLS.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, median, parseArgs, writeMaildir } from './lib.mjs';

const { opt } = parseArgs();
const runs = Number(opt('--runs', '15'));
const messages = Number(opt('--messages', '1000'));
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

const here = join(ROOT, 'bin/mailgit.js');
const bins = [['this build', here], ...(process.env.MAILGIT_BIN ? [['MAILGIT_BIN', process.env.MAILGIT_BIN]] : [])];

const base = mkdtempSync(join(tmpdir(), 'mailgit-startup-'));
const mail = join(base, 'mail');
writeMaildir(mail, messages);
const init = spawnSync(process.execPath, [here, 'init', mail, '--name', 'bench'], { env, encoding: 'utf8' });
if (init.status !== 0) throw new Error(`init failed: ${init.stderr}`);

/** @type {[string, string[]][]} */
const commands = [['node -e 0', ['-e', '0']]];
for (const [name, bin] of bins) {
  commands.push([`mailgit --version (${name})`, [bin, '--version']]);
  commands.push([`mailgit status (${name})`, [bin, '-C', mail, 'status']]);
}

// hyperfine times each command (wall, and the child's user + system CPU from wait4), the
// two warm-up runs leaving the page cache warm. CPU time is what to compare when other jobs
// share the machine: wall time then mostly measures the wait for a core.
const out = join(base, 'times.json');
const quote = (a) => `'${a.replace(/'/g, "'\\''")}'`;
const lines = commands.map(([, args]) => [process.execPath, ...args].map(quote).join(' '));
const before = loadavg()[0].toFixed(2);
const hf = spawnSync('hyperfine', ['-N', '-w', '2', '-r', String(runs), '--export-json', out, ...lines], { env, stdio: ['ignore', 'ignore', 'inherit'] });
if (hf.status !== 0) throw new Error('hyperfine failed (Debian: apt-get install hyperfine)');
const after = loadavg()[0].toFixed(2);
const { results } = JSON.parse(readFileSync(out, 'utf8'));

console.log(
  `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${messages} messages, median of ${runs}, page cache warm, load average ${before} → ${after}`,
);
// hyperfine 1.15 (Debian 12) reports CPU time as a mean over the runs only.
console.log('| command | wall (median) | user + sys CPU (mean) |\n|---|---:|---:|');
for (const [k, [name]] of commands.entries()) {
  const r = results[k];
  console.log(`| ${name} | ${(median(r.times) * 1000).toFixed(0)} ms | ${((r.user + r.system) * 1000).toFixed(0)} ms |`);
}
rmSync(base, { recursive: true, force: true });
