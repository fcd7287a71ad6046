/**
 * Torture-suite helpers: a seeded PRNG, the seed list (`MAILGIT_TORTURE_SEEDS=N` runs N
 * seeds, `MAILGIT_TORTURE_SEED=S` exactly one), the real CLI run asynchronously so that it
 * can be SIGKILLed at a chosen moment, and the invariants checked after every run:
 * `git fsck --strict` clean, the Maildir on disk equal to HEAD.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { rng } from '../helpers/rng.mjs';
import { impliedMarkers, unwrittenMarker } from '../helpers/replica.js';

/** Absolute path of the CLI entry point. */
export const BIN = resolve(__dirname, '../../bin/mailgit.js');

/** A seeded random source with the helpers the tests use. */
export class Rand {
  readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = rng(seed);
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from empty list');
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += Math.floor(this.next() * 16).toString(16);
    return s;
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }
}

/**
 * What the rotating seed of a run derives from: `MAILGIT_TORTURE_ROTATE` when set, else
 * the checked-out commit (so a rerun of one commit meets the same seeds, and each new
 * commit other ones), else the UTC date.
 */
export function rotationBasis(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MAILGIT_TORTURE_ROTATE) return env.MAILGIT_TORTURE_ROTATE;
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: __dirname, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : new Date().toISOString().slice(0, 10);
}

/** The rotating seed of test `salt` for `basis`: in [100000, 999999], far from the fixed sets. */
export function rotatingSeed(basis: string, salt: number): number {
  return 100_000 + (parseInt(createHash('sha1').update(`${basis}:${salt}`).digest('hex').slice(0, 8), 16) % 900_000);
}

/**
 * The seeds to run: `MAILGIT_TORTURE_SEED=S` → just S (reproduce a failure);
 * `MAILGIT_TORTURE_SEEDS=N` → the CI set extended to N fixed seeds; else the fixed CI
 * set plus one rotating seed ({@link rotatingSeed}), so that every commit the normal
 * suite runs on tries a seed no earlier run tried and this class of bug cannot hide
 * behind a fixed set. A failure's name and message carry the seed to rerun it.
 */
export function seeds(ci: number[], salt = 0): number[] {
  const one = process.env.MAILGIT_TORTURE_SEED;
  if (one !== undefined && one !== '') return [Number(one)];
  const n = Number(process.env.MAILGIT_TORTURE_SEEDS ?? '0');
  if (!Number.isFinite(n) || n <= ci.length) return [...ci, rotatingSeed(rotationBasis(), salt)];
  const out = [...ci];
  for (let i = 0; out.length < n; i++) out.push(1000 + salt * 10007 + i * 7919);
  return shard(out, process.env.MAILGIT_TORTURE_SHARD);
}

/**
 * `MAILGIT_TORTURE_SHARD=i/n` keeps every n-th seed from the i-th (1-based), so that a
 * long run can be spread over several processes (or machines); unset, all of them.
 */
export function shard<T>(xs: T[], spec: string | undefined): T[] {
  const m = /^(\d+)\/(\d+)$/.exec(spec ?? '');
  if (!m || Number(m[2]) < 1 || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) return xs;
  return xs.filter((_, k) => k % Number(m[2]) === Number(m[1]) - 1);
}

/**
 * True when a long run was asked for (`MAILGIT_TORTURE_SEEDS=N`): cases then run longer.
 * One seed alone (`MAILGIT_TORTURE_SEED`) replays the case exactly as the run that printed
 * it did, so a failure seen in the normal suite reproduces with the line it printed.
 */
export function longRun(): boolean {
  return Number(process.env.MAILGIT_TORTURE_SEEDS ?? '0') > 0;
}

/** What a CLI run did. */
export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  killed: boolean;
}

/** Options for {@link cli}. */
export interface CliOptions {
  cwd?: string;
  input?: string | Buffer;
  env?: Record<string, string>;
  /** SIGKILL the run after this many ms (if still running). */
  killAfterMs?: number;
  /**
   * SIGKILL the run `afterMs` after `ready()` first returns true (asked every 50 ms): a kill
   * at a moment the run has reached, whatever the load of the machine.
   */
  killWhen?: { ready: () => boolean; afterMs: number };
  /** Kill the whole process group (git children too), not only the node process. */
  killGroup?: boolean;
  /** Kill (and fail) a run that takes longer than this (default 90 s). */
  timeoutMs?: number;
  /** Run the command under this program (e.g. `['runuser', '-u', 'nobody', '--']`). */
  wrap?: string[];
}

