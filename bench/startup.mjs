/**
 * Cold start of the CLI: `mailgit --version` and `mailgit status` (a fresh node process
 * each, in a 1,000-message repo) against bare `node -e 0`, every command run in turn so
 * load changes hit them alike. Prints the medians, the 1-minute load average before and
 * after, and the page-cache state (warm: each command ran twice before timing starts).
 *
 *   node bench/startup.mjs [--runs 15] [--messages 1000]
 *
 * `MAILGIT_BIN=/other/bin/mailgit.js` adds that build as a second column (the anchor, e.g.
 * the build before a change). NODE_EXTRA_CA_CERTS is removed from the environment: it costs
 * ~80 ms per node start on the benchmark machine and none of these commands uses TLS.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

function once(args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

for (const [, args] of commands) for (let i = 0; i < 2; i++) once(args);
const before = loadavg()[0].toFixed(2);
/** @type {number[][]} */
const times = commands.map(() => []);
for (let i = 0; i < runs; i++) for (const [k, [, args]] of commands.entries()) times[k].push(once(args));
const after = loadavg()[0].toFixed(2);

console.log(
  `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${messages} messages, median of ${runs}, page cache warm, load average ${before} → ${after}`,
);
console.log('| command | median | min | max |\n|---|---:|---:|---:|');
for (const [k, [name]] of commands.entries()) {
  const t = times[k];
  console.log(`| ${name} | ${median(t).toFixed(0)} ms | ${Math.min(...t).toFixed(0)} ms | ${Math.max(...t).toFixed(0)} ms |`);
}
rmSync(base, { recursive: true, force: true });
