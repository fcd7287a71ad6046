/**
 * `mailgit clone SRC [DIR] [--name REPLICA]`
 */
import { resolve } from 'node:path';
import { cloneRepo } from '../sync/clone.js';
import type { GlobalArgs } from './context.js';
import { baseDir, printJson, wantProgress } from './context.js';

interface CloneArgs extends GlobalArgs {
  src: string;
  dir?: string;
  name?: string;
}

function defaultDir(src: string): string {
  const base = src
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .split(/[/:]/)
    .pop();
  return base && base !== '' ? base : 'mail';
}

/** The `clone` verb: a new replica from any git URL or path. */
export async function handler(argv: CloneArgs): Promise<void> {
  const cwd = await baseDir(argv);
  const dir = resolve(cwd, argv.dir ?? defaultDir(argv.src));
  const src = /^[a-z][a-z0-9+.-]*:\/\//i.test(argv.src) || /^[^/]+@[^/]+:/.test(argv.src) ? argv.src : resolve(cwd, argv.src);
  const bar = wantProgress(argv) ? (await import('../fetch/progress.js')).gitProgress('clone') : undefined;
  let repo;
  try {
    repo = await cloneRepo(src, dir, { name: argv.name, onGitProgress: bar?.onStderr });
  } finally {
    bar?.stop();
  }
  if (argv.json) printJson({ root: repo.root, replica: repo.replica, layout: repo.layout });
  else console.log(`Cloned into ${repo.root} (replica ${repo.replica}, layout ${repo.layout})`);
}
