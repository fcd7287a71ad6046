/**
 * `restore --folder` on a terminal shows the shared progress bar (src/fetch/progress.ts)
 * while it writes the messages back; without one (cron, a pipe) it prints no bar. The
 * terminal is a real pseudo-terminal (util-linux `script`).
 */
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, mailgit, tempDir } from '../helpers/cli.js';

/** A repo whose INBOX held `n` messages one commit ago and holds none now. */
function emptiedInbox(n: number): string {
  const dir = join(tempDir('mailgit-restore-bar-'), 'repo');
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, 'INBOX', sub), { recursive: true });
  for (let i = 0; i < n; i++)
    writeFileSync(join(dir, 'INBOX/cur', `17000000${i}.M${i}P1.host:2,S`), `Subject: m${i}\nMessage-ID: <bar.${i}@example.org>\n\nbody ${i}\n`);
  expect(mailgit(['init', dir, '--name', 'bar']).code).toBe(0);
  rmSync(join(dir, 'INBOX/cur'), { recursive: true });
  mkdirSync(join(dir, 'INBOX/cur'));
  expect(mailgit(['-C', dir, 'commit']).code).toBe(0);
  return dir;
}

describe('restore --folder progress', () => {
  test('a bar on a terminal, counting every message written back; none without a terminal', () => {
    const n = 300;
    const dir = emptiedInbox(n);
    const cmd = `${process.execPath} ${BIN} -C ${dir} restore --folder INBOX --as-of HEAD~1`;
    const tty = spawnSync('script', ['-qefc', cmd, '/dev/null'], { encoding: 'utf8' });
    expect(tty.status, tty.stdout).toBe(0);
    expect(tty.stdout).toMatch(new RegExp(`restore \\[[^\\]]*\\] ${n}/${n} msgs`));
    expect(readdirSync(join(dir, 'INBOX/cur')).length).toBe(n);

    const again = emptiedInbox(n);
    const piped = mailgit(['-C', again, 'restore', '--folder', 'INBOX', '--as-of', 'HEAD~1']);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toMatch(/INBOX: 300 restored/);
  }, 120_000);
});
