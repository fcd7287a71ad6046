#!/usr/bin/env node
/**
 * How big a hub gets over many synced days, with only git on it: replays days of changes
 * (bench/lib.mjs `replayDay`) on replica A of a directory that `node bench/sync.mjs --keep`
 * left, each followed by `mailgit sync` on A (which pushes the day to the bare hub), and
 * measures the hub's `objects/` after each push (once git's own detached `gc --auto`
 * there has finished). At the end a copy of the hub is repacked from scratch
 * (`git repack -a -d`): the hub's size against that is the figure.
 *
 *   node bench/hub.mjs --from WORKDIR [--days 30]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BIN, fmtB, parseArgs, replayDay } from './lib.mjs';

const { opt, rest } = parseArgs();
const FROM = opt('--from', null);
const DAYS = Number(opt('--days', '30'));
if (!FROM || rest.length > 0) throw new Error('usage: node bench/hub.mjs --from WORKDIR [--days 30]');
delete process.env.NODE_EXTRA_CA_CERTS;

const A = join(FROM, 'A');
const HUB = join(FROM, 'hub.git');
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
/** Bytes under `dir` (du, apparent size). */
const bytes = (dir) => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
/** Packs in the hub. */
const packs = () => Number(execFileSync('sh', ['-c', `ls ${join(HUB, 'objects/pack')}/*.pack | wc -l`], { encoding: 'utf8' }).trim());

const start = bytes(join(HUB, 'objects'));
const rows = [];
let gcs = 0;
for (let d = 0; d < DAYS; d++) {
  const round = replayDay(FROM, A);
  const packsBefore = packs();
  const r = spawnSync(process.execPath, [BIN, 'sync'], { cwd: A, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mailgit sync failed: ${r.stderr}`);
  // git's gc --auto holds gc.pid in the hub while it runs (detached).
  sleep(200);
  while (existsSync(join(HUB, 'gc.pid'))) sleep(100);
  const after = packs();
  if (after < packsBefore) gcs++;
  rows.push({ round, size: bytes(join(HUB, 'objects')), packs: after, load: os.loadavg()[0] });
  console.error(`[hub] day ${round}: ${fmtB(rows.at(-1).size)} in ${after} packs`);
}

const copy = join(FROM, 'hub-repacked.git');
rmSync(copy, { recursive: true, force: true });
execFileSync('cp', ['-a', HUB, copy]);
execFileSync('git', ['-C', copy, 'repack', '-a', '-d', '-q']);
const fresh = bytes(join(copy, 'objects'));
rmSync(copy, { recursive: true, force: true });
const last = rows.at(-1);
const peak = Math.max(...rows.map((r) => r.size));
console.log(
  [
    `| days synced | hub objects at the start | after the last day | largest seen | fresh repack of the last state | ratio (last / fresh) | largest / fresh | hub gc runs | load average |`,
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${rows.length} | ${fmtB(start)} | ${fmtB(last.size)} (${last.packs} packs) | ${fmtB(peak)} | ${fmtB(fresh)} | ${(last.size / fresh).toFixed(3)}× | ${(peak / fresh).toFixed(3)}× | ${gcs} | ${Math.min(...rows.map((r) => r.load)).toFixed(1)}–${Math.max(...rows.map((r) => r.load)).toFixed(1)} |`,
  ].join('\n'),
);
