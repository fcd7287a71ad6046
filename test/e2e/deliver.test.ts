/**
 * `mailgit deliver` as an MDA: what postfix's mailbox_command, procmail, fdm or getmail
 * run with one message on stdin, and the exit status they act on.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, gitOut, tempDir } from '../helpers/cli.js';
import { commitCount, headFiles, ls, message, run } from './clients-helpers.js';

function runAsync(args: string[], input: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (code) => resolve({ code: code ?? 128, stderr }));
    c.stdin.end(input);
  });
}

describe('mailgit deliver', () => {
  let repo: string;
  beforeAll(() => {
    repo = join(tempDir(), 'Mail');
    expect(run(['init', repo, '--name', 'desk']).code).toBe(0);
  }, 300_000);

  it('delivers stdin into INBOX/new and commits it; drops an mbox From_ line', () => {
    const before = commitCount(repo);
    const raw = message(1, 'hello');
    const r = run(['-C', repo, 'deliver', '--json'], { input: `From alice@example.org Mon Jan  1 00:00:00 2024\n${raw}` });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { path: string; commit: string };
    expect(out.path).toMatch(/^INBOX\/new\/\d+\.M\d+P\d+Q1\.[^/:]+$/);
    expect(readFileSync(join(repo, out.path), 'utf8')).toBe(raw);
    expect(commitCount(repo)).toBe(before + 1);
    expect(gitOut(repo, ['log', '-1', '--format=%s'])).toBe('INBOX: 1 delivered\n');
    expect(headFiles(repo)).toContain(out.path);
    expect(ls(repo, 'INBOX', 'tmp' as 'new')).toEqual([]);
  }, 300_000);

  it('--folder creates the folder; --flags delivers into cur/ with sorted :2,FLAGS', () => {
    const r = run(['-C', repo, 'deliver', '--folder', 'Lists/rust', '--flags', 'SF', '--json'], { input: message(2, 'list mail') });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { path: string };
    expect(out.path).toMatch(/^Lists\/rust\/cur\/.*:2,FS$/);
    expect(gitOut(repo, ['log', '-1', '--format=%B'])).toMatch(/Lists\/rust: 1 delivered, 1 folder created/);
    expect(headFiles(repo)).toContain('Lists/rust/maildirfolder');
  }, 300_000);

  it('exits 65 on empty input, 64 on bad options, 75 without a repo, delivering nothing', () => {
    const before = commitCount(repo);
    expect(run(['-C', repo, 'deliver'], { input: '' }).code).toBe(65);
    expect(run(['-C', repo, 'deliver'], { input: 'From someone Mon Jan  1 00:00:00 2024\n' }).code).toBe(65);
    expect(run(['-C', repo, 'deliver', '--flags', 'S,'], { input: message(3) }).code).toBe(64);
    expect(run(['-C', repo, 'deliver', '--folder', '../x'], { input: message(3) }).code).toBe(64);
    // No repo there (a home not mounted yet): temporary, never a bounce.
    expect(run(['-C', join(repo, '..', 'not-mounted'), 'deliver'], { input: message(3) }).code).toBe(75);
    expect(commitCount(repo)).toBe(before);
    expect(ls(repo, 'INBOX', 'tmp' as 'new')).toEqual([]);
    expect(ls(repo, 'INBOX', 'new')).toHaveLength(1);
  }, 300_000);

  it('with the lock held too long: exit 75 and nothing delivered (the MTA retries, no duplicate)', async () => {
    const holder = spawn('sleep', ['30']);
    const lock = join(repo, '.git', 'mailgit', 'lock');
    mkdirSync(join(repo, '.git', 'mailgit'), { recursive: true });
    writeFileSync(lock, `${holder.pid} sync\n`);
    try {
      const before = commitCount(repo);
      const inbox = ls(repo, 'INBOX', 'new');
      const t0 = Date.now();
      const r = run(['-C', repo, 'deliver', '--wait', '1'], { input: message(4, 'deferred') });
      expect(r.code).toBe(75);
      expect(r.stderr).toMatch(/locked by another mailgit \(pid \d+, sync\)/);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
      expect(ls(repo, 'INBOX', 'new')).toEqual(inbox);
      expect(ls(repo, 'INBOX', 'tmp' as 'new')).toEqual([]);
      expect(commitCount(repo)).toBe(before);

      // Released while the MDA waits: it delivers.
      const pending = runAsync(['-C', repo, 'deliver', '--wait', '20'], message(5, 'waited'));
      await new Promise((r) => setTimeout(r, 1500));
      unlinkSync(lock); // the holder finished
      const done = await pending;
      expect(done.stderr).toBe('');
      expect(done.code).toBe(0);
      expect(ls(repo, 'INBOX', 'new')).toHaveLength(inbox.length + 1);
      expect(commitCount(repo)).toBe(before + 1);
    } finally {
      holder.kill();
    }
  }, 300_000);

  it('parallel deliveries (procmail, postfix with concurrency) each get a unique name and a commit', async () => {
    const before = ls(repo, 'INBOX', 'new').length;
    const n = 4;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => runAsync(['-C', repo, 'deliver'], message(100 + i, `parallel ${i}`))));
    expect(results.map((r) => r.code)).toEqual(Array(n).fill(0));
    const names = ls(repo, 'INBOX', 'new');
    expect(names).toHaveLength(before + n);
    expect(new Set(names.map((x) => x.split(':')[0])).size).toBe(names.length);
    const st = JSON.parse(run(['-C', repo, 'status', '--json']).stdout) as { clean: boolean };
    expect(st.clean).toBe(true);
    for (const name of names) expect(headFiles(repo)).toContain(`INBOX/new/${name}`);
  }, 300_000);

  it('works as a postfix mailbox_command / procmail pipe through a shell', () => {
    const r = run(['-C', repo, 'deliver', '--folder', 'INBOX'], { input: message(200, 'via shell') });
    expect(r.code).toBe(0);
    const sh = spawn('sh', ['-c', `printf 'Subject: piped\\n\\nhi\\n' | "${process.execPath}" "${BIN}" -C "${repo}" deliver; echo "rc=$?"`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Promise<void>((resolve) => {
      let out = '';
      sh.stdout.on('data', (d: Buffer) => (out += d.toString()));
      sh.on('exit', () => {
        expect(out.trim()).toBe('rc=0');
        resolve();
      });
    });
  }, 300_000);
});
