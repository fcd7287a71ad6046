/**
 * OAuth 2 logins against a real Dovecot whose oauth2 passdb validates tokens at an
 * RFC 7662 introspection endpoint the test runs on loopback, beside a token endpoint
 * (refresh and device-code grants) and a device authorization endpoint (RFC 8628):
 * `--auth oauth2 --token-command CMD`, and tokens refreshed by mailgit itself with
 * `account login`. SASL OAUTHBEARER is used when the server offers it (Dovecot does).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { spawn } from 'node:child_process';
import { BIN, gitOut, mailgit, type Run } from '../helpers/cli.js';
import { headMessages } from '../helpers/messages.js';

const GOOD = 'ya29.good-access-token-Q3xZ';
const EXPIRED = 'ya29.expired-access-token-K9pW';
let http: Server;
let dc: Dovecot;
let tmp: string;
const asked: string[] = [];
let base = '';

/** The loopback authorization server: issued tokens, approvals, and how often each grant was asked for. */
const auth = {
  active: new Set<string>([GOOD]),
  refreshTokens: new Set<string>(),
  approved: false,
  grants: { refresh: 0, device: 0 },
  issued: 0,
};
const USER_CODE = 'WDJB-MJHT';

function issue(): Record<string, unknown> {
  const access = `at-secret-${++auth.issued}-Zq7`;
  auth.active.add(access);
  return { access_token: access, token_type: 'Bearer', expires_in: 3600 };
}

/** Answers one request of the loopback endpoints: /introspect, /device, /approve, /token. */
function answer(path: string, form: URLSearchParams, authorization: string): { status: number; body: unknown } {
  if (path === '/introspect') {
    const token = form.get('token') ?? authorization.replace(/^Bearer /, '');
    asked.push(token);
    return { status: 200, body: auth.active.has(token) ? { active: 'true', username: 'olivia' } : { active: 'false' } };
  }
  if (path === '/device')
    return form.get('client_id') === 'mg-test'
      ? { status: 200, body: { device_code: 'dev-code-1', user_code: USER_CODE, verification_uri: 'http://127.0.0.1/activate', expires_in: 60, interval: 1 } }
      : { status: 400, body: { error: 'invalid_client' } };
  if (path === '/approve') {
    auth.approved = form.get('user_code') === USER_CODE;
    return { status: 200, body: {} };
  }
  const grant = form.get('grant_type');
  if (grant === 'urn:ietf:params:oauth:grant-type:device_code') {
    auth.grants.device++;
    // The first poll always finds the person not done yet (so waiting is tested too).
    if (!auth.approved || auth.grants.device === 1) return { status: 400, body: { error: 'authorization_pending' } };
    const refresh = 'rt-secret-1-Kp2';
    auth.refreshTokens.add(refresh);
    return { status: 200, body: { ...issue(), refresh_token: refresh } };
  }
  if (grant === 'refresh_token') {
    auth.grants.refresh++;
    return auth.refreshTokens.has(form.get('refresh_token') ?? '') ? { status: 200, body: issue() } : { status: 400, body: { error: 'invalid_grant' } };
  }
  return { status: 400, body: { error: 'unsupported_grant_type' } };
}

beforeAll(async () => {
  http = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const a = answer(new URL(req.url ?? '/', 'http://x').pathname, new URLSearchParams(body), req.headers.authorization ?? '');
      res.statusCode = a.status;
      res.setHeader('content-type', 'application/json');
      res.setHeader('cache-control', 'no-store');
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  dc = await startDovecot({ users: [{ user: 'olivia', password: 'unused-pw-1' }], oauth2IntrospectionUrl: `http://127.0.0.1:${port}/introspect` });
  tmp = mkdtempSync(join(tmpdir(), 'mailgit-oauth-'));
}, 120_000);

afterAll(async () => {
  await dc?.stop();
  await new Promise((r) => http?.close(r));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/**
 * Runs the CLI without blocking this process (the endpoints live in it); `onStderr` sees
 * its error output as it comes.
 */
function mgAsync(args: string[], env: Record<string, string> = {}, onStderr?: (text: string) => void): Promise<Run> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr);
    });
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr } as Run));
  });
}

/** Every file under a directory (for "the token is nowhere" checks). */
function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

