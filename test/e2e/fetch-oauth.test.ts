/**
 * OAuth 2 logins (`--auth oauth2 --token-command CMD`) against a real Dovecot whose oauth2
 * passdb validates tokens at an RFC 7662 introspection endpoint the test runs on loopback.
 * SASL OAUTHBEARER is used when the server offers it (Dovecot does), else XOAUTH2.
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

beforeAll(async () => {
  http = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('token') ?? (req.headers.authorization ?? '').replace(/^Bearer /, '');
      asked.push(token);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(token === GOOD ? { active: 'true', username: 'olivia' } : { active: 'false' }));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  dc = await startDovecot({ users: [{ user: 'olivia', password: 'unused-pw-1' }], oauth2IntrospectionUrl: `http://127.0.0.1:${port}/introspect` });
  tmp = mkdtempSync(join(tmpdir(), 'mailgit-oauth-'));
}, 120_000);

afterAll(async () => {
  await dc?.stop();
  await new Promise((r) => http?.close(r));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Runs the CLI without blocking this process (the introspection endpoint lives in it). */
function mgAsync(args: string[]): Promise<Run> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
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

  test('bad input: --token-command without --auth oauth2, an unknown --auth or --sync → exit 64, one line', () => {
    const dir = join(tmp, 'usage');
    expect(mailgit(['init', dir, '--name', 'u']).code).toBe(0);
    const base = ['-C', dir, 'account', 'add', 'x', '--host', 'h.example', '--user', 'u'];
    for (const extra of [
      ['--token-command', 'cat t'],
      ['--auth', 'kerberos'],
      ['--sync', 'push'],
      ['--sync', 'pull', '--expunge'],
    ]) {
      const r = mailgit([...base, ...extra]);
      expect(r.code, extra.join(' ')).toBe(64);
      expect(r.stderr.trim().split('\n').length).toBe(1);
    }
  });
});
