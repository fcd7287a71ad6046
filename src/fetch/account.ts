/**
 * IMAP account definitions and passwords.
 *
 * The definition — host, port, security, user, folder patterns, name map — is synced:
 * `.mailgit/accounts/<name>.json`. The password never is. It comes, in this order, from
 *   1. the environment variable `MAILGIT_PASSWORD_<NAME>` (name upper-cased, every
 *      character outside A-Z 0-9 replaced by `_`), or
 *   2. a password command, kept per machine in `.git/mailgit/accounts/<name>.json`
 *      (a secret *reference* is machine-local, like mbsync's PassCmd in ~/.mbsyncrc).
 * The command is split into argv with shell-like quoting and run directly (no shell): to
 * use a pipe, write `sh -c '…'` yourself. Its first output line is the password; it is
 * never logged, never put into an error message, never passed to another process.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { RepoPaths } from '../git/run.js';
import { MailgitError, EX, UsageError } from '../util/errors.js';
import { checkEndpoint, oauthAccessToken, type OAuthConfig } from './oauth.js';

/** How the connection is secured. */
export type Security = 'tls' | 'starttls' | 'none';

/** A synced account definition. */
export interface Account {
  name: string;
  host: string;
  port: number;
  security: Security;
  user: string;
  /** Skip certificate verification (self-signed servers). Default false. */
  insecure?: boolean;
  /** Folder include patterns on remote names (`*`, `%`, `?`); default all. */
  folders?: string[];
  /** Folder exclude patterns. */
  exclude?: string[];
  /**
   * Remote folders `watch --fetch` keeps in IDLE besides INBOX, one connection each, on a
   * server without NOTIFY (with NOTIFY, the INBOX connection hears of every folder).
   */
  idle?: string[];
  /** Remote folder name → local folder name. */
  map?: Record<string, string>;
  /**
   * `both`: fetch also sends the repo's changes to the server (flags, moves, deletions,
   * new messages); `pull`: fetch only reads. A definition without the field is `pull`
   * (accounts defined before two-way fetch existed); `account add` writes `both` by default.
   */
  sync: 'both' | 'pull';
  /** Two-way: expunge what the repo deleted (default: only mark it `\Deleted`). */
  expunge?: boolean;
  /** `password` (default) or `oauth2` (SASL OAUTHBEARER / XOAUTH2 with an access token from a token command). */
  auth?: 'password' | 'oauth2';
  /** OAuth 2 with tokens refreshed by mailgit: the endpoints and client (see src/fetch/oauth.ts). */
  oauth?: OAuthConfig;
}

/**
 * The server an account's password may be sent to. Account definitions are synced, so
 * another replica could change them; this machine pins the identity it agreed to.
 */
export interface ServerIdentity {
  host: string;
  port: number;
  security: Security;
  user: string;
  insecure: boolean;
  /** Present for OAuth 2 accounts (the token goes to the same server identity only). */
  auth?: 'oauth2';
  /** Present for two-way accounts: a replica must not turn this machine's fetch into one that writes to the server. */
  sync?: 'both';
  /** Present when two-way deletions are expunged. */
  expunge?: true;
  /** OAuth refreshed by mailgit: where the refresh token (and client secret) may be sent. */
  tokenUrl?: string;
  /** OAuth device login: where the client secret may be sent. */
  deviceUrl?: string;
}

/** Per-machine settings of an account. */
export interface LocalAccountSettings {
  passwordCommand?: string[];
  /** OAuth 2: the command printing an access token. */
  tokenCommand?: string[];
  /** OAuth 2 refreshed by mailgit: the command printing the refresh token. */
  refreshTokenCommand?: string[];
  /** OAuth 2 refreshed by mailgit: the command printing the client secret (providers that want one). */
  clientSecretCommand?: string[];
  /** Moving from offlineimap: its `LocalStatus` and `FolderValidity` directories of this account (src/fetch/import.ts). */
  offlineimap?: { status: string; validity: string };
  /** The server this machine trusts with the password (set by add, password-command, trust). */
  server?: ServerIdentity;
}

/** Returns the server identity of an account definition. */
export function serverOf(a: Account): ServerIdentity {
  return {
    host: a.host,
    port: a.port,
    security: a.security,
    user: a.user,
    insecure: a.insecure === true,
    ...(a.auth === 'oauth2' ? { auth: 'oauth2' as const } : {}),
    ...(a.sync === 'both' ? { sync: 'both' as const } : {}),
    ...(a.sync === 'both' && a.expunge ? { expunge: true as const } : {}),
    ...(a.oauth ? { tokenUrl: a.oauth.tokenUrl } : {}),
    ...(a.oauth?.deviceUrl ? { deviceUrl: a.oauth.deviceUrl } : {}),
  };
}

