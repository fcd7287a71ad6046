/**
 * A throw-away Dovecot IMAP server for tests and benchmarks.
 *
 *     const dc = await startDovecot();                 // loopback, free port, plaintext
 *     // dc.host, dc.port, dc.user, dc.password, dc.mailRoot
 *     await dc.append('INBOX', [raw1, raw2], { flags: ['\\Seen'], user: 'alice' });
 *     await dc.doveadm(['flags', 'add', '-u', dc.user, '\\Flagged', 'mailbox', 'INBOX', 'uid', '1']);
 *     await dc.stop();                                 // idempotent; also runs at process exit
 *
 * Each instance has its own directory (config, passwd-file, base_dir, logs, mail), so any
 * number can run side by side. As root, the master runs as root with the stock
 * `dovecot`/`dovenull` service users and mail owned by `mail` (uid 8; Dovecot refuses uid 0
 * for mail); as another user, everything runs as that user. Authentication is plaintext
 * PLAIN/LOGIN without TLS: it listens on 127.0.0.1 only.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, rm, chmod, chown, readFile } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import { freePort, stopProcess } from './ports.js';

const execFileP = promisify(execFile);

/** One IMAP login. */
export interface DovecotUser {
  user: string;
  password: string;
}

/** How to start the server. All fields are optional. */
export interface DovecotOptions {
  /** Logins to create; the first is the default `user`/`password`. Default: one `alice`. */
  users?: DovecotUser[];
  /** Maildir layout on the server side: `fs` (default, `LAYOUT=fs`) or `maildir++`. */
  layout?: 'fs' | 'maildir++';
  /** A full `mail_location` (with `~` for the user's home); overrides `layout`. */
  mailLocation?: string;
  /** Extra lines appended to dovecot.conf (e.g. plugin settings). */
  extraConfig?: string;
  /** Parent of the instance directory. Default: the OS temp dir. */
  parentDir?: string;
  /** Port to listen on. Default: a free loopback port. */
  port?: number;
  /**
   * SPECIAL-USE attributes by folder name, e.g. `{ Sent: '\\Sent' }` (the folders are not
   * created: append to one, or create it, to see it listed with its attribute).
   */
  specialUse?: Record<string, string>;
  /** Replaces the post-login CAPABILITY list (Dovecot's `imap_capability`), e.g. one without CONDSTORE and QRESYNC. */
  imapCapability?: string;
  /**
   * Adds SASL XOAUTH2 and OAUTHBEARER with an oauth2 passdb that validates tokens at this
   * RFC 7662 introspection URL (POST `token=…`; the answer's `username` must be the login).
   */
  oauth2IntrospectionUrl?: string;
}

/** Options of {@link Dovecot.append}. */
export interface AppendOptions {
  flags?: string[];
  internalDate?: Date;
  user?: string | DovecotUser;
}

