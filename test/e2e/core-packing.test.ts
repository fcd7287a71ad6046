/**
 * `.git` stays small as flag changes are recorded: each record's new `cur/` tree is
 * folded into the history pack as a delta, in the foreground for small work and in a
 * detached process (like git's `gc --auto`) for big work. Both leave a repo that
 * `git fsck --strict` accepts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { openRepo } from '../../src/repo/repo.js';
import { RecordSession } from '../../src/repo/record.js';
import { withRepoLock } from '../../src/repo/lock.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true, maxRetries: 5 });
});

function bytesOf(p: string): number {
  const st = lstatSync(p);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const e of readdirSync(p)) total += bytesOf(join(p, e));
  return total;
}

/** An adopted repo with `n` read messages in INBOX/cur (names of ~40 bytes, as real ones). */
function repoWith(n: number, env: Record<string, string> = {}): string {
  const base = tempDir('mailgit-pack-');
  dirs.push(base);
  const root = join(base, 'mail');
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(root, 'INBOX', sub), { recursive: true });
  for (let i = 0; i < n; i++) {
    const name = `${1600000000 + i}.M${i}P${1000 + i}.host.example,S=${300 + i}:2,S`;
    writeFileSync(join(root, 'INBOX', 'cur', name), `Message-ID: <${i}@example>\nSubject: message ${i}\n\nbody ${i}\n`);
  }
  const r = mailgit(['init', root, '--name', 'packer'], { env });
  expect(r.code, r.stderr).toBe(0);
  return root;
}

/** Toggles the F flag of the i-th message (by sorted name) and records it. */
function flagAndCommit(root: string, i: number, env: Record<string, string> = {}): void {
  const cur = join(root, 'INBOX', 'cur');
  const names = readdirSync(cur).sort();
  const name = names[(i * 7919) % names.length]!;
  const next = name.endsWith('FS') ? name.replace(/FS$/, 'S') : name.replace(/:2,S$/, ':2,FS');
  renameSync(join(cur, name), join(cur, next));
  const r = mailgit(['commit'], { cwd: root, env });
  expect(r.code, r.stderr).toBe(0);
}

function packState(root: string): { packs: number; loose: number } {
  const lines = Object.fromEntries(
    gitOut(root, ['count-objects', '-v'])
      .trim()
      .split('\n')
      .map((l) => l.split(': ') as [string, string]),
  );
  return { packs: Number(lines.packs), loose: Number(lines.count) };
}

describe('.git growth per recorded flag change', () => {
  it('stays under 10 KB per commit over 12 commits at 1,500 messages, and fsck is clean', () => {
    const root = repoWith(1500);
    flagAndCommit(root, 0);
    const before = bytesOf(join(root, '.git'));
    for (let i = 1; i <= 12; i++) flagAndCommit(root, i);
    const perCommit = (bytesOf(join(root, '.git')) - before) / 12;
    // A full copy of this cur/ tree is ~100 KB; a delta is a few hundred bytes.
    expect(perCommit).toBeLessThan(10 * 1024);
    expect(gitOut(root, ['rev-list', '--count', 'HEAD']).trim()).toBe('14');
    gitOut(root, ['fsck', '--strict', '--no-dangling']);
    expect(packState(root).packs).toBeLessThanOrEqual(4);
  });

  it('packs in a detached process when asked to, and that process leaves a valid, packed repo', async () => {
    const root = repoWith(1500, { MAILGIT_MAINTAIN: 'foreground' });
    flagAndCommit(root, 0, { MAILGIT_MAINTAIN: 'foreground' });
    const packsBefore = packState(root).packs;
    flagAndCommit(root, 1, { MAILGIT_MAINTAIN: 'off' });
    // With packing off, the record's own pack stays young.
    expect(packState(root).packs).toBe(packsBefore + 1);
    flagAndCommit(root, 2, { MAILGIT_MAINTAIN: 'background' });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (existsSync(join(root, '.git', 'mailgit', 'maintain.lock')) || packState(root).packs > 1)) {
      await new Promise((r) => setTimeout(r, 200));
    }
    // Every young pack was folded into the history pack by the detached process (at this
    // size everything, adopted mail included, fits in that one pack).
    expect(packState(root).packs).toBe(1);
    expect(existsSync(join(root, '.git', 'mailgit', 'maintain.lock'))).toBe(false);
    gitOut(root, ['fsck', '--strict', '--no-dangling']);
    expect(mailgit(['status', '--json'], { cwd: root }).stdout).toContain('"clean": true');
  });

  it('a session that packs on close (fetch) leaves the pack of each record young until it closes, then folds them once', async () => {
    const root = repoWith(1500, { MAILGIT_MAINTAIN: 'foreground' });
    flagAndCommit(root, 0, { MAILGIT_MAINTAIN: 'foreground' });
    const packsBefore = packState(root).packs;
    const previous = process.env.MAILGIT_MAINTAIN;
    process.env.MAILGIT_MAINTAIN = 'foreground';
    try {
      const repo = await openRepo(root);
      await withRepoLock(repo, { what: 'test' }, async (locked) => {
        const session = new RecordSession(repo, { packOnClose: true });
        for (let i = 1; i <= 3; i++) {
          const cur = join(root, 'INBOX', 'cur');
          const name = readdirSync(cur).sort()[i]!;
          renameSync(join(cur, name), join(cur, name.replace(/:2,S$/, ':2,FS')));
          expect(await session.record(locked, { message: `flag ${i}` })).not.toBeNull();
        }
        // Without packOnClose the first of these records would have folded its pack at once.
        expect(packState(root).packs).toBe(packsBefore + 3);
        await session.close();
      });
    } finally {
      if (previous === undefined) delete process.env.MAILGIT_MAINTAIN;
      else process.env.MAILGIT_MAINTAIN = previous;
    }
    expect(packState(root).packs).toBeLessThanOrEqual(packsBefore);
    gitOut(root, ['fsck', '--strict', '--no-dangling']);
  });
});
