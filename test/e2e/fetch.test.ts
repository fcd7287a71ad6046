/**
 * `mailgit fetch` against a real Dovecot (test/helpers/dovecot.ts). Each test uses its
 * own IMAP user (one server for the file) and its own repos, so tests are independent.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync, writeFileSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDovecot, type Dovecot, type DovecotUser } from '../helpers/dovecot.js';
import { diskMessages, headMessages, keyOf, sha } from '../helpers/messages.js';
import { CORPORA } from '../helpers/corpora.js';

const ROOT = resolve(__dirname, '../..');
const USERS: DovecotUser[] = ['first', 'flags', 'reset', 'twins', 'kill', 'authz', 'names', 'lock', 'json', 'maxsize', 'newest', 'cmd'].map((u) => ({
  user: u,
  password: `pw-${u}-Xy7!secret`,
}));

const CLI = [join(ROOT, 'bin/mailgit.js')];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [...CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function finish(child: ChildProcess): Promise<Run> {
  return new Promise((res) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => res({ code, signal, stdout, stderr }));
  });
}

function mg(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return finish(start(args, env));
}

let dc: Dovecot;
let tmp: string;

beforeAll(async () => {
  dc = await startDovecot({ users: USERS });
  tmp = mkdtempSync(join(tmpdir(), 'mailgit-fetch-test-'));
}, 120_000);

afterAll(async () => {
  await dc?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const user = (name: string) => USERS.find((u) => u.user === name)!;

/** A new repo with account `work` for the given IMAP user (password via environment). */
async function repoFor(u: DovecotUser, name: string, extra: string[] = []): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = join(tmp, `${u.user}-${name}`);
  const init = await mg(['init', dir, '--name', name]);
  expect(init.code, init.stderr).toBe(0);
  const add = await mg(['-C', dir, 'account', 'add', 'work', '--host', '127.0.0.1', '--port', String(dc.port), '--no-tls', '--user', u.user, ...extra]);
  expect(add.code, add.stderr).toBe(0);
  return { dir, env: { MAILGIT_PASSWORD_WORK: u.password } };
}

/** The server's raw bytes of every message in a folder, by UID. */
async function serverSources(u: DovecotUser, folder: string): Promise<Map<number, Buffer>> {
  const c = await dc.connect(u);
  try {
    await c.mailboxOpen(folder, { readOnly: true });
    const out = new Map<number, Buffer>();
    for await (const m of c.fetch('1:*', { uid: true, source: true }, { uid: true })) if (m.source) out.set(m.uid, m.source);
    return out;
  } finally {
    await c.logout();
  }
}

function gen(i: number, tag: string, bodyLines = 5): string {
  const body = Array.from({ length: bodyLines }, (_, j) => `line ${j} of message ${i} (${tag})`).join('\r\n');
  return `From: sender${i}@example.org\r\nTo: you@example.org\r\nSubject: ${tag} ${i}\r\nMessage-ID: <${tag}.${i}@example.org>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n${body}\r\n`;
}

/** A deterministic sample of corpus files (CRLF-normalised), skipping licences and notes. */
function corpusSample(n: number): Buffer[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!/(\.md|LICENSE.*|COPYING.*|\.gitattributes|\.py|\.sh|\.c|\.h)$/i.test(e.name) && statSync(p).size < 200_000) files.push(p);
    }
  };
  walk(CORPORA!);
  const step = Math.max(1, Math.floor(files.length / n));
  const out: Buffer[] = [];
  for (let i = 0; i < files.length && out.length < n; i += step) {
    const raw = readFileSync(files[i]);
    if (raw.includes(0)) continue;
    out.push(Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1'));
  }
  return out;
}