function isServer(v: unknown): v is ServerIdentity {
  const o = v as ServerIdentity;
  return (
    !!o &&
    typeof o.host === 'string' &&
    typeof o.port === 'number' &&
    typeof o.security === 'string' &&
    typeof o.user === 'string' &&
    typeof o.insecure === 'boolean' &&
    (o.auth === undefined || o.auth === 'oauth2') &&
    (o.sync === undefined || o.sync === 'both') &&
    (o.expunge === undefined || o.expunge === true) &&
    (o.tokenUrl === undefined || typeof o.tokenUrl === 'string') &&
    (o.deviceUrl === undefined || typeof o.deviceUrl === 'string')
  );
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/** Throws a usage error unless `name` is a valid account name. */
export function checkAccountName(name: string): void {
  if (!NAME_RE.test(name)) throw new UsageError(`invalid account name "${name}": use letters, digits, "-" and "_" (max 63)`);
}

/** Repo-relative path of an account definition. */
export function accountPath(name: string): string {
  return `.mailgit/accounts/${name}.json`;
}

function localPath({ gitDir }: RepoPaths, name: string): string {
  return join(gitDir, 'mailgit', 'accounts', `${name}.json`);
}

/** The most folders an account keeps in IDLE besides INBOX (each costs one server connection). */
const MAX_IDLE = 8;

/** Validates and normalises a parsed account definition. */
export function validateAccount(raw: unknown, name: string): Account {
  const a = raw as Partial<Account> | null;
  const bad = (why: string) => new MailgitError(`account ${name}: ${why}`, 'EACCOUNT', EX.CONFIG);
  if (!a || typeof a !== 'object') throw bad('not an object');
  if (typeof a.host !== 'string' || a.host === '') throw bad('no host');
  if (typeof a.user !== 'string' || a.user === '') throw bad('no user');
  const security: Security = a.security === 'starttls' || a.security === 'none' ? a.security : 'tls';
  const port = a.port === undefined ? (security === 'tls' ? 993 : 143) : Number(a.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`bad port ${String(a.port)}`);
  const strings = (v: unknown, what: string): string[] | undefined => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(`${what} must be a list of strings`);
    return v as string[];
  };
  const map = a.map === undefined ? undefined : (a.map as Record<string, string>);
  if (map !== undefined && (typeof map !== 'object' || Object.values(map).some((v) => typeof v !== 'string'))) throw bad('map must be an object of strings');
  if (a.sync !== undefined && a.sync !== 'both' && a.sync !== 'pull') throw bad(`sync must be "both" or "pull", not ${JSON.stringify(a.sync)}`);
  if (a.auth !== undefined && a.auth !== 'password' && a.auth !== 'oauth2') throw bad(`auth must be "password" or "oauth2", not ${JSON.stringify(a.auth)}`);
  const out: Account = { name, host: a.host, port, security, user: a.user, sync: a.sync === 'both' ? 'both' : 'pull' };
  if (a.insecure) out.insecure = true;
  if (a.expunge === true) out.expunge = true;
  if (a.auth === 'oauth2') out.auth = 'oauth2';
  if (a.oauth !== undefined) out.oauth = validateOAuth(a.oauth, bad);
  if (out.oauth && out.auth !== 'oauth2') throw bad('oauth needs auth "oauth2"');
  const folders = strings(a.folders, 'folders');
  const exclude = strings(a.exclude, 'exclude');
  const idle = strings(a.idle, 'idle');
  if (idle && idle.length > MAX_IDLE) throw bad(`idle names ${idle.length} folders; at most ${MAX_IDLE} (each is a connection to the server)`);
  if (folders?.length) out.folders = folders;
  if (exclude?.length) out.exclude = exclude;
  const watched = [...new Set(idle ?? [])].filter((f) => f.toUpperCase() !== 'INBOX');
  if (watched.length) out.idle = watched;
  if (map && Object.keys(map).length) out.map = map;
  return out;
}

/** Validates the `oauth` part of a definition: https endpoints (http on loopback only), a client id. */
function validateOAuth(raw: unknown, bad: (why: string) => MailgitError): OAuthConfig {
  const o = raw as Partial<OAuthConfig> | null;
  if (!o || typeof o !== 'object' || typeof o.tokenUrl !== 'string' || typeof o.clientId !== 'string' || o.clientId === '')
    throw bad('oauth wants a tokenUrl and a clientId');
  const out: OAuthConfig = { tokenUrl: o.tokenUrl, clientId: o.clientId };
  if (typeof o.deviceUrl === 'string') out.deviceUrl = o.deviceUrl;
  if (typeof o.scope === 'string' && o.scope !== '') out.scope = o.scope;
  try {
    checkEndpoint(out.tokenUrl, 'tokenUrl');
    if (out.deviceUrl !== undefined) checkEndpoint(out.deviceUrl, 'deviceUrl');
  } catch (err) {
    throw bad((err as Error).message);
  }
  return out;
}