describe('OAuth 2 (Dovecot oauth2 passdb, loopback introspection)', () => {
  test('token command → SASL login and fetch; wrong or expired token → exit 77; the token is in no file, log, output or error', async () => {
    await dc.append('INBOX', ['From: a@example.org\r\nSubject: oauth\r\nMessage-ID: <o.1@example.org>\r\n\r\nhello\r\n']);
    const dir = join(tmp, 'repo');
    expect(mailgit(['init', dir, '--name', 'laptop']).code).toBe(0);
    const tokenFile = join(tmp, 'token');
    writeFileSync(tokenFile, `${GOOD}\n`, { mode: 0o600 });
    const add = mailgit([
      '-C',
      dir,
      'account',
      'add',
      'work',
      '--host',
      '127.0.0.1',
      '--port',
      String(dc.port),
      '--no-tls',
      '--user',
      'olivia',
      '--auth',
      'oauth2',
      '--token-command',
      `cat ${tokenFile}`,
    ]);
    expect(add.code, add.stderr).toBe(0);
    const r = await mgAsync(['-C', dir, 'fetch', '-v']);
    expect(r.code, r.stderr).toBe(0);
    expect(headMessages(dir).size).toBe(1);
    expect(asked).toContain(GOOD); // Dovecot asked the endpoint: a real OAuth login
    expect(r.stdout + r.stderr).not.toContain(GOOD);

    // An expired token (the endpoint says inactive): 77, and the token is not echoed.
    writeFileSync(tokenFile, `${EXPIRED}\n`);
    const bad = await mgAsync(['-C', dir, 'fetch']);
    expect(bad.code).toBe(77);
    expect(bad.stderr).toMatch(/login as olivia .* failed/);
    expect(bad.stdout + bad.stderr).not.toContain(EXPIRED);
    // --token-command for one run overrides the stored one.
    const goodFile = join(tmp, 'token-good');
    writeFileSync(goodFile, `${GOOD}\n`);
    expect((await mgAsync(['-C', dir, 'fetch', '--token-command', `cat ${goodFile}`])).code).toBe(0);
    // A failing token command: 78, a clear line.
    const fail = await mgAsync(['-C', dir, 'fetch', '--token-command', 'false']);
    expect(fail.code).toBe(78);
    expect(fail.stderr).toMatch(/token command "false" failed/);

    // The token is in no file of the repo (work tree, .git) nor in the server's log.
    for (const f of [...allFiles(dir), dc.logFile]) {
      const text = readFileSync(f, 'latin1');
      expect(text.includes(GOOD) || text.includes(EXPIRED), f).toBe(false);
    }
    // The token command is kept per machine (0600 in .git), never committed.
    const local = join(dir, '.git/mailgit/accounts/work.json');
    expect(statSync(local).mode & 0o777).toBe(0o600);
    expect(readFileSync(local, 'utf8')).toContain(tokenFile);
    expect(gitOut(dir, ['show', 'HEAD:.mailgit/accounts/work.json'])).not.toContain(tokenFile);
    expect(JSON.parse(gitOut(dir, ['show', 'HEAD:.mailgit/accounts/work.json'])).auth).toBe('oauth2');
  }, 120_000);

  test('tokens refreshed by mailgit: device login prints the refresh token; fetch refreshes, caches (0600, outside the repo), renews a revoked one; a refused refresh token → 77; no token printed or in the repo', async () => {
    await dc.append('INBOX', ['From: b@example.org\r\nSubject: refreshed\r\nMessage-ID: <o.2@example.org>\r\n\r\nhello\r\n']);
    const dir = join(tmp, 'refresh');
    const cache = join(tmp, 'cache');
    const env = { XDG_CACHE_HOME: cache };
    expect(mailgit(['init', dir, '--name', 'phone']).code).toBe(0);
    const rtFile = join(tmp, 'refresh-token');
    const add = mailgit([
      ...['-C', dir, 'account', 'add', 'work', '--host', '127.0.0.1', '--port', String(dc.port), '--no-tls', '--user', 'olivia'],
      ...['--auth', 'oauth2', '--oauth-token-url', `${base}/token`, '--oauth-client-id', 'mg-test', '--oauth-device-url', `${base}/device`],
      ...['--oauth-scope', 'imap offline_access', '--refresh-token-command', `cat ${rtFile}`],
    ]);
    expect(add.code, add.stderr).toBe(0);
    const outputs: string[] = [];

    // Device login: the code is shown on stderr; the person approves it; stdout is the refresh token alone.
    let approving: Promise<unknown> | undefined;
    const login = await mgAsync(['-C', dir, 'account', 'login', 'work'], env, (text) => {
      if (!approving && text.includes(USER_CODE)) approving = fetch(`${base}/approve`, { method: 'POST', body: `user_code=${USER_CODE}` });
    });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toContain(`enter the code ${USER_CODE}`);
    expect(login.stdout).toBe('rt-secret-1-Kp2\n');
    expect(auth.grants.device).toBeGreaterThanOrEqual(2); // polled while pending, then approved
    outputs.push(login.stderr);
    writeFileSync(rtFile, login.stdout, { mode: 0o600 }); // the person's secret store

    // Fetch uses the access token the login cached: no refresh yet.
    const f1 = await mgAsync(['-C', dir, 'fetch'], env);
    expect(f1.code, f1.stderr).toBe(0);
    expect(headMessages(dir).size).toBeGreaterThan(0);
    expect(auth.grants.refresh).toBe(0);
    const cacheDir = join(cache, 'mailgit', 'oauth');
    const [entry] = readdirSync(cacheDir);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(cacheDir, entry)).mode & 0o777).toBe(0o600);

    // Revoked before it expired: the server refuses it, mailgit refreshes once and logs in.
    auth.active.delete('at-secret-1-Zq7');
    const f2 = await mgAsync(['-C', dir, 'fetch'], env);
    expect(f2.code, f2.stderr).toBe(0);
    expect(auth.grants.refresh).toBe(1);
    // Cached until it expires: the next fetch asks the token endpoint nothing.
    expect((await mgAsync(['-C', dir, 'fetch'], env)).code).toBe(0);
    expect(auth.grants.refresh).toBe(1);
    // Expired (the cache says so): refreshed before the login.
    const cached = JSON.parse(readFileSync(join(cacheDir, entry), 'utf8'));
    writeFileSync(join(cacheDir, entry), JSON.stringify({ ...cached, expiresAt: Date.now() }));
    expect((await mgAsync(['-C', dir, 'fetch'], env)).code).toBe(0);
    expect(auth.grants.refresh).toBe(2);

    // A refresh token the provider no longer accepts: 77, one line, and the cache entry goes.
    auth.refreshTokens.clear();
    for (const t of [...auth.active]) if (t !== GOOD) auth.active.delete(t);
    const bad = await mgAsync(['-C', dir, 'fetch'], env);
    expect(bad.code).toBe(77);
    expect(bad.stderr).toMatch(/^mailgit: account work: token refresh refused by .*\(invalid_grant\); run "mailgit account login work"/);
    expect(bad.stderr.trim().split('\n').length).toBe(1);
    outputs.push(f1.stdout, f1.stderr, f2.stdout, f2.stderr, bad.stdout, bad.stderr);

    // No token anywhere it must not be: outputs, the repo (work tree and .git), Dovecot's log.
    const secret = /at-secret-|rt-secret-/;
    for (const o of outputs) expect(o).not.toMatch(secret);
    for (const f of [...allFiles(dir), dc.logFile]) expect(secret.test(readFileSync(f, 'latin1')), f).toBe(false);
    // The endpoints are in the synced definition (no secret); the refresh command only on this machine.
    const def = JSON.parse(gitOut(dir, ['show', 'HEAD:.mailgit/accounts/work.json']));
    expect(def.oauth).toEqual({ tokenUrl: `${base}/token`, clientId: 'mg-test', deviceUrl: `${base}/device`, scope: 'imap offline_access' });
    expect(readFileSync(join(dir, '.git/mailgit/accounts/work.json'), 'utf8')).toContain(rtFile);
  }, 120_000);

  test('bad input: --token-command without --auth oauth2, an unknown --auth or --sync → exit 64, one line', () => {
    const dir = join(tmp, 'usage');
    expect(mailgit(['init', dir, '--name', 'u']).code).toBe(0);
    const base = ['-C', dir, 'account', 'add', 'x', '--host', 'h.example', '--user', 'u'];
    // A refused definition is not written: the next line would be refused as "exists" (73).
    for (const extra of [
      ['--offlineimap-status', '/tmp/LocalStatus'],
      ['--token-command', 'cat t'],
      ['--auth', 'kerberos'],
      ['--sync', 'push'],
      ['--sync', 'pull', '--expunge'],
      ['--auth', 'oauth2', '--oauth-token-url', 'http://idp.example/token', '--oauth-client-id', 'c'],
      ['--auth', 'oauth2', '--oauth-token-url', 'https://idp.example/token'],
      ['--oauth-client-id', 'c'],
    ]) {
      const r = mailgit([...base, ...extra]);
      expect(r.code, extra.join(' ')).toBe(64);
      expect(r.stderr.trim().split('\n').length).toBe(1);
    }
  });
});
