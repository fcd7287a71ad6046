/**
 * What the server harnesses (dovecot.ts, sshd.ts) share: a free loopback port, and stopping
 * a server process. Self-contained (node: imports only): bench/fetch-vs-mbsync.mjs compiles
 * dovecot.ts and what it imports on its own.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Stops a server process: SIGTERM, SIGKILL after `graceMs`; resolves once it has exited.
 * With `group`, the signals go to its process group (a `detached` child and everything it
 * forked), and a last SIGKILL to the group makes sure no child of it lingers.
 */
export async function stopProcess(child: ChildProcess, { group = false, graceMs = 5000 }: { group?: boolean; graceMs?: number } = {}): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const pid = group ? -child.pid : child.pid;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
  if (group) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* none left */
    }
  }
}