/** A running Dovecot. */
export interface Dovecot {
  host: string;
  port: number;
  /** The first user's login and password. */
  user: string;
  password: string;
  users: DovecotUser[];
  /** The first user's Maildir root (INBOX's cur/new/tmp live directly in it). */
  mailRoot: string;
  /** The instance directory (config, logs, homes). Removed by `stop()` unless `keep`. */
  dir: string;
  /** The server's log file. */
  logFile: string;
  /** The Maildir root of another user. */
  mailRootOf(user: string): string;
  /**
   * The on-disk directory of a folder (`INBOX`, `Lists/rust`, `Entwürfe`) of the first (or
   * given) user, as Dovecot reports it (names are stored modified-UTF-7 encoded).
   */
  folderPath(folder: string, user?: string): Promise<string>;
  /**
   * Runs `doveadm -c <this config> ...args` and returns its stdout. Mail commands need the
   * user: `dc.doveadm(['flags', 'add', '-u', dc.user, '\\Flagged', 'mailbox', 'INBOX', 'uid', '1'])`.
   */
  doveadm(args: string[]): Promise<string>;
  /** A logged-in imapflow client for the first (or given) user; the caller logs out. */
  connect(user?: DovecotUser): Promise<ImapFlow>;
  /**
   * Creates the folder if needed and APPENDs raw messages, as the first user unless
   * `opts.user` says otherwise (a name or a {@link DovecotUser}).
   */
  append(folder: string, messages: (string | Buffer)[], opts?: AppendOptions): Promise<void>;
  /** Stops the server (SIGTERM to its process group, SIGKILL after 5 s) and deletes `dir`. */
  stop(opts?: { keep?: boolean }): Promise<void>;
  /** Stops the server, keeping its data, and starts it again on the same port. */
  restart(): Promise<void>;
  /** Whether the server process is running. */
  readonly running: boolean;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

/** Resolves once something answers an IMAP greeting on the port, or rejects after `ms`. */
async function waitForGreeting(host: string, port: number, ms: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`dovecot exited early (${child.exitCode ?? child.signalCode})`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = netConnect({ host, port });
      let buf = '';
      const done = (v: boolean) => {
        sock.destroy();
        resolve(v);
      };
      sock.setTimeout(1000, () => done(false));
      sock.on('data', (d) => {
        buf += d.toString();
        if (buf.includes('\r\n')) done(buf.startsWith('* OK'));
      });
      sock.on('error', () => done(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`dovecot did not answer on ${host}:${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a Dovecot instance; see the module comment. */
export async function startDovecot(opts: DovecotOptions = {}): Promise<Dovecot> {
  installExitHook();
  const users = opts.users ?? [{ user: 'alice', password: 'alice-secret-pw' }];
  if (users.length === 0) throw new Error('startDovecot: at least one user');
  const dir = await mkdtemp(join(opts.parentDir ?? tmpdir(), 'mailgit-dovecot-'));
  await chmod(dir, 0o755);
  const isRoot = process.getuid?.() === 0;
  const me = userInfo();
  // Dovecot refuses uid 0 for mail access: as root, mail belongs to the `mail` user.
  const mailUid = isRoot ? 8 : me.uid;
  const mailGid = isRoot ? 8 : me.gid;
  const loginUser = isRoot ? 'dovenull' : me.username;
  const internalUser = isRoot ? 'dovecot' : me.username;
  const layout = opts.layout ?? 'fs';
  const mailLocation = opts.mailLocation ?? (layout === 'fs' ? 'maildir:~/Maildir:LAYOUT=fs' : 'maildir:~/Maildir');
  const host = '127.0.0.1';
  const logFile = join(dir, 'dovecot.log');
  const confFile = join(dir, 'dovecot.conf');

  await mkdir(join(dir, 'run'), { mode: 0o755 });
  await mkdir(join(dir, 'state'), { mode: 0o755 });
  await mkdir(join(dir, 'home'), { mode: 0o755 });
  for (const u of users) {
    if (!/^[a-z0-9._-]+$/i.test(u.user) || /[:\n]/.test(u.password)) throw new Error(`startDovecot: bad user ${u.user}`);
    const home = join(dir, 'home', u.user);
    await mkdir(join(home, 'Maildir', 'cur'), { recursive: true, mode: 0o700 });
    await mkdir(join(home, 'Maildir', 'new'), { mode: 0o700 });
    await mkdir(join(home, 'Maildir', 'tmp'), { mode: 0o700 });
    if (isRoot) {
      for (const p of [home, join(home, 'Maildir'), ...['cur', 'new', 'tmp'].map((s) => join(home, 'Maildir', s))]) {
        await chown(p, mailUid, mailGid);
      }
    }
  }
  await writeFile(join(dir, 'passwd'), users.map((u) => `${u.user}:{PLAIN}${u.password}:${mailUid}:${mailGid}::${join(dir, 'home', u.user)}::\n`).join(''), {
    mode: 0o644,
  });

  if (opts.oauth2IntrospectionUrl) {
    await writeFile(
      join(dir, 'oauth2.conf'),
      `introspection_mode = post\nintrospection_url = ${opts.oauth2IntrospectionUrl}\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n`,
      { mode: 0o644 },
    );
  }
  let port = opts.port ?? (await freePort());
  const writeConf = () =>
    writeFile(
      confFile,
      `# generated by test/helpers/dovecot.ts
protocols = imap
listen = ${host}
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = mailgit-test-${port}
log_path = ${logFile}
info_log_path = ${logFile}
debug_log_path = ${logFile}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login${opts.oauth2IntrospectionUrl ? ' xoauth2 oauthbearer' : ''}
auth_failure_delay = 0
default_login_user = ${loginUser}
default_internal_user = ${internalUser}
first_valid_uid = ${Math.min(mailUid, 1) || 1}
last_valid_uid = 0
first_valid_gid = 1
mail_location = ${mailLocation}
mail_uid = ${mailUid}
mail_gid = ${mailGid}
mail_fsync = never
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
${
  opts.oauth2IntrospectionUrl
    ? `passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${dir}/oauth2.conf
}
`
    : ''
}userdb {
  driver = passwd-file
  args = username_format=%u ${dir}/passwd
}
namespace inbox {
  inbox = yes
  separator = /
${Object.entries(opts.specialUse ?? {})
  .map(([name, use]) => `  mailbox "${name.replace(/["\\]/g, '')}" {\n    special_use = ${use}\n  }`)
  .join('\n')}
}
service imap-login {
  inet_listener imap {
    address = ${host}
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
  ${isRoot ? '' : 'chroot =\n  user = $default_internal_user'}
}
service anvil {
  chroot =
}
service stats {
  inet_listener http {
    port = 0
  }
}
protocol imap {
  mail_max_userip_connections = 100
${opts.imapCapability ? `  imap_capability = ${opts.imapCapability}\n` : ''}}
${opts.extraConfig ?? ''}
`,
    );
  await writeConf();

  let child: ChildProcess | null = null;
  const launch = async (): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      const c = spawn('dovecot', ['-F', '-c', confFile], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      c.stderr?.on('data', (d) => (stderr += d.toString()));
      live.add(c);
      c.on('exit', () => live.delete(c));
      try {
        await waitForGreeting(host, port, 10_000, c);
        child = c;
        return;
      } catch (err) {
        try {
          if (c.pid) process.kill(-c.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        let log = '';
        try {
          log = await readFile(logFile, 'utf8');
        } catch {
          /* none */
        }
        const portTaken = /Address already in use/.test(stderr + log);
        if (portTaken && attempt < 5 && opts.port === undefined) {
          port = await freePort();
          await writeConf();
          continue;
        }
        throw new Error(`${(err as Error).message}\n${stderr}\n${log.split('\n').slice(-20).join('\n')}`);
      }
    }
  };

  const halt = async (): Promise<void> => {
    const c = child;
    child = null;
    // The master and its imap/auth children: the whole process group.
    if (c) await stopProcess(c, { group: true });
  };

  await launch();

  const mailRootOf = (user: string) => join(dir, 'home', user, 'Maildir');
  const folderPathOf = async (folder: string, user = users[0].user) => {
    const { stdout } = await execFileP('doveadm', ['-c', confFile, 'mailbox', 'path', '-u', user, folder]);
    return stdout.trim();
  };

  const dc: Dovecot = {
    host,
    get port() {
      return port;
    },
    user: users[0].user,
    password: users[0].password,
    users,
    mailRoot: mailRootOf(users[0].user),
    dir,
    logFile,
    mailRootOf,
    folderPath: folderPathOf,
    get running() {
      const c = child as ChildProcess | null;
      return c !== null && c.exitCode === null && c.signalCode === null;
    },
    async doveadm(args) {
      const { stdout } = await execFileP('doveadm', ['-c', confFile, ...args], { maxBuffer: 64 << 20 });
      return stdout;
    },
    async connect(u = users[0]) {
      const client = new ImapFlow({ host, port, secure: false, doSTARTTLS: false, auth: { user: u.user, pass: u.password }, logger: false });
      await client.connect();
      return client;
    },
    async append(folder, messages, o = {}) {
      const u = typeof o.user === 'string' ? users.find((x) => x.user === o.user) : (o.user ?? users[0]);
      if (!u) throw new Error(`append: no user ${String(o.user)}`);
      const client = await dc.connect(u);
      try {
        if (folder.toUpperCase() !== 'INBOX') {
          try {
            await client.mailboxCreate(folder);
          } catch {
            /* exists */
          }
        }
        for (const m of messages) await client.append(folder, m, o.flags ?? [], o.internalDate);
      } finally {
        await client.logout().catch(() => undefined);
      }
    },
    async stop(o = {}) {
      await halt();
      if (!o.keep) await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await halt();
      await launch();
    },
  };
  return dc;
}