/**
 * `MAILGIT_TORTURE_KILL_SCALE=x` stretches every timed kill by x: a failure seen on a
 * loaded machine (where a run reaches a step later) can be searched for on an idle one.
 */
function killScale(): number {
  const x = Number(process.env.MAILGIT_TORTURE_KILL_SCALE ?? '1');
  return Number.isFinite(x) && x > 0 ? x : 1;
}

/** Runs `mailgit ARGS` asynchronously; optionally SIGKILLs it at a chosen moment. */
export function cli(args: string[], opts: CliOptions = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const t0 = Date.now();
    const argv = [...(opts.wrap ?? []), process.execPath, BIN, ...args];
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: opts.cwd ?? process.cwd(),
      env: { ...process.env, ...opts.env },
      detached: true, // its own process group, so the group can be killed like a crash
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => undefined);
    child.on('error', fail);
    let killed = false;
    const kill = () => {
      killed = true;
      try {
        if (opts.killGroup) process.kill(-child.pid!, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timers: NodeJS.Timeout[] = [];
    if (opts.killAfterMs !== undefined) timers.push(setTimeout(kill, opts.killAfterMs * killScale()));
    const when = opts.killWhen;
    if (when) {
      const poll = setInterval(() => {
        if (!when.ready()) return;
        clearInterval(poll);
        timers.push(setTimeout(kill, when.afterMs));
      }, 50);
      timers.push(poll);
    }
    const limit = opts.timeoutMs ?? 90_000;
    timers.push(
      setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, limit),
    );
    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      // When only node was killed, its git children may live on: reap the group so that
      // they cannot race the next step (a crash would have left them running too, but
      // a later command waits for them through git's own locks).
      if (killed && !opts.killGroup) waitGroupGone(child.pid!);
      done({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: Date.now() - t0,
        killed: killed && signal === 'SIGKILL',
      });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Waits (up to 30 s) until no process of group `pgid` is left. */
function waitGroupGone(pgid: number): void {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    spawnSync('sleep', ['0.05']);
  }
}

/**
 * The environment that runs mailgit with its clock `ms` off (ahead when positive): the
 * preload test/torture/skew.cjs shifts `Date.now()` and `new Date()`.
 */
export function skewEnv(ms: number): Record<string, string> {
  if (ms === 0) return {};
  return { ...clockPreload(), MAILGIT_TEST_CLOCK_SKEW_MS: String(ms) };
}

/**
 * The environment of a mailgit run whose clock starts at `ms` (ms since the epoch) and runs
 * on from there: a rerun that meets the times an earlier run met.
 */
export function clockStartEnv(ms: number): Record<string, string> {
  return { ...clockPreload(), MAILGIT_TEST_CLOCK_START_MS: String(Math.round(ms)) };
}

function clockPreload(): Record<string, string> {
  const preload = `--require ${resolve(__dirname, 'skew.cjs')}`;
  return { NODE_OPTIONS: [process.env.NODE_OPTIONS, preload].filter(Boolean).join(' ') };
}

/** A random clock skew for a replica: mostly none, else minutes, hours or days either way. */
export function randomSkew(r: Rand): number {
  if (r.chance(0.4)) return 0;
  const unit = r.pick([60_000, 3_600_000, 86_400_000]);
  return (r.chance(0.5) ? 1 : -1) * unit * r.int(1, 30);
}

/** Runs `mailgit ARGS` and throws with its output unless it exits 0. */
export async function mgOk(args: string[], opts: CliOptions = {}): Promise<Run> {
  const r = await cli(args, opts);
  if (r.code !== 0) throw new Error(`mailgit ${args.join(' ')} exited ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Runs `git ARGS` in `cwd`, returns stdout, throws on failure. */
export function git(cwd: string, args: string[], input?: string | Buffer): string {
  const r = spawnSync('git', args, { cwd, input, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} in ${cwd} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'mailgit-torture-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Replaces `dst` with a copy of `src` (same path, so remotes' absolute URLs stay valid). */
export function restore(src: string, dst: string): void {
  rmSync(dst, { recursive: true, force: true });
  cpSync(src, dst, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
}

/** `git fsck --strict` (full, no dangling noise); throws with the output when not clean. */
export function fsckStrict(repo: string): void {
  const r = spawnSync('git', ['fsck', '--strict', '--full', '--no-progress', '--no-dangling'], { cwd: repo, encoding: 'utf8' });
  if (r.status !== 0 || /error|missing|broken|corrupt/i.test(r.stdout + r.stderr)) {
    throw new Error(`git fsck --strict failed in ${repo} (${r.status}):\n${r.stdout}${r.stderr}`);
  }
}

/** The git blob id of bytes. */
export function blobId(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

const MESSAGE = /^(?:(.*)\/)?(cur|new)\/([^/]+)$/;

/** True for a repo path that is a Maildir message file. */
export function isMessagePath(p: string): boolean {
  const m = MESSAGE.exec(p);
  return !!m && !m[3]!.startsWith('.');
}

/** Every path of `rev`'s tree → blob id. */
export function treeFiles(repo: string, rev = 'HEAD'): Map<string, string> {
  const out = new Map<string, string>();
  for (const rec of git(repo, ['ls-tree', '-r', '-z', '--full-tree', rev]).split('\0')) {
    if (!rec) continue;
    const tab = rec.indexOf('\t');
    out.set(rec.slice(tab + 1), rec.slice(0, tab).split(' ')[2]!);
  }
  return out;
}

/**
 * Message files and folder markers of the work tree → blob id (skips `.git`, `tmp/`,
 * caches); a folder's marker counts as there when the folder is (`unwrittenMarker`).
 */
export function diskFiles(repo: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    const names = readdirSync(join(repo, rel));
    const marker = unwrittenMarker(repo, rel, names);
    if (marker !== null) out.set(marker, blobId(Buffer.alloc(0)));
    for (const name of names) {
      const p = rel ? `${rel}/${name}` : name;
      if (p === '.git' || p === '.mailgit' || name === 'tmp' || name === '.notmuch') continue;
      const st = lstatSync(join(repo, p));
      if (st.isDirectory()) walk(p);
      else if (isMessagePath(p) || name === 'maildirfolder') out.set(p, st.isFile() ? blobId(readFileSync(join(repo, p))) : `non-file ${st.mode.toString(8)}`);
    }
  };
  walk('');
  return out;
}

/** The same selection from HEAD: message files and folder markers. */
export function headMaildir(repo: string, rev = 'HEAD'): Map<string, string> {
  const out = new Map<string, string>();
  for (const [p, oid] of treeFiles(repo, rev)) if (isMessagePath(p) || p === 'maildirfolder' || p.endsWith('/maildirfolder')) out.set(p, oid);
  for (const m of impliedMarkers(out.keys())) if (!out.has(m)) out.set(m, blobId(Buffer.alloc(0)));
  return out;
}

/** Sorted `path blob` lines. */
export function lines(m: Map<string, string>): string[] {
  return [...m].map(([p, o]) => `${p} ${o}`).sort();
}

/** Returns a description of how the Maildir on disk differs from HEAD ('' when equal). */
export function diskVsHead(repo: string): string {
  const disk = diskFiles(repo);
  const head = headMaildir(repo);
  const d: string[] = [];
  for (const [p, o] of head) if (disk.get(p) !== o) d.push(`HEAD has ${p} ${o}, disk ${disk.get(p) ?? 'missing'}`);
  for (const [p, o] of disk) if (!head.has(p)) d.push(`disk has ${p} ${o}, HEAD does not`);
  return d.slice(0, 20).join('\n');
}

/** A message as (folder, sub, flags, blob), ignoring its key: how deliver runs compare. */
export function messageShapes(files: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [p, o] of files) {
    const m = MESSAGE.exec(p);
    if (!m || m[3]!.startsWith('.')) continue;
    const name = m[3]!;
    const info = name.includes(':') ? name.slice(name.indexOf(':')) : '';
    out.push(`${m[1] ?? ''}|${m[2]}|${info}|${o}`);
  }
  return out.sort();
}

/** Blob ids of the messages of a listing, with how often each occurs. */
export function blobCounts(files: Map<string, string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [p, o] of files) if (isMessagePath(p)) out.set(o, (out.get(o) ?? 0) + 1);
  return out;
}

/** Prefix for assertion messages: how to rerun this one case. */
export function reproduce(file: string, seed: number, extra = ''): string {
  const long = longRun() ? `MAILGIT_TORTURE_SEEDS=${process.env.MAILGIT_TORTURE_SEEDS} ` : '';
  return `[seed ${seed}${extra ? `, ${extra}` : ''}] reproduce: ${long}MAILGIT_TORTURE_SEED=${seed} npx vitest run ${file}`;
}
