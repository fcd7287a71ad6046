/**
 * Test file systems for the apply (src/repo/applyFs.ts): one that logs every operation,
 * one that makes a chosen operation fail with an errno (once, from then on, or whenever
 * the same operation on the same path comes again), and one that runs a hook before a
 * chosen operation (a mail client's rename at that moment).
 */
import type { ApplyFs } from '../../src/repo/applyFs.js';
import { nodeApplyFs } from '../../src/repo/applyFs.js';

/** The operations of an {@link ApplyFs}. */
export type Op = keyof ApplyFs;

/** One call: the operation and its path arguments. */
export interface Call {
  op: Op;
  paths: string[];
}

/** How an injected fault behaves. */
export type FaultMode = 'once' | 'dies' | 'sticky';

/** An errno error as node's fs gives it. */
export function errnoError(code: string, call: Call): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault, ${call.op} '${call.paths.join("' -> '")}'`), { code, path: call.paths[0] });
}

/**
 * Wraps `inner` so that `before(call, n)` runs before every operation (n counts from 0)
 * and may throw instead of letting it run.
 */
export function hookedFs(before: (call: Call, n: number) => void | Promise<void>, inner: ApplyFs = nodeApplyFs): ApplyFs {
  let n = 0;
  const wrap =
    <A extends unknown[], R>(op: Op, f: (...a: A) => Promise<R>, pathCount: number) =>
    async (...a: A): Promise<R> => {
      await before({ op, paths: a.slice(0, pathCount) as string[] }, n++);
      return f(...a);
    };
  return {
    exists: wrap('exists', inner.exists, 1),
    mkdir: wrap('mkdir', inner.mkdir, 1),
    readdir: wrap('readdir', inner.readdir, 1),
    readFile: wrap('readFile', inner.readFile, 1),
    readBytes: wrap('readBytes', inner.readBytes, 1),
    rename: wrap('rename', inner.rename, 2),
    unlink: wrap('unlink', inner.unlink, 1),
    rmdir: wrap('rmdir', inner.rmdir, 1),
    writeFile: wrap('writeFile', inner.writeFile, 1),
    fsyncDir: wrap('fsyncDir', inner.fsyncDir, 1),
  };
}

/** A file system that logs every call into `log`. */
export function loggingFs(log: Call[]): ApplyFs {
  return hookedFs((call) => {
    log.push(call);
  });
}

/** The identity of a call for a sticky fault: its operation and its last path. */
function callKey(c: Call): string {
  return `${c.op} ${c.paths[c.paths.length - 1]}`;
}

/**
 * A file system whose operation number `index` fails with `code`: `once` fails that call
 * only; `dies` fails it and every call after it (a disk that went away); `sticky` fails it
 * and every later call of the same operation on the same (last) path, in this run and in
 * any later run given the same object (a permanent error).
 */
export function faultyFs(index: number, code: string, mode: FaultMode): ApplyFs & { fired: () => Call | null } {
  let fired: Call | null = null;
  const fs = hookedFs((call, n) => {
    const again = fired !== null && (mode === 'dies' || (mode === 'sticky' && callKey(call) === callKey(fired)));
    if (n === index && fired === null) fired = call;
    else if (!again) return;
    throw errnoError(code, call);
  });
  return { ...fs, fired: () => fired };
}

/** A file system on which every call of `call`'s operation on its (last) path fails with `code`. */
export function failingOn(call: Call, code: string): ApplyFs {
  return hookedFs((c) => {
    if (callKey(c) === callKey(call)) throw errnoError(code, c);
  });
}
