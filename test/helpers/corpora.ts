/**
 * Where the shared mail corpora are. Every test that reads them finds them here, the
 * same way: `MAILGIT_CORPORA` when set, else `../shared/corpora` beside the repository —
 * beside this checkout, or, in a linked `git worktree`, beside the main working tree
 * (the repository the worktree belongs to). When they are not found, tests that need
 * them skip, except under `CI=true`, where a missing corpus fails the run: CI must
 * never pass by testing nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The root of this checkout. */
const CHECKOUT = resolve(__dirname, '../..');

/** The main working tree of the repository this checkout belongs to (itself unless a linked worktree). */
function mainWorkTree(): string {
  const r = spawnSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: CHECKOUT, encoding: 'utf8' });
  return r.status === 0 ? dirname(r.stdout.trim()) : CHECKOUT;
}

/** The places looked at, in order. */
export function corporaCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.MAILGIT_CORPORA) return [resolve(env.MAILGIT_CORPORA)];
  return [...new Set([CHECKOUT, mainWorkTree()].map((root) => resolve(root, '../shared/corpora')))];
}

/**
 * The corpora directory, or null when it is missing (tests then skip). Under `CI=true`
 * a missing corpus throws, so that the run fails instead of skipping.
 */
export function findCorpora(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = corporaCandidates(env);
  const found = candidates.find((d) => existsSync(d) && statSync(d).isDirectory());
  if (found) return found;
  if (env.CI === 'true') throw new Error(`the mail corpora are missing (looked in ${candidates.join(', ')}); set MAILGIT_CORPORA`);
  return null;
}

/** The corpora directory of this run (null: not found, tests that need it skip). */
export const CORPORA = findCorpora();

/** Every regular file under `dir`, recursively, sorted by path. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}
