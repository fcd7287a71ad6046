/**
 * Test helpers: run a command under `strace -f` and read back which paths every process
 * listed, opened or stat'ed, and which programs it executed.
 *
 * File descriptors are followed per process, as the kernel does: the path a
 * `getdents64(fd)` reads is the one the `openat` that returned `fd` in the same process
 * opened (threads share the table, a fork copies it, `execve` drops close-on-exec fds).
 * strace's own `-y` decoding of each fd is read too and must agree, so a mistake in this
 * bookkeeping shows up as a problem instead of a silently wrong answer.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, rmSync } from 'node:fs';
import { join, posix } from 'node:path';
import { tempDir } from './cli.js';

/** Syscalls traced: directory listings, path lookups, opens, and what makes processes. */
export const TRACED = ['getdents64', 'openat', 'open', 'newfstatat', 'statx', 'stat', 'lstat', 'execve', 'chdir', 'fchdir', 'clone', 'clone3', 'fork', 'vfork'];

/** Whether strace can trace a child here (installed, and ptrace allowed). */
export function straceUsable(): { ok: true } | { ok: false; reason: string } {
  const v = spawnSync('strace', ['-V'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) return { ok: false, reason: 'strace is not installed (apt-get install strace)' };
  const t = spawnSync('strace', ['-f', '-o', '/dev/null', 'true'], { encoding: 'utf8' });
  if (t.status !== 0) return { ok: false, reason: `strace cannot trace here (ptrace not permitted?): ${(t.stderr ?? '').trim().split('\n').pop()}` };
  return { ok: true };
}

/** One path a process looked up (opened or stat'ed), resolved to an absolute path. */
export interface Touch {
  pid: number;
  call: string;
  path: string;
}

/** One program a process became. */
export interface Exec {
  pid: number;
  path: string;
  argv0: string;
}

/** What a trace shows. */
export interface Trace {
  /** Directories read with getdents64, in order (absolute; repeats kept). */
  listed: { pid: number; path: string }[];
  /** Successful path lookups: openat/open/stat*, with the path resolved. */
  touched: Touch[];
  /** Successful execve calls. */
  execs: Exec[];
  /** Anything the parser could not account for (should be empty). */
  problems: string[];
}

interface Proc {
  fds: Map<number, { path: string; cloexec: boolean }>;
  cwd: { path: string };
}

interface Call {
  tid: number;
  name: string;
  text: string;
}

/** Undoes strace's C-style string escaping. */
function unescapeC(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const n = s[++i]!;
    if (n === 'x') {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (/[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(s.slice(i))![0];
      bytes.push(parseInt(m, 8));
      i += m.length - 1;
    } else bytes.push(({ n: 10, t: 9, r: 13, v: 11, f: 12, '"': 34, '\\': 92 } as Record<string, number>)[n] ?? n.charCodeAt(0));
  }
  return Buffer.from(bytes).toString('utf8');
}

const STRING = /"((?:[^"\\]|\\.)*)"/;
/** An fd argument as `strace -y` prints it: `AT_FDCWD</cwd>` or `12</path>`. */
const FD_ARG = /^(AT_FDCWD|-?\d+)(?:<([^>]*)>)?/;
/** The return value, with strace -y's decoded path for an fd result. */
const RESULT = /\)\s+=\s+(-?\d+|\?)(?:<([^>]*)>)?(?:\s+[A-Z][A-Z0-9_]*(?:\s+\(.*\))?|\s+<unavailable>)?\s*$/;

/** True when `ours` (the name looked up) is `decoded` (strace's -y path: symlinks resolved). */
function samePath(ours: string, decoded: string): boolean {
  if (ours === decoded || ours.startsWith('/proc/')) return true; // /proc/self is the tracee's, not ours
  try {
    return realpathSync(ours) === decoded;
  } catch {
    return true; // gone since: nothing to compare with
  }
}

/** Joins `<unfinished ...>` / `<... resumed>` halves into whole calls, in completion order. */
function calls(text: string, problems: string[]): Call[] {
  const out: Call[] = [];
  const pending = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) {
      if (line.trim()) problems.push(`unparsed line: ${line}`);
      continue;
    }
    const tid = Number(m[1]);
    let body = m[2]!;
    if (body.startsWith('+++') || body.startsWith('---')) continue;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(body);
    if (resumed) {
      const head = pending.get(tid);
      pending.delete(tid);
      if (head === undefined) {
        problems.push(`resumed without start: ${line}`);
        continue;
      }
      body = head + resumed[2]!;
    }
    const unfinished = /^(.*?)\s*<unfinished \.\.\.>$/.exec(body);
    if (unfinished) {
      pending.set(tid, unfinished[1]!);
      continue;
    }
    const name = /^(\w+)\(/.exec(body)?.[1];
    if (!name) {
      problems.push(`unparsed call: ${line}`);
      continue;
    }
    out.push({ tid, name, text: body });
  }
  return out;
}

/**
 * Reads a trace written by `strace -f -y -s 4096 -e trace=TRACED -o FILE`, whose first
 * process started in `cwd`.
 */
