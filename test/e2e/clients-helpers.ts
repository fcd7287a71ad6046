/**
 * Helpers for the watch, deliver and mail-client end-to-end tests: messages, Maildir
 * writes as a client makes them, a `mailgit watch` child whose JSON events can be awaited.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, renameSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, gitOut } from '../helpers/cli.js';

/** A small RFC 5322 message. */
export function message(i: number, subject = `message ${i}`, from = 'alice@example.org'): string {
  const date = new Date(Date.UTC(2024, 0, 1, 0, 0, i % 60)).toUTCString().replace('GMT', '+0000');
  return `From: ${from}\r\nTo: bob@example.org\r\nSubject: ${subject}\r\nDate: ${date}\r\nMessage-ID: <m${i}.${subject.replace(/\W/g, '')}@example.org>\r\n\r\nBody of ${subject}.\r\n`;
}

/** Writes messages into `<repo>/<folder>/<sub>/` as a delivery agent would (tmp, then rename). */
export function putMessages(repo: string, folder: string, n: number, opts: { sub?: 'new' | 'cur'; info?: string; start?: number } = {}): string[] {
  const sub = opts.sub ?? 'new';
  for (const s of ['cur', 'new', 'tmp']) mkdirSync(join(repo, folder, s), { recursive: true });
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = (opts.start ?? 0) + i;
    const name = `1700000000.M${k}P1Q1.testhost${opts.info ?? (sub === 'cur' ? ':2,' : '')}`;
    writeFileSync(join(repo, folder, 'tmp', name), message(k, `${folder} ${k}`));
    renameSync(join(repo, folder, 'tmp', name), join(repo, folder, sub, name));
    names.push(name);
  }
  return names;
}

/** Lists the message names in a folder's `cur/` or `new/`. */
export function ls(repo: string, folder: string, sub: 'cur' | 'new'): string[] {
  try {
    return readdirSync(join(repo, folder, sub))
      .filter((n) => !n.startsWith('.'))
      .sort();
  } catch {
    return [];
  }
}

/** Paths of HEAD's tree (or of commit `rev`'s). */
export function headFiles(repo: string, rev = 'HEAD'): string[] {
  return gitOut(repo, ['ls-tree', '-r', '--name-only', rev]).split('\n').filter(Boolean);
}

/** Number of commits reachable from HEAD. */
export function commitCount(repo: string): number {
  return Number(gitOut(repo, ['rev-list', '--count', 'HEAD']).trim());
}

/** Runs mailgit and returns status and output (optionally as another uid/gid). */
export function run(
  args: string[],
  opts: { cwd?: string; input?: string | Buffer; uid?: number; gid?: number; env?: Record<string, string> } = {},
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? '/',
    input: opts.input,
    uid: opts.uid,
    gid: opts.gid,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** One JSON line `mailgit watch --json` printed. */
export interface WatchEventLine {
  time: string;
  event: 'ready' | 'commit' | 'sync' | 'fetch' | 'stopped';
  commit?: string;
  summary?: string[];
  lines?: string[];
  pushed?: string[];
  failures?: string[];
  /** When the test process read the line (ms since epoch). */
  seen: number;
}

/** A running `mailgit watch --json`. */
export interface WatchChild {
  child: ChildProcess;
  events: WatchEventLine[];
  stderr: () => string;
  /** Resolves with the first event (at or after index `from`) that matches. */
  waitFor(pred: (e: WatchEventLine) => boolean, timeoutMs?: number, from?: number): Promise<WatchEventLine>;
  /** SIGTERM, then resolves with the exit status. */
  stop(): Promise<number>;
}

/** Starts `mailgit watch --json ARGS` on `repo` and resolves once it is ready. */
export async function startWatchChild(repo: string, args: string[] = []): Promise<WatchChild> {
  const child = spawn(process.execPath, [BIN, '-C', repo, 'watch', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: WatchEventLine[] = [];
  let err = '';
  let buf = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        events.push({ ...(JSON.parse(line) as WatchEventLine), seen: Date.now() });
      } catch {
        err += `unparsed: ${line}\n`;
      }
      for (const w of [...waiters]) w();
    }
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<number>((r) => child.on('exit', (code, sig) => r(code ?? (sig ? 128 : 0))));
  const w: WatchChild = {
    child,
    events,
    stderr: () => err,
    waitFor(pred, timeoutMs = 15_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const e = events.slice(from).find(pred);
          if (e) {
            waiters.delete(check);
            clearTimeout(t);
            resolve(e);
          }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`watch: no matching event within ${timeoutMs} ms; events: ${JSON.stringify(events)}; stderr: ${err}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  await w.waitFor((e) => e.event === 'ready', 30_000);
  return w;
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a truthy value or `ms` pass. */
export async function until<T>(fn: () => T | Promise<T>, ms = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Parses commit summary lines `FOLDER: 1 flagged, 2 deleted` into {folder: {label: n}}. */
export function parseSummary(lines: string[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const line of lines) {
    const i = line.indexOf(': ');
    const folder = line.slice(0, i);
    out[folder] = {};
    for (const part of line.slice(i + 2).split(', ')) {
      const m = /^(\d+) (.*)$/.exec(part)!;
      out[folder][m[2]!] = Number(m[1]);
    }
  }
  return out;
}