describe('mailgit fetch (Dovecot)', () => {
  test.skipIf(!CORPORA)(
    'first fetch is byte-exact and silent; incremental fetch adds only new mail',
    async () => {
      const u = user('first');
      const corpus = corpusSample(40);
      expect(corpus.length).toBeGreaterThan(30);
      await dc.append('INBOX', corpus.slice(0, 20), { user: u });
      await dc.append('INBOX', corpus.slice(20), { flags: ['\\Seen', '\\Answered'], user: u });
      const { dir, env } = await repoFor(u, 'a');
      const r = await mg(['-C', dir, 'fetch'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toBe(''); // silent without a TTY

      const server = await serverSources(u, 'INBOX');
      const head = headMessages(dir);
      expect(head.size).toBe(server.size);
      const onDisk = new Map(diskMessages(dir).map((p) => [sha(readFileSync(join(dir, p))), p]));
      for (const [, src] of server) expect(onDisk.has(sha(src))).toBe(true); // byte-exact as served
      let identical = 0;
      for (const c of corpus) if (onDisk.has(sha(c))) identical++;
      expect(identical).toBe(corpus.length); // and equal to what was appended
      // Flags: the 20 seen+answered are in cur/ with :2,RS; the others in new/.
      const paths = [...head.keys()];
      expect(paths.filter((p) => p.startsWith('INBOX/cur/') && p.endsWith(':2,RS')).length).toBe(corpus.length - 20);
      expect(paths.filter((p) => p.startsWith('INBOX/new/')).length).toBe(20);
      // Checkpoint committed, in the documented format.
      const cp = JSON.parse(execFileSync('git', ['-C', dir, 'show', 'HEAD:.mailgit/checkpoints/work.json'], { encoding: 'utf8' }));
      expect(Object.keys(cp)).toEqual(['INBOX']);
      expect(cp.INBOX.uid).toBe(server.size);
      expect(typeof cp.INBOX.uidValidity).toBe('string');
      expect(typeof cp.INBOX.modseq).toBe('string');
      const log1 = execFileSync('git', ['-C', dir, 'log', '--format=%s'], { encoding: 'utf8' });
      expect(log1).toMatch(/^fetch work: INBOX \+40/m);

      // Incremental.
      await dc.append('INBOX', [gen(1, 'incr'), gen(2, 'incr')], { user: u });
      await dc.append('Archive', [gen(3, 'incr')], { user: u });
      const r2 = await mg(['-C', dir, 'fetch'], env);
      expect(r2.code, r2.stderr).toBe(0);
      const head2 = headMessages(dir);
      expect(head2.size).toBe(43);
      for (const [p, b] of head) expect(head2.get(p)).toBe(b);
      expect([...head2.keys()].filter((p) => p.startsWith('Archive/')).length).toBe(1);
      // Nothing new: no new commit.
      const before = execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
      const r3 = await mg(['-C', dir, 'fetch'], env);
      expect(r3.code).toBe(0);
      expect(execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' })).toBe(before);
    },
    180_000,
  );

  test('server-side flag changes rename local files, keeping local-only flags', async () => {
    const u = user('flags');
    await dc.append('INBOX', [gen(1, 'f'), gen(2, 'f'), gen(3, 'f')], { flags: ['\\Seen'], user: u });
    const { dir, env } = await repoFor(u, 'a');
    expect((await mg(['-C', dir, 'fetch'], env)).code).toBe(0);
    const files = diskMessages(dir);
    expect(files.every((p) => p.endsWith(':2,S'))).toBe(true);
    // A local change the server does not know: mark message 3 as passed (P) locally.
    const srcs = await serverSources(u, 'INBOX');
    const keyByUid = new Map<number, string>();
    for (const [uid, s] of srcs) keyByUid.set(uid, keyOf(diskMessages(dir).find((p) => sha(readFileSync(join(dir, p))) === sha(s))!));
    const f3 = files.find((p) => keyOf(p) === keyByUid.get(3))!;
    renameSync(join(dir, f3), join(dir, f3.replace(':2,S', ':2,PS')));
    expect((await mg(['-C', dir, 'commit'])).code).toBe(0);

    await dc.doveadm(['flags', 'add', '-u', u.user, '\\Flagged', 'mailbox', 'INBOX', 'uid', '1']);
    await dc.doveadm(['flags', 'remove', '-u', u.user, '\\Seen', 'mailbox', 'INBOX', 'uid', '2']);
    await dc.doveadm(['flags', 'add', '-u', u.user, '\\Answered', 'mailbox', 'INBOX', 'uid', '3']);
    const r = await mg(['-C', dir, 'fetch', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.accounts[0].folders[0].flagsUpdated).toBe(3);
    const after = new Map(diskMessages(dir).map((p) => [keyOf(p), p]));
    expect(after.get(keyByUid.get(1)!)).toMatch(/:2,FS$/);
    expect(after.get(keyByUid.get(2)!)).toMatch(/\/cur\/[^:]+:2,$/);
    expect(after.get(keyByUid.get(3)!)).toMatch(/:2,PRS$/);
    const head = headMessages(dir);
    expect(head.size).toBe(3);
    for (const p of after.values()) expect(head.has(p)).toBe(true);
  }, 180_000);

  test('UIDVALIDITY reset re-reads the folder: no duplicates, nothing deleted', async () => {
    const u = user('reset');
    await dc.append('INBOX', [gen(1, 'r'), gen(2, 'r'), gen(3, 'r')], { user: u });
    const { dir, env } = await repoFor(u, 'a');
    expect((await mg(['-C', dir, 'fetch'], env)).code).toBe(0);
    const head1 = headMessages(dir);
    expect(head1.size).toBe(3);
    // Server loses its UID state: new UIDVALIDITY, and one more message.
    await dc.doveadm(['mailbox', 'update', '-u', u.user, '--uid-validity', '4242', 'INBOX']);
    await dc.append('INBOX', [gen(4, 'r')], { user: u });
    const r = await mg(['-C', dir, 'fetch', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const f = JSON.parse(r.stdout).accounts[0].folders[0];
    expect(f.uidValidityReset).toBe(true);
    expect(f.fetched).toBe(1);
    expect(f.existing).toBe(3);
    const head2 = headMessages(dir);
    expect(head2.size).toBe(4);
    for (const [p, b] of head1) expect(head2.get(p)).toBe(b);
    const cp = JSON.parse(readFileSync(join(dir, '.mailgit/checkpoints/work.json'), 'utf8'));
    expect(cp.INBOX.uidValidity).toBe('4242');
  }, 180_000);

  test('two replicas fetching the same account write identical trees', async () => {
    const u = user('twins');
    await dc.append(
      'INBOX',
      Array.from({ length: 30 }, (_, i) => gen(i, 'twin')),
      { flags: ['\\Seen'], user: u },
    );
    await dc.append(
      'Lists/rust',
      Array.from({ length: 10 }, (_, i) => gen(i, 'rust')),
      { user: u },
    );
    const a = await repoFor(u, 'laptop');
    const b = await repoFor(u, 'desktop');
    const [ra, rb] = await Promise.all([mg(['-C', a.dir, 'fetch'], a.env), mg(['-C', b.dir, 'fetch', '--newest-first'], b.env)]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const lsTree = (dir: string) =>
      execFileSync('git', ['-C', dir, 'ls-tree', '-r', 'HEAD'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l && !l.endsWith('\t.mailgit/config.json'));
    const ta = lsTree(a.dir);
    expect(ta.length).toBeGreaterThan(40);
    expect(lsTree(b.dir)).toEqual(ta); // same paths, same blobs, same checkpoint
    // Plain git agrees: the index was brought along with the fetch's commit.
    for (const d of [a.dir, b.dir]) expect(execFileSync('git', ['-C', d, 'status', '--porcelain', '--untracked-files=all'], { encoding: 'utf8' })).toBe('');
  }, 180_000);

  test('SIGKILL at any moment, then rerun: every server message exactly once', async () => {
    const u = user('kill');
    const N = 400;
    const c = await dc.connect(u);
    for (let i = 0; i < N; i++) await c.append('INBOX', gen(i, 'kill', 200), i % 3 ? [] : ['\\Seen']);
    await c.logout();
    const { dir, env } = await repoFor(u, 'a');
    // Kill after increasing delays until a run completes by itself.
    let completed = false;
    let kills = 0;
    for (let delay = 150; !completed && delay < 20_000; delay = Math.floor(delay * 1.6)) {
      const child = start(['-C', dir, 'fetch'], env);
      const done = finish(child);
      const timer = setTimeout(() => child.kill('SIGKILL'), delay);
      const r = await done;
      clearTimeout(timer);
      if (r.signal === 'SIGKILL') kills++;
      else {
        expect(r.code, r.stderr).toBe(0);
        completed = true;
      }
    }
    expect(completed).toBe(true);
    expect(kills).toBeGreaterThan(0);
    const r = await mg(['-C', dir, 'fetch'], env); // and once more: nothing to do
    expect(r.code, r.stderr).toBe(0);
    const head = headMessages(dir);
    const keys = [...head.keys()].map(keyOf);
    expect(new Set(keys).size).toBe(keys.length);
    expect(head.size).toBe(N);
    expect(diskMessages(dir).length).toBe(N);
    const server = await serverSources(u, 'INBOX');
    const blobs = new Set([...head.keys()].map((p) => sha(readFileSync(join(dir, p)))));
    for (const s of server.values()) expect(blobs.has(sha(s))).toBe(true);
    expect(readdirSync(join(dir, 'INBOX/tmp'))).toEqual([]);
  }, 240_000);

  test('wrong password: exit 77, password not echoed; password command runs without a shell', async () => {
    const u = user('authz');
    await dc.append('INBOX', [gen(1, 'a')], { user: u });
    const { dir } = await repoFor(u, 'a');
    const wrong = 'Wr0ng-Pa55-zzq';
    const r = await mg(['-C', dir, 'fetch'], { MAILGIT_PASSWORD_WORK: wrong });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/login as authz .* failed/);
    expect(r.stdout + r.stderr).not.toContain(wrong);
    // The right password through a command; a shell metacharacter stays a literal argument.
    const pwFile = join(tmp, 'authz-pw');
    writeFileSync(pwFile, `${u.password}\n`);
    const ok = await mg(['-C', dir, 'fetch', '--password-command', `cat ${pwFile}`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(headMessages(dir).size).toBe(1);
    const inj = await mg(['-C', dir, 'fetch', '--password-command', `cat ${pwFile};touch ${join(tmp, 'pwned')}`]);
    expect(inj.code).toBe(78);
    expect(existsSync(join(tmp, 'pwned'))).toBe(false);
    // Stored per machine, never in the synced tree.
    expect((await mg(['-C', dir, 'account', 'password-command', 'work', `cat ${pwFile}`])).code).toBe(0);
    expect((await mg(['-C', dir, 'fetch'])).code).toBe(0);
    const synced = execFileSync('git', ['-C', dir, 'ls-tree', '-r', '--name-only', 'HEAD', '.mailgit'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(synced).toContain('.mailgit/accounts/work.json');
    for (const f of synced) {
      const text = execFileSync('git', ['-C', dir, 'show', `HEAD:${f}`], { encoding: 'utf8' });
      expect(text).not.toContain(pwFile);
      expect(text).not.toContain(u.password);
    }
  }, 180_000);

  test('folder names: UTF-7 decoded, spaces, mapping, unsafe names refused', async () => {
    const u = user('names');
    await dc.append('Entwürfe', [gen(1, 'n')], { user: u });
    await dc.append('Lists/my list', [gen(2, 'n')], { user: u });
    await dc.append('Ordner/Привет', [gen(3, 'n')], { user: u });
    await dc.append('Junk', [gen(4, 'n')], { user: u });
    await dc.append('.hidden', [gen(5, 'n')], { user: u }); // Dovecot allows it; a dot directory is not a safe local name
    const { dir, env } = await repoFor(u, 'a', ['--map', 'Lists/my list=lists/mine', '--exclude', 'Junk']);
    const r = await mg(['-C', dir, 'fetch'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/folder "\.hidden" skipped: segment starts with "\."/);
    const dirs = [...headMessages(dir).keys()].map((p) => p.replace(/\/(cur|new)\/[^/]+$/, '')).sort();
    expect(dirs).toEqual(['Entwürfe', 'Ordner/Привет', 'lists/mine']);
    expect(existsSync(join(dir, '.hidden'))).toBe(false);
    expect(existsSync(join(dir, 'Junk'))).toBe(false);
    // --folder limits a run.
    await dc.append('Entwürfe', [gen(6, 'n')], { user: u });
    await dc.append('Ordner/Привет', [gen(7, 'n')], { user: u });
    expect((await mg(['-C', dir, 'fetch', '--folder', 'Entwürfe'], env)).code).toBe(0);
    expect(headMessages(dir).size).toBe(4);
    expect((await mg(['-C', dir, 'fetch'], env)).code).toBe(0);
    expect(headMessages(dir).size).toBe(5);
  }, 180_000);

  test('lock held by a live process: exit 75 at once', async () => {
    const u = user('lock');
    const { dir, env } = await repoFor(u, 'a');
    const holder = spawn('sleep', ['600']);
    try {
      writeFileSync(join(dir, '.git/mailgit/lock'), `${holder.pid} fetch work\n`);
      const r = await mg(['-C', dir, 'fetch'], env);
      // It gave up while the holder still lived (waiting would have hung until the test's timeout).
      expect(holder.exitCode).toBeNull();
      expect(r.code).toBe(75);
      expect(r.stderr).toMatch(new RegExp(`locked.*pid ${holder.pid}`));
    } finally {
      holder.kill();
    }
  }, 120_000);

  test('--max-size skips large messages; --json summary', async () => {
    const u = user('maxsize');
    await dc.append('INBOX', [gen(1, 'm'), gen(2, 'm', 5000)], { user: u });
    const { dir, env } = await repoFor(u, 'a');
    const r = await mg(['-C', dir, 'fetch', '--max-size', '10k', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.ok).toBe(true);
    expect(s.fetched).toBe(1);
    expect(s.accounts[0].folders[0].tooLarge).toBe(1);
    expect(headMessages(dir).size).toBe(1);
    // --rescan without the limit picks it up, without duplicating the other.
    const r2 = await mg(['-C', dir, 'fetch', '--rescan', '--json'], env);
    expect(JSON.parse(r2.stdout).fetched).toBe(1);
    expect(headMessages(dir).size).toBe(2);
  }, 120_000);

  test('server unreachable: exit 69', async () => {
    const u = user('cmd');
    const { dir, env } = await repoFor(u, 'a');
    const other = await startDovecot();
    const port = other.port;
    await other.stop();
    expect((await mg(['-C', dir, 'account', 'add', 'gone', '--host', '127.0.0.1', '--port', String(port), '--no-tls', '--user', 'x'])).code).toBe(0);
    const r = await mg(['-C', dir, 'fetch', 'gone'], { ...env, MAILGIT_PASSWORD_GONE: 'whatever-pw' });
    expect(r.code).toBe(69);
    expect(r.stderr).toMatch(/cannot connect/);
    expect(r.stderr).not.toContain('whatever-pw');
    // TLS is verified by default: a TLS handshake against a plaintext server fails with 69 too.
    expect((await mg(['-C', dir, 'account', 'add', 'tls', '--host', '127.0.0.1', '--port', String(dc.port), '--user', 'cmd'])).code).toBe(0);
    const t = await mg(['-C', dir, 'fetch', 'tls'], { MAILGIT_PASSWORD_TLS: 'x' });
    expect(t.code).toBe(69);
  }, 120_000);
});

/**
 * Runs the CLI and returns its own peak RSS (VmHWM, polled until it exits). Its git
 * children are separate processes (`git hash-object` of a 50 MB file is git's business).
 */
async function peakRss(args: string[], env: Record<string, string>): Promise<{ run: Run; kb: number }> {
  const child = start(args, env);
  const done = finish(child);
  let kb = 0;
  let exited = false;
  void done.then(() => (exited = true));
  while (!exited) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) kb = Math.max(kb, Number(m[1]));
    } catch {
      /* exited */
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { run: await done, kb };
}

describe('mailgit fetch: big messages and a server that goes away (own Dovecot)', () => {
  let own: Dovecot;
  beforeAll(async () => {
    own = await startDovecot({ users: [{ user: 'big', password: 'big-pw-123' }] });
  }, 120_000);
  afterAll(async () => {
    await own?.stop();
  });

  async function ownRepo(name: string): Promise<{ dir: string; env: Record<string, string> }> {
    const dir = join(tmp, `own-${name}`);
    expect((await mg(['init', dir, '--name', name])).code).toBe(0);
    expect((await mg(['-C', dir, 'account', 'add', 'work', '--host', '127.0.0.1', '--port', String(own.port), '--no-tls', '--user', 'big'])).code).toBe(0);
    return { dir, env: { MAILGIT_PASSWORD_WORK: 'big-pw-123' } };
  }

  test('a 50 MB message streams to disk (peak RSS grows by less than one copy), byte-exact', async () => {
    const line = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n';
    const head =
      'From: big@example.org\r\nSubject: fifty megabytes\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n';
    const big = Buffer.from(head + line.repeat(Math.ceil((50 << 20) / line.length)));
    await own.append('Big', [big]);
    const { dir, env } = await ownRepo('big');
    const big1 = await peakRss(['-C', dir, 'fetch', '--folder', 'Big'], env);
    expect(big1.run.code, big1.run.stderr).toBe(0);
    // The same command with nothing to download: what Node + imapflow + mailgit cost anyway.
    const idle = await peakRss(['-C', dir, 'fetch', '--folder', 'Big', '--rescan', '--max-size', '1k'], env);
    expect(idle.run.code, idle.run.stderr).toBe(0);
    const extraMb = (big1.kb - idle.kb) / 1024;
    console.log(
      `50 MB fetch: peak RSS of mailgit ${(big1.kb / 1024).toFixed(0)} MB, idle run ${(idle.kb / 1024).toFixed(0)} MB, message costs ${extraMb.toFixed(0)} MB`,
    );
    expect(extraMb).toBeLessThan(50); // less than one copy of the message held at any time
    expect(big1.kb / 1024).toBeLessThan(160); // and far from two copies on top of the runtime
    const files = diskMessages(dir);
    expect(files.length).toBe(1);
    expect(sha(readFileSync(join(dir, files[0])))).toBe(sha(big));
    expect(headMessages(dir).size).toBe(1);
  }, 120_000);

  test('server restarted mid-fetch: exit 69, what arrived is committed, rerun completes', async () => {
    const N = 300;
    const c = await own.connect();
    await c.mailboxCreate('Flood').catch(() => undefined);
    for (let i = 0; i < N; i++) await c.append('Flood', gen(i, 'flood', 1000));
    await c.logout();
    const { dir, env } = await ownRepo('flood');
    const commits = () => Number(execFileSync('git', ['-C', dir, 'rev-list', '--count', 'HEAD'], { encoding: 'utf8' }));
    const before = commits();
    const child = start(['-C', dir, 'fetch', '--folder', 'Flood', '--batch', '10'], env);
    const done = finish(child);
    let exited = false;
    void done.then(() => (exited = true));
    while (!exited && commits() === before) await new Promise((r) => setTimeout(r, 20));
    await own.restart();
    const r = await done;
    if (r.code !== 0) {
      expect(r.code, r.stderr).toBe(69);
      expect(r.stderr).toMatch(/connection .* lost|cannot connect/);
      const kept = headMessages(dir).size;
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(N);
    }
    const again = await mg(['-C', dir, 'fetch', '--folder', 'Flood'], env);
    expect(again.code, again.stderr).toBe(0);
    const head = headMessages(dir);
    expect(head.size).toBe(N);
    expect(new Set([...head.keys()].map(keyOf)).size).toBe(N);
  }, 120_000);
});