export function parseTrace(text: string, cwd: string): Trace {
  const problems: string[] = [];
  const all = calls(text, problems);

  // Who made whom: a thread shares its creator's fd table and cwd, a process copies them.
  const parents = new Map<number, { parent: number; flags: string }>();
  for (const c of all) {
    if (!['clone', 'clone3', 'fork', 'vfork'].includes(c.name)) continue;
    const r = RESULT.exec(c.text);
    if (!r || Number(r[1]) <= 0) continue;
    parents.set(Number(r[1]), { parent: c.tid, flags: /flags=([A-Z0-9_|]+)/.exec(c.text)?.[1] ?? '' });
  }
  const procs = new Map<number, Proc>();
  const pids = new Map<number, number>();
  const procOf = (tid: number): Proc => {
    let p = procs.get(tid);
    if (p) return p;
    const born = parents.get(tid);
    if (!born) {
      p = { fds: new Map(), cwd: { path: cwd } };
      pids.set(tid, tid);
    } else {
      const parent = procOf(born.parent);
      const flags = born.flags.split('|');
      if (flags.includes('CLONE_THREAD')) {
        p = parent;
        pids.set(tid, pids.get(born.parent)!);
      } else {
        p = {
          fds: flags.includes('CLONE_FILES') ? parent.fds : new Map(parent.fds),
          cwd: flags.includes('CLONE_FS') ? parent.cwd : { path: parent.cwd.path },
        };
        pids.set(tid, tid);
      }
    }
    procs.set(tid, p);
    return p;
  };

  const trace: Trace = { listed: [], touched: [], execs: [], problems };
  for (const c of all) {
    const proc = procOf(c.tid);
    const pid = pids.get(c.tid)!;
    const r = RESULT.exec(c.text);
    if (!r) {
      problems.push(`no result: ${c.tid} ${c.text}`);
      continue;
    }
    const ok = r[1] !== '?' && Number(r[1]) >= 0;
    const args = c.text.slice(c.name.length + 1);
    const str = STRING.exec(args);
    const path = str ? unescapeC(str[1]!) : null;
    // The directory a relative path is looked up in: the cwd, or the dirfd's path.
    const dirfd = (): string | null => {
      const f = FD_ARG.exec(args);
      if (!f) return null;
      if (f[1] === 'AT_FDCWD') return proc.cwd.path;
      const known = proc.fds.get(Number(f[1]))?.path ?? null;
      // 0-2 are inherited from the test runner, opened before the trace began.
      if (known === null && Number(f[1]) > 2) problems.push(`unknown fd ${f[1]} (strace says ${f[2]}) in ${pid}: ${c.text}`);
      return known ?? f[2] ?? null;
    };
    const resolve = (base: string | null, p: string): string | null => {
      const abs = p.startsWith('/') ? posix.normalize(p) : base === null ? null : p === '' ? base : posix.join(base, p);
      return abs !== null && abs.length > 1 && abs.endsWith('/') ? abs.slice(0, -1) : abs;
    };

    switch (c.name) {
      case 'getdents64': {
        const f = FD_ARG.exec(args);
        const known = f ? proc.fds.get(Number(f[1]))?.path : undefined;
        if (known === undefined) problems.push(`getdents64 on an fd no traced openat returned in ${pid}: ${c.text}`);
        else if (f![2] !== undefined && !samePath(known, f![2])) problems.push(`fd bookkeeping says ${known}, strace says ${f![2]}: ${c.text}`);
        const dir = known ?? f?.[2];
        if (ok && dir) trace.listed.push({ pid, path: dir });
        break;
      }
      case 'openat':
      case 'open':
      case 'newfstatat':
      case 'statx':
      case 'stat':
      case 'lstat': {
        if (!ok || path === null) break;
        const base = c.name === 'open' || c.name === 'stat' || c.name === 'lstat' ? proc.cwd.path : dirfd();
        const abs = resolve(base, path);
        if (abs === null) {
          problems.push(`cannot resolve ${path}: ${c.text}`);
          break;
        }
        trace.touched.push({ pid, call: c.name, path: abs });
        if (c.name === 'openat' || c.name === 'open') {
          proc.fds.set(Number(r[1]), { path: abs, cloexec: /O_CLOEXEC/.test(args) });
          if (r[2] !== undefined && !samePath(abs, r[2])) problems.push(`opened ${abs}, strace says ${r[2]}`);
        }
        break;
      }
      case 'chdir':
        if (ok && path !== null) proc.cwd.path = resolve(proc.cwd.path, path)!;
        break;
      case 'fchdir': {
        const f = FD_ARG.exec(args);
        const known = f ? proc.fds.get(Number(f[1]))?.path : undefined;
        if (ok && known) proc.cwd.path = known;
        break;
      }
      case 'execve':
        if (!ok || path === null) break;
        for (const [fd, e] of proc.fds) if (e.cloexec) proc.fds.delete(fd);
        trace.execs.push({ pid, path, argv0: unescapeC(/\[\s*"((?:[^"\\]|\\.)*)"/.exec(args)?.[1] ?? '') });
        break;
      default:
        break;
    }
  }
  return trace;
}

/** Runs `cmd ARGS` in `cwd` under strace and returns its result and what the trace shows. */
export function traced(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: Record<string, string> },
): { code: number; stdout: string; stderr: string; trace: Trace; raw: string } {
  const dir = tempDir('mailgit-strace-');
  const out = join(dir, 'trace');
  try {
    const r = spawnSync('strace', ['-f', '-y', '-s', '4096', '-e', `trace=${TRACED.join(',')}`, '-o', out, cmd, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const raw = readFileSync(out, 'utf8');
    return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr, trace: parseTrace(raw, opts.cwd), raw };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
