/**
 * `mailgit init` writes nothing it cannot finish: it checks that it can write every
 * directory it must before it writes anything, and a failure at any later step leaves the
 * tree as it was (same paths, types, modes and bytes; directory times may differ), so
 * that the rerun is a fresh init, never "already a mail repo". Failures are injected with
 * a `git` on PATH that fails its N-th call, for every N of a clean run.
 */
import { describe, expect, test } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { BIN, gitOut, mailgit, tempDir } from '../helpers/cli.js';

/** The exit status of a git command in `dir`. */
function gitRun(dir: string, args: string[]): number | null {
  return spawnSync('git', args, { cwd: dir }).status;
}

const isRoot = process.getuid?.() === 0;
const haveSetpriv = spawnSync('sh', ['-c', 'command -v setpriv']).status === 0;
const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();

/** Paths under `dir` with type, mode, size and content hash: what "as it was" compares. */
function snapshot(dir: string): string[] {
  if (!existsSync(dir)) return ['(absent)'];
  const out: string[] = [];
  const visit = (rel: string) => {
    const p = join(dir, rel);
    const st = lstatSync(p);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) {
      out.push(`${rel}/ ${mode}`);
      for (const name of readdirSync(p).sort()) visit(rel === '' ? name : `${rel}/${name}`);
    } else out.push(`${rel} ${mode} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
  };
  visit('');
  return out;
}

/** {@link snapshot} without `.git`. */
const worktree = (dir: string) => snapshot(dir).filter((l) => !/^\.git[/ ]/.test(l));

/** A Dovecot-style fs-root tree that lacks markers and a `tmp/`, with a `.gitignore` of its own. */
function makeTree(dir: string): void {
  for (const d of ['cur', 'new', 'tmp', 'Work/cur', 'Work/new', 'Lists/rust/cur', 'Lists/rust/new', 'Lists/rust/tmp'])
    mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'cur', '1700000000.M1P1.h:2,S'), 'Subject: a\n\nx\n');
  writeFileSync(join(dir, 'Work', 'new', '1700000001.M1P1.h'), 'Subject: b\n\nx\n');
  writeFileSync(join(dir, 'Lists', 'rust', 'cur', '1700000002.M1P1.h:2,'), 'Subject: c\n\nx\n');
  writeFileSync(join(dir, 'dovecot-uidlist'), '3 V1 N4\n');
  writeFileSync(join(dir, '.gitignore'), 'mine\n', { mode: 0o640 });
  chmodSync(dir, 0o750);
}

/**
 * A `git` that logs its calls to `$SHIM_LOG`, fails the `$SHIM_FAIL_AT`-th one and
 * SIGKILLs its caller (mailgit) at the `$SHIM_KILL_AT`-th one (0: none).
 */
function gitShim(dir: string): string {
  const bin = join(dir, 'shim');
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, 'git'),
    `#!/bin/sh\nn=$(( $(cat "$SHIM_LOG" 2>/dev/null | wc -l) + 1 ))\necho "$1" >> "$SHIM_LOG"\n` +
      `if [ "$n" = "$SHIM_FAIL_AT" ]; then echo "fatal: injected failure" >&2; exit 128; fi\n` +
      `if [ "$n" = "$SHIM_KILL_AT" ]; then kill -9 $PPID; exit 137; fi\nexec ${realGit} "$@"\n`,
    { mode: 0o755 },
  );
  return bin;
}

