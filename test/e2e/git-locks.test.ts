/**
 * Git lock files left by a killed git (src/repo/gitLocks.ts): mailgit clears them once no
 * process can hold them, instead of failing with git's "remove the file manually to
 * continue"; a lock a live git holds is left alone, and a command that meets it fails
 * with one line naming it and exit 75.
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { GitError, heldLock } from '../../src/git/run.js';
import { RemoteLockError, remoteHeldLock } from '../../src/sync/remoteLocks.js';

function newRepo(name: string): string {
  const dir = join(tempDir(), name);
  const r = mailgit(['init', dir, '--name', name]);
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

let n = 0;
function deliverFile(dir: string, folder = 'INBOX'): string {
  const key = `17000${String(++n).padStart(5, '0')}.M1P1.locks`;
  writeFileSync(join(dir, folder, 'new', key), `Subject: m${n}\n\nbody ${n}\n`);
  return `${folder}/new/${key}`;
}

/** Leaves a lock file as a killed git would: some content, an mtime in the past. */
function leftover(dir: string, rel: string, ageMs = 60_000): string {
  const p = join(dir, '.git', rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, '0123456789abcdef0123456789abcdef01234567\n');
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(p, t, t);
  return p;
}

const LOCKS = ['index.lock', 'HEAD.lock', 'config.lock', 'packed-refs.lock', 'shallow.lock', 'refs/heads/main.lock', 'objects/info/commit-graph.lock'];

describe('git lock files left by a killed git', () => {
  it('commit clears every leftover lock (one just made, the others old) and records, with a note on stderr', () => {
    const dir = newRepo('a');
    const path = deliverFile(dir);
    const locks = LOCKS.map((l, i) => leftover(dir, l, i === 0 ? 0 : 60_000));
    const r = mailgit(['-C', dir, 'commit']);
    expect(r.code, r.stderr).toBe(0);
    for (const l of locks) expect(existsSync(l), l).toBe(false);
    expect(r.stderr).toMatch(/removed lock files .*refs\/heads\/main\.lock/);
    expect(gitOut(dir, ['ls-tree', '-r', '--name-only', 'HEAD'])).toContain(path);
  });

  it('sync and deliver clear them too (the tracking ref of a fetch, the branch)', () => {
    const root = tempDir();
    const hub = join(root, 'hub.git');
    gitOut(root, ['init', '-q', '--bare', '-b', 'main', hub]);
    const dir = newRepo('b');
    gitOut(dir, ['remote', 'add', 'hub', hub]);
    deliverFile(dir);
    expect(mailgit(['-C', dir, 'sync']).code).toBe(0);
    const tracking = leftover(dir, 'refs/remotes/hub/main.lock');
    const branch = leftover(dir, 'refs/heads/main.lock');
    deliverFile(dir);
    const s = mailgit(['-C', dir, 'sync']);
    expect(s.code, s.stderr).toBe(0);
    expect(existsSync(tracking) || existsSync(branch)).toBe(false);
    expect(gitOut(hub, ['rev-parse', 'main^{tree}'])).toBe(gitOut(dir, ['rev-parse', 'HEAD^{tree}']));
    leftover(dir, 'refs/heads/main.lock');
    const d = mailgit(['-C', dir, 'deliver'], { input: 'Subject: delivered\n\nhello\n' });
    expect(d.code, d.stderr).toBe(0);
    expect(gitOut(dir, ['log', '-1', '--format=%s'])).toMatch(/delivered/);
  });

  it("a hub's lock left by a receive-pack killed mid-push is cleared, and the push goes through (it said 'kept moving' forever)", () => {
    const root = tempDir();
    const hub = join(root, 'hub.git');
    gitOut(root, ['init', '-q', '--bare', '-b', 'main', hub]);
    const dir = newRepo('h');
    gitOut(dir, ['remote', 'add', 'hub', hub]);
    deliverFile(dir);
    expect(mailgit(['-C', dir, 'sync']).code).toBe(0);
    const lock = join(hub, 'refs/heads/main.lock');
    writeFileSync(lock, '');
    const t = (Date.now() - 60_000) / 1000;
    utimesSync(lock, t, t);
    deliverFile(dir);
    const s = mailgit(['-C', dir, 'sync']);
    expect(s.code, s.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
    expect(gitOut(hub, ['rev-parse', 'main'])).toBe(gitOut(dir, ['rev-parse', 'HEAD']));
  });

  it("a checked-out peer's incoming-ref lock left by a killed receive-pack: the push still arrives (it was dropped, reported synced)", () => {
    const a = newRepo('pa');
    deliverFile(a);
    expect(mailgit(['-C', a, 'commit']).code).toBe(0);
    const b = join(tempDir(), 'pb');
    expect(mailgit(['clone', a, b, '--name', 'pb']).code).toBe(0);
    const sent = deliverFile(b);
    const lock = join(a, '.git/refs/mailgit/incoming');
    mkdirSync(lock, { recursive: true });
    for (const f of ['pb.lock', ...readdirSync(lock)]) {
      const p = join(lock, f);
      writeFileSync(p, '');
      const t = (Date.now() - 60_000) / 1000;
      utimesSync(p, t, t);
    }
    const s = mailgit(['-C', b, 'sync']);
    expect(s.code, s.stderr).toBe(0);
    expect(mailgit(['-C', a, 'sync']).code).toBe(0);
    expect(gitOut(a, ['ls-tree', '-r', '--name-only', 'HEAD'])).toContain(sent);
  });

  it('a shell or mail client sitting in the Maildir does not stop the recovery', async () => {
    const dir = newRepo('c');
    deliverFile(dir);
    const lock = leftover(dir, 'refs/heads/main.lock');
    const idle = spawn('sleep', ['60'], { cwd: join(dir, 'INBOX'), stdio: 'ignore' });
    try {
      const r = mailgit(['-C', dir, 'commit']);
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(lock)).toBe(false);
    } finally {
      idle.kill('SIGKILL');
    }
  });

  it("a lock a live git holds (git commit waiting for its editor) is left alone, and the user's commit completes", async () => {
    const dir = newRepo('d');
    const editor = join(dir, '..', 'editor.sh');
    const go = join(dir, '..', 'editor.go');
    // The editor holds git's lock until the test says so (no sleep a loaded machine outlasts).
    writeFileSync(editor, `#!/bin/sh\nwhile [ ! -e '${go}' ]; do sleep 0.1; done\necho "user commit" > "$1"\n`, { mode: 0o755 });
    // Past mailgit's guards (hooks off): any git command holding a lock while it runs.
    const user = spawn('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'user.name=u', '-c', 'user.email=u@x', 'commit', '-q', '-a', '--allow-empty'], {
      cwd: dir,
      env: { ...process.env, GIT_EDITOR: editor },
      stdio: 'ignore',
    });
    const done = new Promise<number | null>((res) => user.on('close', res));
    try {
      const indexLock = join(dir, '.git', 'index.lock');
      for (let i = 0; i < 600 && !existsSync(indexLock); i++) await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(indexLock)).toBe(true);
      // Nothing to record (a new commit would move HEAD under the user's commit, which git
      // then refuses on its own); recording does not need the index, and if it ever does,
      // the held lock is a clear "try again".
      const r = mailgit(['-C', dir, 'commit']);
      if (r.code !== 0) {
        expect(r.code, r.stderr).toBe(75);
        expect(r.stderr).toMatch(/index\.lock is held by another git command/);
      }
      expect(r.stderr).not.toMatch(/removed lock files/);
      expect(existsSync(indexLock)).toBe(true);
    } finally {
      writeFileSync(go, '');
    }
    expect(await done).toBe(0);
    expect(gitOut(dir, ['log', '-1', '--format=%s'])).toMatch(/user commit/);
  }, 60_000);
});