/** The canonical JSON of an account definition (stable key order, no name, no secret). */
export function formatAccount(a: Account): string {
  const o: Record<string, unknown> = { host: a.host, port: a.port, security: a.security, user: a.user, sync: a.sync };
  if (a.insecure) o.insecure = true;
  if (a.expunge) o.expunge = true;
  if (a.auth === 'oauth2') o.auth = 'oauth2';
  if (a.oauth) o.oauth = a.oauth;
  if (a.folders) o.folders = a.folders;
  if (a.exclude) o.exclude = a.exclude;
  if (a.idle?.length) o.idle = a.idle;
  if (a.map)
    o.map = Object.fromEntries(
      Object.keys(a.map)
        .sort()
        .map((k) => [k, a.map![k]]),
    );
  return `${JSON.stringify(o, null, 2)}\n`;
}

/** Reads one account definition; throws (exit 78) when it is missing or invalid. */
export async function readAccount(root: string, name: string): Promise<Account> {
  checkAccountName(name);
  let text: string;
  try {
    text = await readFile(join(root, accountPath(name)), 'utf8');
  } catch {
    throw new MailgitError(`no such account: ${name} (see "mailgit account list")`, 'ENOACCOUNT', EX.CONFIG);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new MailgitError(`account ${name}: ${accountPath(name)} is not valid JSON`, 'EACCOUNT', EX.CONFIG);
  }
  return validateAccount(raw, name);
}

/** Lists the names of the defined accounts, sorted. */
export async function listAccounts(root: string): Promise<string[]> {
  try {
    return (await readdir(join(root, '.mailgit', 'accounts')))
      .filter((f) => f.endsWith('.json') && NAME_RE.test(f.slice(0, -5)))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

/** Writes an account definition into the work tree (the caller records it). */
export async function writeAccount(repo: RepoPaths, a: Account): Promise<void> {
  checkAccountName(a.name);
  const tmpDir = join(repo.gitDir, 'mailgit', 'tmp');
  await mkdir(join(repo.root, '.mailgit', 'accounts'), { recursive: true, mode: 0o700 });
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(repo.root, accountPath(a.name)), formatAccount(a), { mode: 0o644, tmpDir });
}

/** Removes an account definition and its checkpoint from the work tree, and its local settings. */
export async function removeAccount(repo: RepoPaths, name: string): Promise<void> {
  checkAccountName(name);
  await unlink(join(repo.root, accountPath(name)));
  await unlink(join(repo.root, '.mailgit', 'checkpoints', `${name}.json`)).catch(() => undefined);
  await unlink(localPath(repo, name)).catch(() => undefined);
}

/** Reads the per-machine settings of an account (`{}` when none). */
export async function readLocalSettings(repo: RepoPaths, name: string): Promise<LocalAccountSettings> {
  try {
    const raw = JSON.parse(await readFile(localPath(repo, name), 'utf8')) as LocalAccountSettings;
    const cmd = raw.passwordCommand;
    const out: LocalAccountSettings = {};
    const isArgv = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string');
    if (isArgv(cmd)) out.passwordCommand = cmd;
    if (isArgv(raw.tokenCommand)) out.tokenCommand = raw.tokenCommand;
    if (isArgv(raw.refreshTokenCommand)) out.refreshTokenCommand = raw.refreshTokenCommand;
    if (isArgv(raw.clientSecretCommand)) out.clientSecretCommand = raw.clientSecretCommand;
    if (isServer(raw.server)) out.server = raw.server;
    const o = raw.offlineimap;
    if (o && typeof o.status === 'string' && typeof o.validity === 'string') out.offlineimap = { status: o.status, validity: o.validity };
    return out;
  } catch {
    return {};
  }
}

/** Writes the per-machine settings of an account (mode 0600, inside `.git`). */
export async function writeLocalSettings(repo: RepoPaths, name: string, s: LocalAccountSettings): Promise<void> {
  const dir = join(repo.gitDir, 'mailgit', 'accounts');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(localPath(repo, name), `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Splits a command line into argv: whitespace separates words; '…' quotes literally;
 * "…" quotes with `\"` and `\\` escapes; a backslash outside quotes escapes the next
 * character. No variables, globs, pipes or redirections: nothing is run through a shell.
 */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let i = 0;
  while (i < line.length) {
    const ch = line[i];
    if (/\s/.test(ch)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
      i++;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new UsageError('password command: unterminated single quote');
      cur += line.slice(i + 1, end);
      has = true;
      i = end + 1;
    } else if (ch === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new UsageError('password command: unterminated double quote');
        const c = line[i];
        if (c === '"') break;
        if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
          cur += line[i + 1];
          i += 2;
        } else {
          cur += c;
          i++;
        }
      }
      has = true;
      i++;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[i + 1];
      has = true;
      i += 2;
    } else {
      cur += ch;
      has = true;
      i++;
    }
  }
  if (has) out.push(cur);
  return out;
}