describe('init is all or nothing', () => {
  test('a failure injected at every git call leaves an adopted, an empty and a missing directory as they were', () => {
    const base = tempDir('mailgit-init-atomic-');
    const bin = gitShim(base);
    const env = (log: string, failAt: number) => ({ PATH: `${bin}:${process.env.PATH}`, SHIM_LOG: log, SHIM_FAIL_AT: String(failAt) });
    const cases: { name: string; make: (d: string) => void }[] = [
      { name: 'adopted tree', make: makeTree },
      { name: 'empty directory', make: (d) => mkdirSync(d, { mode: 0o755 }) },
      { name: 'missing directory', make: () => undefined },
    ];
    for (const c of cases) {
      const clean = join(base, `${c.name}-clean`.replace(/ /g, '-'));
      c.make(clean);
      const log = join(base, `${c.name}.log`);
      const ok = mailgit(['init', clean, '--name', 'r'], { env: env(log, 0) });
      expect(ok.code, ok.stderr).toBe(0);
      const calls = readFileSync(log, 'utf8').trim().split('\n');
      expect(calls.length, c.name).toBeGreaterThan(1);
      let failed = 0;
      for (let k = 1; k <= calls.length; k++) {
        const dir = join(base, `${c.name}-${k}`.replace(/ /g, '-'));
        c.make(dir);
        const before = snapshot(dir);
        const r = mailgit(['init', dir, '--name', 'r'], { env: env(join(base, `${c.name}-${k}.log`), k) });
        if (r.code === 0) {
          // The failed call was not needed for the repo (packing is only a warning): the repo is whole.
          gitOut(dir, ['fsck', '--strict']);
          expect(gitOut(dir, ['ls-tree', '-r', '--name-only', 'HEAD'])).toContain('.mailgit/config.json');
          continue;
        }
        failed++;
        expect(r.stderr.trim().split('\n'), `${c.name}, call ${k} (${calls[k - 1]})`).toHaveLength(1);
        expect(snapshot(dir), `${c.name}, call ${k} (${calls[k - 1]})`).toEqual(before);
        const again = mailgit(['init', dir, '--name', 'r']);
        expect(again.code, again.stderr).toBe(0);
      }
      expect(failed, c.name).toBeGreaterThan(1);
    }
  });

  test('init killed at every git call: the rerun finishes it as if it had never been interrupted', () => {
    const base = tempDir('mailgit-init-kill-');
    const bin = gitShim(base);
    const env = (log: string, killAt: number) => ({ PATH: `${bin}:${process.env.PATH}`, SHIM_LOG: log, SHIM_KILL_AT: String(killAt) });
    const clean = join(base, 'clean');
    makeTree(clean);
    const log = join(base, 'clean.log');
    expect(mailgit(['init', clean, '--name', 'r'], { env: env(log, 0) }).code).toBe(0);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    const want = gitOut(clean, ['ls-tree', '-r', 'HEAD']);
    let killed = 0;
    for (let k = 1; k <= calls.length; k++) {
      for (const kind of ['adopt', 'new']) {
        const dir = join(base, `${kind}-${k}`);
        if (kind === 'adopt') makeTree(dir);
        const r = mailgit(['init', dir, '--name', 'r'], { env: env(join(base, `${kind}-${k}.log`), k) });
        if (r.code !== 0) killed++;
        const committed = r.code !== 0 && gitRun(dir, ['rev-parse', '--verify', '-q', 'refs/heads/main']) === 0;
        const again = mailgit(['init', dir, '--name', 'r']);
        if (r.code === 0) {
          expect(again.code, `${kind}, call ${k}: ${again.stderr}`).toBe(73); // it had finished: "already a mail repo"
          continue;
        }
        if (committed) {
          // Killed after the first commit (the index being written): the repo is whole; the
          // rerun says so, and the journal is gone.
          expect(again.code, `${kind}, killed at call ${k} after the commit: ${again.stderr}`).toBe(73);
          if (kind === 'adopt') expect(gitOut(dir, ['ls-tree', '-r', 'HEAD'])).toBe(want);
          expect(existsSync(join(dir, '.git', 'mailgit', 'init.json'))).toBe(false);
          expect(mailgit(['status', '-C', dir]).code).toBe(0);
          continue;
        }
        expect(again.code, `${kind}, killed at call ${k} (${calls[k - 1]}): ${again.stderr}`).toBe(0);
        gitOut(dir, ['fsck', '--strict']);
        if (kind === 'adopt') {
          expect(gitOut(dir, ['ls-tree', '-r', 'HEAD']), `killed at call ${k}`).toBe(want);
          // The same tree as an uninterrupted init made (the killed run's leftovers are gone).
          expect(worktree(dir), `killed at call ${k}`).toEqual(worktree(clean));
          expect(existsSync(join(dir, '.mailgit-init'))).toBe(false);
        }
      }
    }
    expect(killed).toBeGreaterThan(2);
  });

  test.skipIf(isRoot && !haveSetpriv)('a directory it cannot write is refused before anything is written (exit 77, one line)', () => {
    const base = tempDir('mailgit-init-perm-');
    chmodSync(base, 0o755);
    const uid = isRoot ? 61003 : process.getuid!();
    const run = (args: string[]) => {
      const cmd = isRoot ? ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'env', `HOME=${base}`] : ['env', `HOME=${base}`];
      const r = spawnSync(cmd[0]!, [...cmd.slice(1), process.execPath, BIN, ...args], { encoding: 'utf8' });
      return { code: r.status, stderr: r.stderr };
    };
    const own = (dir: string) => {
      if (isRoot) execFileSync('chown', ['-R', `${uid}:${uid}`, dir]);
    };
    const cases: { name: string; dir: string; lock: string; names: RegExp }[] = [
      { name: 'read-only root', dir: join(base, 'a'), lock: '', names: /cannot write .*\/a \(permission denied\)/ },
      { name: 'read-only folder', dir: join(base, 'b'), lock: 'Work', names: /cannot write .*\/b\/Work \(permission denied\)/ },
    ];
    for (const c of cases) {
      makeTree(c.dir);
      own(c.dir);
      chmodSync(join(c.dir, c.lock), 0o555);
      const before = snapshot(c.dir);
      const r = run(['init', c.dir]);
      expect(r.code, `${c.name}: ${r.stderr}`).toBe(77);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(c.names);
      expect(r.stderr).toMatch(/nothing was changed/);
      expect(snapshot(c.dir)).toEqual(before);
    }
    // A new repo under a parent it cannot write: nothing is made.
    const parent = join(base, 'locked');
    mkdirSync(parent, { mode: 0o555 });
    own(parent);
    const r = run(['init', join(parent, 'sub', 'mail')]);
    expect(r.code, r.stderr).toBe(77);
    expect(readdirSync(parent)).toEqual([]);
  });
});