describe("a killed watch's importer", () => {
  it('leaves .keep files (its packs kept out of every repack) and tmp packs: the next command clears them', async () => {
    const dir = newRepo('w');
    const watch = spawn(process.execPath, [BIN, '-C', dir, 'watch', '--debounce', '50', '--interval', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    watch.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const commits = () => (out.match(/\[main /g) ?? []).length;
    for (let i = 0; i < 400 && !/watching/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; commits() < 3 && i < 200; i++) {
      if (i % 10 === 0) deliverFile(dir);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(commits()).toBeGreaterThanOrEqual(3);
    const gone = new Promise((r) => watch.on('close', r));
    watch.kill('SIGKILL'); // node only: its fast-import sees its input end and dies without removing its keeps
    await gone;
    const packDir = join(dir, '.git/objects/pack');
    const keeps = () => readdirSync(packDir).filter((n) => n.endsWith('.keep') && readFileSync(join(packDir, n), 'utf8').startsWith('fast-import'));
    for (let i = 0; i < 100 && pgrepIn(dir); i++) await new Promise((r) => setTimeout(r, 50));
    expect(keeps().length).toBeGreaterThan(0);
    deliverFile(dir);
    const r = mailgit(['-C', dir, 'commit']);
    expect(r.code, r.stderr).toBe(0);
    expect(keeps()).toEqual([]);
    expect(readdirSync(packDir).filter((n) => n.startsWith('tmp_'))).toEqual([]);
    expect(spawnSync('git', ['fsck', '--no-dangling'], { cwd: dir }).status).toBe(0);
  }, 120_000);
});

/** True while a git process works in `dir` (the killed watch's children). */
function pgrepIn(dir: string): boolean {
  const r = spawnSync('sh', ['-c', `for p in $(pgrep -x git); do [ "$(readlink /proc/$p/cwd)" = "${dir}" ] && echo $p; done`], { encoding: 'utf8' });
  return r.stdout.trim() !== '';
}

describe('a held git lock is reported, not passed on as an internal error', () => {
  it("git's message is read for the lock's path; a remote's lock is not ours", () => {
    const local =
      "fatal: update_ref failed for ref 'refs/heads/main': cannot lock ref 'refs/heads/main': Unable to create '/m/.git/refs/heads/main.lock': File exists.\n\nAnother git process seems to be running";
    expect(heldLock(local)).toBe('/m/.git/refs/heads/main.lock');
    expect(heldLock("remote: error: cannot lock ref 'refs/heads/main': Unable to create '/hub/refs/heads/main.lock': File exists.")).toBeNull();
    const e = new GitError(['update-ref'], local, 128);
    expect(e.exitCode).toBe(75);
    expect(e.code).toBe('EGITLOCK');
    expect(e.message).toMatch(/^git update-ref: \/m\/\.git\/refs\/heads\/main\.lock is held/);
    expect(new GitError(['update-ref'], 'fatal: bad object', 128).exitCode).toBe(70);
    const remote = "remote: error: cannot lock ref 'refs/heads/main': Unable to create '/hub/refs/heads/main.lock': File exists.";
    expect(remoteHeldLock(remote)).toBe('/hub/refs/heads/main.lock');
    expect(remoteHeldLock(local)).toBeNull();
    const r = new RemoteLockError('hub', '/hub/refs/heads/main.lock');
    expect([r.exitCode, r.message]).toEqual([75, 'remote hub: /hub/refs/heads/main.lock is held by another git command there; try again when it has finished']);
  });
});
