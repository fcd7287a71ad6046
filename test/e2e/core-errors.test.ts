/**
 * Errors a person meets: not a repo, a held lock, a stale lock, an unreadable file,
 * a full disk. Each: a clear message, a sysexits code, nothing half-recorded.
 */
import { describe, expect, it } from 'vitest';
import { chmodSync, chownSync, mkdirSync, readdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BIN, gitOut, mailgit, tempDir } from '../helpers/cli.js';

function newRepo(name = 'e'): string {
  const dir = join(tempDir(), 'mail');
  const r = mailgit(['init', dir, '--name', name]);
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

const head = (dir: string) => gitOut(dir, ['-c', 'safe.directory=*', 'rev-parse', 'HEAD']).trim();

describe('core errors', () => {
  it('not a mail repo: exit 66 and says so', () => {
    const dir = tempDir();
    for (const args of [['commit'], ['status'], ['log']]) {
      const r = mailgit(args, { cwd: dir });
      expect(r.code).toBe(66);
      expect(r.stderr).toMatch(/not a mail repo/);
    }
  });

  it('locked by a live mailgit: exit 75 naming the pid; a stale lock is taken over', () => {
    const dir = newRepo();
    writeFileSync(join(dir, 'INBOX', 'new', '1700000000.M1P1.h'), 'x');
    const lock = join(dir, '.git', 'mailgit', 'lock');
    writeFileSync(lock, `${process.pid} watch\n`);
    const before = head(dir);
    const r = mailgit(['commit'], { cwd: dir });
    expect(r.code).toBe(75);
    expect(r.stderr).toContain(`pid ${process.pid}`);
    expect(head(dir)).toBe(before);
    expect(existsSync(lock)).toBe(true);

    // A lock left by a dead process (a pid that has exited) is stale.
    const dead = spawnSync('true').pid!;
    writeFileSync(lock, `${dead} commit\n`);
    const ok = mailgit(['commit', '-v'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/INBOX: 1 delivered/);
    expect(existsSync(lock)).toBe(false);
  });

  it('an unreadable file is named and nothing is committed (run as nobody: root reads anything)', () => {
    const dir = newRepo();
    const who = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']);
    if (who.status !== 0) return void console.warn('skipped: setpriv cannot drop to nobody here');
    // Hand the repo to nobody, then make one new message unreadable to nobody.
    spawnSync('chown', ['-R', '65534:65534', join(dir, '..')]);
    const good = join(dir, 'INBOX', 'new', '1700000000.M1P1.ok');
    const bad = join(dir, 'INBOX', 'new', '1700000001.M2P1.secret');
    writeFileSync(good, 'fine');
    writeFileSync(bad, 'private');
    chownSync(good, 65534, 65534);
    chownSync(bad, 0, 0);
    chmodSync(bad, 0o600);
    const before = head(dir);
    const run = (args: string[]) =>
      spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, HOME: '/tmp' },
      });
    const r = run(['commit']);
    expect(r.status, r.stderr).toBe(74);
    expect(r.stderr).toMatch(/cannot read .*1700000001\.M2P1\.secret.*nothing recorded/);
    expect(head(dir)).toBe(before);
    chownSync(bad, 65534, 65534);
    const ok = run(['commit', '-v']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/INBOX: 2 delivered/);
  });

  it('adopt: an unreadable file among thousands (fast-import, one pack per core) is named and nothing is committed', () => {
    const base = tempDir();
    const dir = join(base, 'mail');
    const who = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']);
    if (who.status !== 0) return void console.warn('skipped: setpriv cannot drop to nobody here');
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, 'INBOX', sub), { recursive: true });
    // 4,100 files: enough for two parallel imports on a 2-core machine; the bad one is
    // near the end, in the last import's slice, so the first import is stopped midway or done.
    const n = 4100;
    for (let i = 0; i < n; i++) writeFileSync(join(dir, 'INBOX', 'cur', `${1700000000 + i}.M${i}P1.h:2,S`), `Subject: ${i}\n\nbody ${i}\n`);
    spawnSync('chown', ['-R', '65534:65534', base]);
    const bad = join(dir, 'INBOX', 'cur', `${1700000000 + n - 7}.M${n - 7}P1.h:2,S`);
    chownSync(bad, 0, 0);
    chmodSync(bad, 0o600);
    const run = (args: string[]) =>
      spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args], {
        cwd: base,
        encoding: 'utf8',
        env: { ...process.env, HOME: '/tmp' },
      });
    const r = run(['init', dir, '--name', 'nobody']);
    expect(r.status, r.stderr).toBe(74);
    expect(r.stderr).toMatch(new RegExp(`cannot read INBOX/cur/${1700000000 + n - 7}\\.M${n - 7}P1\\.h:2,S: permission denied; nothing recorded`));
    // A failed init leaves the tree as it was (src/repo/initPlan.ts): no half repo.
    expect(existsSync(join(dir, '.git')) || existsSync(join(dir, '.mailgit'))).toBe(false);
    chownSync(bad, 65534, 65534);
    const ok = run(['init', dir, '--name', 'nobody']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`INBOX: ${n} delivered`));
    expect(gitOut(dir, ['-c', 'safe.directory=*', 'ls-tree', '-r', '--name-only', 'HEAD', 'INBOX/cur']).trim().split('\n')).toHaveLength(n);
    expect(spawnSync('git', ['-c', 'safe.directory=*', 'fsck', '--no-progress', '--strict'], { cwd: dir }).status).toBe(0);
  });

  it('disk full: clear error, exit 74, repo still fsck-clean, a rerun after freeing space records it', () => {
    const mnt = tempDir('mailgit-tmpfs-');
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
    if (m.status !== 0) return void console.warn(`skipped: cannot mount a tmpfs here: ${m.stderr}`);
    try {
      const dir = join(mnt, 'mail');
      expect(mailgit(['init', dir, '--name', 'full']).code).toBe(0);
      const before = head(dir);
      // Mail that fits on disk but not twice (work tree + object store).
      const bytes = randomBytes(1_100_000); // incompressible
      writeFileSync(join(mnt, 'ballast'), randomBytes(1_200_000)); // something else filling the disk
      writeFileSync(join(dir, 'INBOX', 'new', '1700000000.M1P1.big'), bytes);
      writeFileSync(join(dir, 'INBOX', 'new', '1700000001.M2P1.big'), Buffer.from(bytes).reverse());
      const r = mailgit(['commit'], { cwd: dir });
      expect(r.code, r.stderr).toBe(74);
      expect(r.stderr).toMatch(/disk full/i);
      expect(head(dir)).toBe(before);
      expect(spawnSync('git', ['fsck', '--no-progress'], { cwd: dir }).status).toBe(0);
      // Free space (the other file goes, the client deletes a big message), then the rest is recorded.
      rmSync(join(mnt, 'ballast'));
      rmSync(join(dir, 'INBOX', 'new', '1700000001.M2P1.big'));
      for (const f of readdirSync(join(dir, '.git', 'objects', 'pack'))) if (f.startsWith('tmp_')) rmSync(join(dir, '.git', 'objects', 'pack', f));
      const ok = mailgit(['commit', '-v'], { cwd: dir });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/INBOX: 1 delivered/);
      expect(spawnSync('git', ['fsck', '--no-progress'], { cwd: dir }).status).toBe(0);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});
