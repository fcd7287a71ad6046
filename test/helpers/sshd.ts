/**
 * Test harness: a real OpenSSH server on a loopback port, with its own host key, its own
 * config and an authorized_keys file in a temp directory, and a client key. Remotes like
 * `ssh://USER@127.0.0.1:PORT/abs/path/hub.git` then work for git when the environment
 * from {@link Sshd.env} (GIT_SSH_COMMAND) is passed to mailgit.
 *
 * Needs `/usr/sbin/sshd` (Debian: openssh-server; `.ci/run` installs it). sshd wants its
 * privilege separation directory `/run/sshd`; we create it when we can.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { tempDir } from './cli.js';
import { freePort, stopProcess } from './ports.js';

/** A running sshd and how to reach it. */
export interface Sshd {
  port: number;
  user: string;
  /** Client private key file. */
  key: string;
  /** Environment for git/mailgit: GIT_SSH_COMMAND with the key, port and no host checks. */
  env: Record<string, string>;
  /** `ssh://USER@127.0.0.1:PORT` + an absolute path. */
  url(path: string): string;
  /** What sshd wrote to stderr (for diagnosing a failed test). */
  log(): string;
  stop(): Promise<void>;
}

/** Why sshd cannot run here, or null when it can. */
export function sshdUnavailable(): string | null {
  if (!existsSync('/usr/sbin/sshd')) return '/usr/sbin/sshd is not installed (apt-get install openssh-server)';
  if (spawnSync('ssh', ['-V']).status !== 0) return 'ssh client is not installed';
  return null;
}

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mailgit-test', '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

/**
 * Starts sshd on a free loopback port; resolves once a login with the client key works.
 * With `home`, logins get that directory as HOME (so `~/x` in a URL stays in the test's
 * directory), and the environment's ssh reaches any host name (`ssh://desktop/~/x`) there.
 */
export async function startSshd(opts: { home?: string } = {}): Promise<Sshd> {
  const dir = tempDir('mailgit-sshd-');
  const user = userInfo().username;
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'client_key'));
  const env = opts.home ? `environment="HOME=${opts.home}" ` : '';
  writeFileSync(join(dir, 'authorized_keys'), env + readFileSync(join(dir, 'client_key.pub'), 'utf8'));
  chmodSync(join(dir, 'authorized_keys'), 0o600);
  try {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  } catch {
    // Not root: sshd may still run if its build does not need it.
  }
  let lastErr = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const cfg = join(dir, 'sshd_config');
    writeFileSync(
      cfg,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host_key')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        ...(opts.home ? ['PermitUserEnvironment yes'] : []),
        `PidFile ${join(dir, 'sshd.pid')}`,
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    const child: ChildProcess = spawn('/usr/sbin/sshd', ['-f', cfg, '-D', '-e'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    const sshCmd = `ssh -i ${join(dir, 'client_key')} -p ${port}${opts.home ? ' -o HostName=127.0.0.1' : ''} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=10`;
    const stop = () => stopProcess(child);
    const deadline = Date.now() + 20_000;
    while (!exited() && Date.now() < deadline) {
      const probe = spawnSync('sh', ['-c', `${sshCmd} ${user}@127.0.0.1 true`], { encoding: 'utf8', timeout: 15_000 });
      if (probe.status === 0) {
        return {
          port,
          user,
          key: join(dir, 'client_key'),
          env: { GIT_SSH_COMMAND: sshCmd },
          url: (path: string) => `ssh://${user}@127.0.0.1:${port}${path}`,
          log: () => stderr,
          stop,
        };
      }
      lastErr = probe.stderr;
      await new Promise((r) => setTimeout(r, 200));
    }
    lastErr = `${lastErr}\n${stderr}`;
    await stop();
  }
  throw new Error(`sshd did not come up: ${lastErr}`);
}

/**
 * One sshd for the enclosing `describe` block: started before its tests, stopped after
 * them. The returned handle reaches the running server (use it inside tests only).
 */
export function sshdPerSuite(opts: { home?: string } = {}): Sshd {
  let running: Sshd | undefined;
  beforeAll(async () => {
    running = await startSshd(opts);
  });
  afterAll(async () => {
    await running?.stop();
  });
  return new Proxy({} as Sshd, {
    get(_target, key) {
      if (!running) throw new Error('sshd is not started yet: use it inside a test');
      const value = Reflect.get(running, key) as unknown;
      return typeof value === 'function' ? value.bind(running) : value;
    },
  });
}
