/**
 * Remotes and hubs through the CLI: `remote add --create` (a local path and, against a
 * real sshd, over ssh), `remote list`, `rename`, `remove`; sync without remotes or with
 * an unknown one; one sync run leaving every remote level; a push to a checked-out peer
 * said as such by sync and shown waiting by the peer's status; `sync -n` with changes not
 * yet recorded.
 */
import { describe, expect, test, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { arrive, cloneReplica, headTree, initReplica, messagesAt, mg, setFlags } from '../helpers/replica.js';
import { sshdPerSuite, sshdUnavailable } from '../helpers/sshd.js';

vi.setConfig({ testTimeout: 300_000 });

interface Listed {
  name: string;
  url: string;
  kind: string;
  lastSync: string | null;
  ahead: number;
  behind: number;
  identical: boolean;
}

function listed(repo: string): Listed[] {
  return JSON.parse(mg(repo, ['remote', 'list', '--json']).stdout) as Listed[];
}

function refs(repo: string, prefix: string): string[] {
  return gitOut(repo, ['for-each-ref', '--format=%(refname)', prefix]).split('\n').filter(Boolean);
}

/** The hub is owner-only, its HEAD is main, and a plain `git clone` of it checks out the mail. */
function expectWorkingHub(hub: string, from: string, env?: Record<string, string>): void {
  const cloned = join(tempDir(), 'plain');
  const r = spawnSync('git', ['clone', '-q', hub, cloned], { encoding: 'utf8', env: { ...process.env, ...env } });
  expect(r.status, r.stderr).toBe(0);
  expect(gitOut(cloned, ['symbolic-ref', 'HEAD']).trim()).toBe('refs/heads/main');
  expect(gitOut(cloned, ['rev-parse', 'HEAD^{tree}'])).toBe(gitOut(from, ['rev-parse', 'HEAD^{tree}']));
  expect(
    gitOut(cloned, ['ls-files'])
      .split('\n')
      .some((p) => /^INBOX\/(cur|new)\//.test(p)),
  ).toBe(true);
}

describe('mailgit remote', () => {
  test('add --create makes a hub at a path that plain git clones; list, rename and remove keep mailgit state with it', () => {
    const dir = tempDir('mailgit-remote-');
    const a = initReplica(join(dir, 'a'), 'a');
    arrive(a, 'first');
    const hub = join(dir, 'srv', 'hub.git');
    const r = mailgit(['-C', a, 'remote', 'add', 'hub', hub, '--create', '-v']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/created hub .*hub\.git/);
    expect(statSync(hub).mode & 0o777).toBe(0o700);
    expect(statSync(join(hub, 'config')).mode & 0o777).toBe(0o600);
    expect(gitOut(hub, ['symbolic-ref', 'HEAD']).trim()).toBe('refs/heads/main');
    expectWorkingHub(hub, a);
    expect(listed(a)).toMatchObject([{ name: 'hub', url: hub, kind: 'hub', identical: true, ahead: 0, behind: 0 }]);
    expect(listed(a)[0]!.lastSync).toMatch(/^\d{4}-\d\d-\d\dT/);

    // Mistakes: one line each, the right status, naming only commands that exist.
    const again = mailgit(['-C', a, 'remote', 'add', 'other', hub, '--create']);
    expect([again.code, again.stderr]).toEqual([73, expect.stringMatching(/already exists.*mailgit remote add without --create/)]);
    const taken = mailgit(['-C', a, 'remote', 'add', 'hub', join(dir, 'x.git')]);
    expect([taken.code, taken.stderr]).toEqual([64, expect.stringMatching(/remote hub exists already; mailgit remote remove hub/)]);
    expect(mailgit(['-C', a, 'remote', 'add', 'bad name', hub]).code).toBe(64);
    const https = mailgit(['-C', a, 'remote', 'add', 'web', 'https://example.org/mail.git', '--create']);
    expect([https.code, https.stderr]).toEqual([64, expect.stringMatching(/--create makes hubs at a local path or over ssh/)]);
    expect(mailgit(['-C', a, 'remote', 'remove', 'nope']).code).toBe(64);

    // A clone syncs; rename carries the tracking, fetched refs and last sync along.
    const b = cloneReplica(hub, join(dir, 'b'), 'b');
    arrive(b, 'from b');
    mg(b, ['sync']);
    mg(a, ['sync']);
    expect(refs(a, 'refs/mailgit/fetched/hub/')).not.toEqual([]);
    const before = listed(a)[0]!;
    mg(a, ['remote', 'rename', 'hub', 'central']);
    expect(listed(a)).toMatchObject([{ name: 'central', url: hub, kind: 'hub', lastSync: before.lastSync, identical: true }]);
    expect(refs(a, 'refs/mailgit/fetched/hub/')).toEqual([]);
    expect(refs(a, 'refs/mailgit/fetched/central/')).not.toEqual([]);
    expect(mg(a, ['sync', '-v', 'central']).stdout).toMatch(/^central: up to date$/m);

    const keys = [...messagesAt(a).keys()];
    mg(a, ['remote', 'remove', 'central']);
    expect(listed(a)).toEqual([]);
    expect(refs(a, 'refs/mailgit/fetched/')).toEqual([]);
    expect(refs(a, 'refs/remotes/')).toEqual([]);
    expect([...messagesAt(a).keys()]).toEqual(keys);
  });

  test('a plain git clone of a hub is a replica from its first mailgit command: folders whole, named, syncing', () => {
    const dir = tempDir('mailgit-remote-');
    const a = initReplica(join(dir, 'a'), 'a');
    arrive(a, 'first');
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(a, 'Archive', sub), { recursive: true });
    mg(a, ['remote', 'add', 'hub', join(dir, 'hub.git'), '--create']);
    const plain = join(dir, 'plain');
    gitOut(dir, ['clone', '-q', join(dir, 'hub.git'), plain]);
    // git keeps no empty directory: INBOX has only new/, Archive only its marker.
    expect(existsSync(join(plain, 'Archive', 'cur'))).toBe(false);
    expect(mg(plain, ['status']).stdout).toMatch(/^nothing to record$/m);
    for (const f of ['INBOX', 'Archive'])
      for (const sub of ['cur', 'new', 'tmp']) expect(statSync(join(plain, f, sub)).isDirectory(), `${f}/${sub}`).toBe(true);
    expect(gitOut(plain, ['config', 'mailgit.replica']).trim()).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
    expect(gitOut(plain, ['config', 'mailgit.id']).trim()).toMatch(/^[0-9a-f]{16}$/);
    expect(gitOut(plain, ['status', '--porcelain'])).toBe('');
    // Mail a client writes there reaches the hub and the first replica.
    arrive(plain, 'from the plain clone', 'Archive');
    mg(plain, ['sync']);
    mg(a, ['sync']);
    expect(headTree(a)).toBe(headTree(plain));
    expect([...messagesAt(a).values()].flat().some((m) => m.path.startsWith('Archive/'))).toBe(true);
  });

  test('sync without remotes (and nothing pushed to it) exits 78 naming remote add; an unknown remote is 64, for watch --sync at once', () => {
    const a = initReplica(join(tempDir(), 'a'), 'a');
    const none = mailgit(['-C', a, 'sync']);
    expect(none.code).toBe(78);
    expect(none.stderr).toMatch(/^mailgit: no remotes to sync with; add one with: mailgit remote add NAME URL/);
    const hub = join(tempDir(), 'hub.git');
    mg(a, ['remote', 'add', 'hub', hub, '--create']);
    const unknown = mailgit(['-C', a, 'sync', 'nope']);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([64, 'mailgit: no remote named "nope"; mailgit remote list shows the remotes']);
    // watch would run until a signal: an unknown remote must stop it before it starts.
    const watch = spawnSync(process.execPath, [BIN, '-C', a, 'watch', '--sync', 'nope'], { encoding: 'utf8', timeout: 60_000 });
    expect([watch.status, watch.signal]).toEqual([64, null]);
    expect(watch.stderr).toMatch(/no remote named "nope"/);
    expect(watch.stdout).toBe('');
  });

  test('one sync run leaves every reachable remote level: what came from one is pushed to the others', () => {
    const dir = tempDir('mailgit-level-');
    const a = initReplica(join(dir, 'a'), 'a');
    arrive(a, 'a0');
    mg(a, ['remote', 'add', 'one', join(dir, 'one.git'), '--create']);
    mg(a, ['remote', 'add', 'two', join(dir, 'two.git'), '--create']);
    const b = cloneReplica(join(dir, 'one.git'), join(dir, 'b'), 'b');
    const c = cloneReplica(join(dir, 'two.git'), join(dir, 'c'), 'c');
    arrive(b, 'b1');
    mg(b, ['sync']);
    arrive(c, 'c1');
    mg(c, ['sync']);
    const out = mg(a, ['sync', '-v']).stdout;
    // two brought c1 after one was synced: one gets it in the same run.
    expect(out).toMatch(/^one: synced\n {2}in {3}INBOX: 1 delivered\n(.*\n)*two: synced\n {2}in {3}INBOX: 1 delivered\n {2}out {2}INBOX: 1 delivered\n/m);
    for (const hub of ['one.git', 'two.git']) expect(gitOut(join(dir, hub), ['rev-parse', 'main^{tree}']).trim()).toBe(headTree(a));
    expect(listed(a).map((r) => [r.name, r.identical])).toEqual([
      ['one', true],
      ['two', true],
    ]);
  });

  test('a push to a checked-out peer: sync says the peer will merge it, the peer’s status shows it waiting', () => {
    const dir = tempDir('mailgit-peer-');
    const a = initReplica(join(dir, 'a'), 'desk');
    arrive(a, 'a0');
    mg(a, ['commit']);
    const b = cloneReplica(a, join(dir, 'b'), 'laptop');
    mg(a, ['remote', 'add', 'laptop', b]);
    arrive(a, 'a1');
    const out = mg(a, ['sync', '-v']).stdout;
    expect(out).toMatch(/^laptop: synced\n {2}out {2}INBOX: 1 delivered\n {2}laptop will merge it at its next sync$/m);
    expect(listed(a)[0]).toMatchObject({ name: 'laptop', kind: 'peer' });

    const status = mg(b, ['status']).stdout;
    expect(status).toMatch(/^pushed by desk, waiting for mailgit sync to merge it:\n {2}INBOX: 1 delivered$/m);
    const json = JSON.parse(mg(b, ['status', '--json']).stdout) as { waiting: { from: string; lines: string[] }[] };
    expect(json.waiting).toMatchObject([{ from: 'desk', lines: ['INBOX: 1 delivered'] }]);
    expect(mg(b, ['sync', '-v']).stdout).toMatch(/^received {2}desk: INBOX: 1 delivered$/m);
    expect((JSON.parse(mg(b, ['status', '--json']).stdout) as { waiting: unknown[] }).waiting).toEqual([]);
  });

  test('sync -n reports changes not yet recorded as what would be recorded, and changes nothing', () => {
    const dir = tempDir('mailgit-dry-');
    const a = initReplica(join(dir, 'a'), 'a');
    const k = arrive(a, 'a0');
    mg(a, ['remote', 'add', 'hub', join(dir, 'hub.git'), '--create']);
    setFlags(a, k, 'S');
    const head = gitOut(a, ['rev-parse', 'HEAD']);
    const out = mg(a, ['sync', '-n']).stdout;
    expect(out).toMatch(/^would record {2}INBOX: 1 marked read$/m);
    expect(gitOut(a, ['rev-parse', 'HEAD'])).toBe(head);
    expect(mg(a, ['status']).stdout).toMatch(/^ {2}INBOX: 1 marked read$/m);
  });
});

describe.skipIf(sshdUnavailable() !== null)('mailgit remote add --create over ssh', () => {
  const sshd = sshdPerSuite();

  test('ssh:// and scp-like URLs make an owner-only hub with HEAD main there; a second --create is refused', () => {
    const dir = tempDir('mailgit-sshhub-');
    const a = initReplica(join(dir, 'a'), 'a');
    arrive(a, 'over ssh');
    const path = join(dir, 'srv', "it's hub.git");
    mkdirSync(join(dir, 'srv'));
    writeFileSync(join(dir, 'srv', 'unrelated'), 'x');
    const url = sshd.url(path);
    const r = mailgit(['-C', a, 'remote', 'add', 'hub', url, '--create'], { env: sshd.env });
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(path).mode & 0o777).toBe(0o700);
    expect(gitOut(path, ['symbolic-ref', 'HEAD']).trim()).toBe('refs/heads/main');
    expectWorkingHub(url, a, sshd.env);
    const again = mailgit(['-C', a, 'remote', 'add', 'hub2', `${sshd.user}@127.0.0.1:${path}`, '--create'], { env: sshd.env });
    expect([again.code, again.stderr]).toEqual([73, expect.stringMatching(/already exists and is not empty/)]);
    const scp = join(dir, 'srv', 'scp.git');
    const s = mailgit(['-C', a, 'remote', 'add', 'scp', `${sshd.user}@127.0.0.1:${scp}`, '--create'], { env: sshd.env });
    expect(s.code, s.stderr).toBe(0);
    expect(gitOut(scp, ['rev-parse', 'main'])).toBe(gitOut(a, ['rev-parse', 'HEAD']));
  });
});
