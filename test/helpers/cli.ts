/**
 * Test helpers: run the built CLI as a user would, and make throwaway directories.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Absolute path of the CLI entry point. */
export const BIN = resolve(__dirname, '../../bin/mailgit.js');

/** What a CLI run printed and returned. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `mailgit ARGS` synchronously in `cwd` and returns its output and exit status. */
export function mailgit(args: string[], opts: { cwd?: string; input?: string | Buffer; env?: Record<string, string> } = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? process.cwd(),
    input: opts.input,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `git ARGS` in `cwd` and returns stdout (throws on failure). */
export function gitOut(cwd: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Makes a fresh temporary directory. */
export function tempDir(prefix = 'mailgit-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
