/**
 * Resources: a full disk (a small tmpfs) during commit, deliver and sync → a clear
 * one-line error (74 I/O, or 75 temporary for deliver so that the MTA retries), `git fsck`
 * clean, and the rerun after freeing space completes with the Maildir equal to HEAD; a
 * read-only repo; a repo owned by another user; a remote that stalls → exit 69 within the
 * MAILGIT_TIMEOUT limit, not when the stalled ssh finally gives up.
 * The tmpfs parts need root (mount); they are skipped otherwise.
 */
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Rand, blobId, cli, diskVsHead, fsckStrict, git, mgOk, tempDir } from './lib.js';
import { drop, messageText, newKey } from './client.js';

const root = process.getuid?.() === 0;

function mountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status === 0;
}
function umount(dir: string): void {
  spawnSync('umount', ['-l', dir]);
}

/** Fills the file system of `dir` until `leaveBytes` or fewer are free; returns the filler path. */
function fill(dir: string, leaveBytes = 0): string {
  const f = join(dir, `filler-${Date.now()}`);
  const fd = openSync(f, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) {
      const st = spawnSync('stat', ['-f', '-c', '%a %S', dir], { encoding: 'utf8' }).stdout.trim().split(' ').map(Number);
      const free = st[0]! * st[1]!;
      if (free <= leaveBytes) break;
      const n = Math.min(free - leaveBytes, 256 * 1024);
      for (let i = 0; i < Math.ceil(n / 4096); i++) writeSync(fd, chunk);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  return f;
}

function oneLine(stderr: string): void {
  expect(stderr.trim().split('\n'), stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/internal error|at .*\.js:\d+/);
}

describe.skipIf(!root)('full disk', () => {
  test('commit, deliver and sync on a full tmpfs: clear error, fsck clean, rerun after freeing space completes', async () => {
    const base = tempDir('mailgit-full-');
    const mnt = join(base, 'mnt');
    if (!mountTmpfs(mnt, '3m')) return;
    try {
      const r = new Rand(5);
      const a = join(mnt, 'a');
      await mgOk(['init', a, '--name', 'a']);
      for (let i = 0; i < 10; i++) drop(a, 'INBOX', newKey(r, 'a'), messageText(r, 'a'), 'S');
      await mgOk(['-C', a, 'commit']);
      const head0 = git(a, ['rev-parse', 'HEAD']).trim();

      // commit
      for (let i = 0; i < 20; i++) drop(a, 'INBOX', newKey(r, 'a'), messageText(r, 'a'));
      let filler = fill(mnt);
      const c = await cli(['-C', a, 'commit']);
      expect([74, 75], c.stderr).toContain(c.code);
      oneLine(c.stderr);
      fsckStrict(a);
      expect(git(a, ['rev-parse', 'HEAD']).trim()).toBe(head0);
      rmSync(filler);
      await mgOk(['-C', a, 'commit']);
      expect(diskVsHead(a)).toBe('');
      fsckStrict(a);

      // deliver: nothing delivered, a temporary failure for the MTA
      const newBefore = readdirSync(join(a, 'INBOX/new')).sort();
      filler = fill(mnt);
      const text = messageText(r, 'full');
      const d = await cli(['-C', a, 'deliver'], { input: text });
      expect([74, 75], d.stderr).toContain(d.code);
      oneLine(d.stderr);
      const blob = blobId(Buffer.from(text));
      expect(readdirSync(join(a, 'INBOX/new')).sort()).toEqual(newBefore);
      expect(readdirSync(join(a, 'INBOX/tmp'))).toEqual([]);
      fsckStrict(a);
      rmSync(filler);
      await mgOk(['-C', a, 'deliver'], { input: text });
      expect(git(a, ['ls-tree', '-r', 'HEAD']).includes(blob)).toBe(true);
      expect(diskVsHead(a)).toBe('');

      // sync: the incoming mail does not fit
      const hub = join(base, 'hub.git');
      const b = join(base, 'b');
      git(base, ['init', '-q', '--bare', '-b', 'main', hub]);
      git(a, ['remote', 'add', 'hub', hub]);
      await mgOk(['-C', a, 'sync']);
      await mgOk(['clone', hub, b, '--name', 'b']);
      for (let i = 0; i < 40; i++) drop(b, 'INBOX', newKey(r, 'b'), `${messageText(r, 'b')}${'x'.repeat(20_000 + i)}\n`);
      await mgOk(['-C', b, 'sync']);
      for (const leave of [0, 150_000, 600_000]) {
        filler = fill(mnt, leave);
        const s = await cli(['-C', a, 'sync']);
        if (s.code !== 0) {
          expect([74, 75], `leave ${leave}: ${s.stderr}`).toContain(s.code);
          oneLine(s.stderr);
        }
        fsckStrict(a);
        rmSync(filler);
        await mgOk(['-C', a, 'sync']);
        expect(git(a, ['rev-parse', 'HEAD^{tree}']).trim()).toBe(git(hub, ['rev-parse', 'main^{tree}']).trim());
        expect(diskVsHead(a)).toBe('');
        fsckStrict(a);
        // New incoming mail for the next round.
        for (let i = 0; i < 10; i++) drop(b, 'INBOX', newKey(r, 'b'), `${messageText(r, 'b')}${'y'.repeat(30_000 + i)}\n`);
        await mgOk(['-C', b, 'sync']);
      }
    } finally {
      umount(mnt);
      rmSync(base, { recursive: true, force: true });
    }
  }, 900_000);
});

describe.skipIf(!root)('read-only and foreign repos', () => {
  test('a read-only repo: commit fails with one clear line and changes nothing; log and status still work', async () => {
    const base = tempDir('mailgit-ro-');
    const mnt = join(base, 'mnt');
    if (!mountTmpfs(mnt, '8m')) return;
    try {
      const r = new Rand(6);
      const a = join(mnt, 'a');
      await mgOk(['init', a, '--name', 'a']);
      for (let i = 0; i < 5; i++) drop(a, 'INBOX', newKey(r, 'a'), messageText(r, 'a'));
      await mgOk(['-C', a, 'commit']);
      drop(a, 'INBOX', newKey(r, 'a'), messageText(r, 'a'));
      const head = git(a, ['rev-parse', 'HEAD']).trim();
      expect(spawnSync('mount', ['-o', 'remount,ro', mnt]).status).toBe(0);
      const c = await cli(['-C', a, 'commit']);
      expect([73, 74, 77], c.stderr).toContain(c.code);
      oneLine(c.stderr);
      expect(git(a, ['rev-parse', 'HEAD']).trim()).toBe(head);
      const l = await cli(['-C', a, 'log', '-n', '2']);
      expect(l.code, `log on a read-only repo: ${l.stderr}`).toBe(0);
      // status only computes blob ids (it writes no object), so it works read-only too.
      const st = await cli(['-C', a, 'status']);
      expect(st.code, st.stderr).toBe(0);
      expect(st.stdout).toMatch(/INBOX: 1 delivered/);
      expect(spawnSync('mount', ['-o', 'remount,rw', mnt]).status).toBe(0);
      await mgOk(['-C', a, 'commit']);
      expect(diskVsHead(a)).toBe('');
    } finally {
      umount(mnt);
      rmSync(base, { recursive: true, force: true });
    }
  }, 300_000);

  test('a repo owned by another user: a clear error, not a crash', async () => {
    const base = tempDir('mailgit-owner-');
    chmodSync(base, 0o755);
    const a = join(base, 'a');
    await mgOk(['init', a, '--name', 'a']);
    // 0700: nobody cannot even enter it.
    const run = (args: string[]) => cli(['-C', a, ...args], { wrap: ['runuser', '-u', 'nobody', '--'], env: { HOME: base } });
    const x = await run(['status']);
    expect(x.code, x.stderr).not.toBe(0);
    expect([66, 77], x.stderr).toContain(x.code);
    oneLine(x.stderr);
    // Readable by all, but owned by root: git's safe.directory check refuses it.
    spawnSync('chmod', ['-R', 'a+rwX', a]);
    const y = await run(['commit']);
    expect(y.code, y.stderr).not.toBe(0);
    expect(y.code, y.stderr).not.toBe(70);
    oneLine(y.stderr);
    rmSync(base, { recursive: true, force: true });
  }, 120_000);
});

describe('a remote that stalls', () => {
  test('sync gives up after MAILGIT_TIMEOUT with exit 69, and does not wait for the stalled ssh', async () => {
    const base = tempDir('mailgit-stall-');
    const a = join(base, 'a');
    await mgOk(['init', a, '--name', 'a']);
    git(a, ['remote', 'add', 'stall', 'ssh://stalled.invalid/mail.git']);
    const baseline = await cli(['-C', a, 'status']); // startup cost on this machine now
    const s = await cli(['-C', a, 'sync'], { env: { MAILGIT_TIMEOUT: '2', GIT_SSH_COMMAND: 'sleep 120 #' } });
    expect(s.code, s.stderr).toBe(69);
    oneLine(s.stderr);
    expect(s.stderr).toMatch(/did not answer within 2 s/);
    // Before the fix the command printed the error but stayed until the ssh ended (120 s).
    expect(s.ms).toBeLessThan(baseline.ms * 3 + 30_000);
    expect(existsSync(join(a, '.git/mailgit/lock'))).toBe(false);
    rmSync(base, { recursive: true, force: true });
  }, 300_000);
});
