/**
 * OAuth 2 access tokens refreshed by mailgit itself (RFC 6749 §6) and the device
 * authorization flow of `mailgit account login` (RFC 8628), with oauth4webapi (a small,
 * dependency-free, spec-checked client; loaded only by an OAuth account's fetch or login).
 *
 * Where each secret lives:
 *  - the refresh token: wherever the person keeps secrets; mailgit reads it from this
 *    machine's `--refresh-token-command` (argv, no shell) and never stores the original;
 *  - the client secret (providers that want one): `--oauth-client-secret-command`;
 *  - the access token, and a refresh token the provider rotated: a per-machine cache,
 *    `$XDG_CACHE_HOME/mailgit/oauth/<hash>.json` (directory 0700, file 0600, outside every
 *    repo), kept until 60 s before the token expires. The hash covers the token URL,
 *    client id, user and a SHA-256 of the refresh token, so a new refresh token starts a
 *    new entry and no file name reveals anything.
 * No token is ever written to the repo, a log, an error message or another process's argv.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type * as Oauth from 'oauth4webapi';
import { writeFileAtomic } from '../util/atomic.js';
import { EX, MailgitError, PermissionError, UnavailableError, UsageError } from '../util/errors.js';
import type { Account, LocalAccountSettings } from './account.js';
import { runPasswordCommand } from './account.js';

/** The synced OAuth 2 endpoints and client of an account (none of it secret). */
export interface OAuthConfig {
  /** Token endpoint: refresh and device-code grants. */
  tokenUrl: string;
  clientId: string;
  /** Device authorization endpoint (RFC 8628), for `account login`. */
  deviceUrl?: string;
  /** Scopes asked for at login (space-separated), e.g. `https://mail.google.com/`. */
  scope?: string;
}

/** A cache entry. */
interface CacheEntry {
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** A refresh token the provider returned in place of the one the command prints. */
  rotated?: string;
}

const MARGIN_MS = 60_000;
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Checks an endpoint URL: https, or http on a loopback address only (a test or a local
 * token broker). Throws a usage error naming the option otherwise.
 */
export function checkEndpoint(url: string, option: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`${option}: not a URL: ${JSON.stringify(url)}`);
  }
  if (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname))) return;
  throw new UsageError(`${option} must be an https URL (http only on loopback): ${JSON.stringify(url)}`);
}

function isLoopbackHttp(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && LOOPBACK.has(u.hostname);
}

/** The per-machine cache file of an account's access token for one refresh token. */
export function cachePath(a: Account, refreshToken: string): string {
  const o = a.oauth!;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const secret = createHash('sha256').update(refreshToken).digest('hex');
  const id = createHash('sha256').update([o.tokenUrl, o.clientId, a.user, secret].join('\0')).digest('hex');
  return join(base, 'mailgit', 'oauth', `${id.slice(0, 32)}.json`);
}

async function readCache(path: string): Promise<CacheEntry | undefined> {
  try {
    const e = JSON.parse(await readFile(path, 'utf8')) as CacheEntry;
    return typeof e.accessToken === 'string' && typeof e.expiresAt === 'number' ? e : undefined;
  } catch {
    return undefined;
  }
}

async function writeCache(path: string, e: CacheEntry): Promise<void> {
  const dir = join(path, '..');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, `${JSON.stringify(e)}\n`, { mode: 0o600 });
}

async function library(): Promise<typeof Oauth> {
  return import('oauth4webapi');
}

/** The authorization server, client, client authentication and request options of an account. */
async function endpoints(a: Account, local: LocalAccountSettings) {
  const o = a.oauth!;
  const lib = await library();
  const as: Oauth.AuthorizationServer = {
    issuer: new URL(o.tokenUrl).origin,
    token_endpoint: o.tokenUrl,
    ...(o.deviceUrl ? { device_authorization_endpoint: o.deviceUrl } : {}),
  };
  const client: Oauth.Client = { client_id: o.clientId };
  const secret = local.clientSecretCommand ? await runPasswordCommand(local.clientSecretCommand, a.name, 'client secret command') : undefined;
  const auth = secret !== undefined ? lib.ClientSecretPost(secret) : lib.None();
  const insecure = isLoopbackHttp(o.tokenUrl) && (!o.deviceUrl || isLoopbackHttp(o.deviceUrl));
  const options = { [lib.allowInsecureRequests]: insecure };
  return { lib, as, client, auth, options };
}

/** Maps a failure of `account`'s token request `what` to one line and a status; never includes a token. */
function tokenFailure(err: unknown, { account: a, what, lib }: { account: Account; what: string; lib: typeof Oauth }): MailgitError {
  if (err instanceof MailgitError) return err;
  if (err instanceof lib.ResponseBodyError) {
    if (err.error === 'invalid_grant' || err.error === 'invalid_client' || err.error === 'unauthorized_client' || err.error === 'access_denied')
      return new PermissionError(
        `account ${a.name}: ${what} refused by ${a.oauth!.tokenUrl} (${err.error}); run "mailgit account login ${a.name}" for a new refresh token`,
      );
    return new UnavailableError(`account ${a.name}: ${what} failed at ${a.oauth!.tokenUrl} (${err.error})`);
  }
  const e = err as { cause?: { code?: string }; message?: string };
  return new UnavailableError(`account ${a.name}: ${what} failed: cannot reach ${a.oauth!.tokenUrl} (${e?.cause?.code ?? 'no valid answer'})`);
}