/** The environment variable that may hold an account's password. */
export function passwordEnvVar(name: string): string {
  return `MAILGIT_PASSWORD_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Runs a password (or token) command (argv, no shell) and returns its first output line. */
export function runPasswordCommand(argv: string[], account: string, what = 'password command'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(argv[0], argv.slice(1), { timeout: 120_000, maxBuffer: 1 << 20, encoding: 'utf8', windowsHide: true }, (err, stdout) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean };
        const why = e.code === 'ENOENT' ? 'not found' : typeof e.code === 'number' ? `exit status ${e.code}` : e.killed ? 'timed out' : (e.code ?? 'failed');
        reject(new MailgitError(`account ${account}: ${what} ${JSON.stringify(argv[0])} failed (${why})`, 'EPASSCMD', EX.CONFIG));
        return;
      }
      const line = stdout.split(/\r?\n/)[0] ?? '';
      if (line === '') {
        reject(new MailgitError(`account ${account}: ${what} ${JSON.stringify(argv[0])} printed nothing`, 'EPASSCMD', EX.CONFIG));
        return;
      }
      resolve(line);
    });
  });
}

/**
 * Checks that the account still names the server this machine trusts with its password;
 * the first use on a machine pins it. A definition changed on another replica (host,
 * port, security, user, certificate checks, login method, two-way, expunge) is refused with exit 78 until
 * `mailgit account trust NAME` here: a compromised replica must not be able to send this
 * machine's password to a server of its choosing.
 */
export async function checkTrusted(repo: RepoPaths, a: Account): Promise<void> {
  const local = await readLocalSettings(repo, a.name);
  const now = serverOf(a);
  if (!local.server) {
    await writeLocalSettings(repo, a.name, { ...local, server: now });
    return;
  }
  const was = local.server;
  const changed = (Object.keys(now) as (keyof ServerIdentity)[])
    .filter((k) => now[k] !== was[k])
    .map((k) => `${k} ${JSON.stringify(was[k])} -> ${JSON.stringify(now[k])}`);
  if (changed.length === 0) return;
  throw new MailgitError(
    `account ${a.name}: its server settings changed since this machine last trusted them (${changed.join(', ')}); no password was sent. If the change is yours, run "mailgit account trust ${a.name}"`,
    'EUNTRUSTED',
    EX.CONFIG,
  );
}

/** Makes this machine trust the account's current server settings. */
export async function trustAccount(repo: RepoPaths, a: Account): Promise<void> {
  await writeLocalSettings(repo, a.name, { ...(await readLocalSettings(repo, a.name)), server: serverOf(a) });
}

/** How {@link resolvePassword} gets the secret: a command given on the command line, and whether to skip the cached token. */
export interface PasswordOptions {
  command?: string[] | undefined;
  fresh?: boolean;
}

/**
 * Returns the password for an account after {@link checkTrusted}: `MAILGIT_PASSWORD_<NAME>`
 * if set, else the command given (on the command line) or stored for this machine.
 * For an OAuth 2 account, the access token printed by the token command given or stored
 * for this machine, or — for an account with a token URL and no token command given —
 * the one refreshed by mailgit (cached until it expires; `fresh` skips the cache).
 * Throws (exit 78) when there is no source.
 */
export async function resolvePassword(repo: RepoPaths, account: Account, opts: PasswordOptions = {}): Promise<string> {
  const { command: commandOverride, fresh = false } = opts;
  await checkTrusted(repo, account);
  const name = account.name;
  if (account.auth === 'oauth2') {
    const local = await readLocalSettings(repo, name);
    if (account.oauth && !commandOverride) return oauthAccessToken(account, local, fresh);
    const cmd = commandOverride ?? local.tokenCommand;
    if (cmd?.length) return runPasswordCommand(cmd, name, 'token command');
    throw new MailgitError(
      `account ${name}: no access token: "mailgit account token-command ${name} CMD" (oama, pizauth, mutt_oauth2.py …)`,
      'ENOPASSWORD',
      EX.CONFIG,
    );
  }
  const env = process.env[passwordEnvVar(name)];
  if (env !== undefined && env !== '') return env;
  const cmd = commandOverride ?? (await readLocalSettings(repo, name)).passwordCommand;
  if (cmd?.length) return runPasswordCommand(cmd, name);
  throw new MailgitError(
    `account ${name}: no password: set ${passwordEnvVar(name)} or "mailgit account password-command ${name} CMD"`,
    'ENOPASSWORD',
    EX.CONFIG,
  );
}