/** Exchanges `refreshToken` for an access token and caches it at `path` (with a rotated refresh token). */
async function refresh(a: Account, local: LocalAccountSettings, { path, refreshToken }: { path: string; refreshToken: string }): Promise<string> {
  const { lib, as, client, auth, options } = await endpoints(a, local);
  let r: Oauth.TokenEndpointResponse;
  try {
    r = await lib.processRefreshTokenResponse(as, client, await lib.refreshTokenGrantRequest(as, client, auth, refreshToken, options));
  } catch (err) {
    if (err instanceof lib.ResponseBodyError && err.error === 'invalid_grant') await unlink(path).catch(() => undefined);
    throw tokenFailure(err, { account: a, what: 'token refresh', lib });
  }
  await cacheResponse(path, r, refreshToken);
  return r.access_token;
}

/** Caches a token response: the access token until it expires (default one hour), and a rotated refresh token. */
async function cacheResponse(path: string, r: Oauth.TokenEndpointResponse, sent: string | undefined): Promise<void> {
  const entry: CacheEntry = { accessToken: r.access_token, expiresAt: Date.now() + (r.expires_in ?? 3600) * 1000 };
  if (r.refresh_token && r.refresh_token !== sent) entry.rotated = r.refresh_token;
  await writeCache(path, entry);
}

/**
 * Returns an access token for an OAuth account with a token URL: the cached one while it
 * is valid for at least another minute (unless `fresh`), else one got with the refresh
 * token (the rotated one the cache holds, else the refresh token command's).
 */
export async function oauthAccessToken(a: Account, local: LocalAccountSettings, fresh = false): Promise<string> {
  if (!local.refreshTokenCommand?.length)
    throw new MailgitError(
      `account ${a.name}: no refresh token: "mailgit account refresh-token-command ${a.name} CMD" (see "mailgit account login ${a.name}")`,
      'ENOPASSWORD',
      EX.CONFIG,
    );
  const refreshToken = await runPasswordCommand(local.refreshTokenCommand, a.name, 'refresh token command');
  const path = cachePath(a, refreshToken);
  const cached = await readCache(path);
  if (cached && !fresh && cached.expiresAt - MARGIN_MS > Date.now()) return cached.accessToken;
  return refresh(a, local, { path, refreshToken: cached?.rotated ?? refreshToken });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the device authorization flow (RFC 8628): asks for a device and user code, tells
 * the person (through `say`) where to enter the code, polls the token endpoint at the
 * interval the provider asks for until they have approved, caches the access token and
 * returns the refresh token (for the caller to hand to the person's secret store).
 */
export async function deviceLogin(a: Account, local: LocalAccountSettings, say: (line: string) => void): Promise<string> {
  if (!a.oauth?.deviceUrl) throw new UsageError(`account ${a.name} has no device authorization URL (account add … --oauth-device-url URL)`);
  const { lib, as, client, auth, options } = await endpoints(a, local);
  let dev: Oauth.DeviceAuthorizationResponse;
  try {
    const params: Record<string, string> = a.oauth.scope ? { scope: a.oauth.scope } : {};
    dev = await lib.processDeviceAuthorizationResponse(as, client, await lib.deviceAuthorizationRequest(as, client, auth, params, options));
  } catch (err) {
    throw tokenFailure(err, { account: a, what: 'device authorization', lib });
  }
  say(`open ${dev.verification_uri} and enter the code ${dev.user_code}`);
  if (dev.verification_uri_complete) say(`(or open ${dev.verification_uri_complete})`);
  let interval = (dev.interval ?? 5) * 1000;
  const until = Date.now() + dev.expires_in * 1000;
  while (Date.now() < until) {
    await sleep(interval);
    try {
      const r = await lib.processDeviceCodeResponse(as, client, await lib.deviceCodeGrantRequest(as, client, auth, dev.device_code, options));
      if (!r.refresh_token)
        throw new MailgitError(`account ${a.name}: the provider sent no refresh token (ask for offline access in --oauth-scope)`, 'ENOREFRESH', EX.CONFIG);
      await cacheResponse(cachePath(a, r.refresh_token), r, r.refresh_token);
      return r.refresh_token;
    } catch (err) {
      if (err instanceof lib.ResponseBodyError && err.error === 'authorization_pending') continue;
      if (err instanceof lib.ResponseBodyError && err.error === 'slow_down') {
        interval += 5000;
        continue;
      }
      throw tokenFailure(err, { account: a, what: 'login', lib });
    }
  }
  throw new PermissionError(`account ${a.name}: the code was not entered in time; run "mailgit account login ${a.name}" again`);
}
