/**
 * `mailgit clone SRC [DIR] [--name REPLICA]`
 */
import type { Argv, CommandModule } from 'yargs';
import { resolve } from 'node:path';
import { cloneRepo } from '../sync/clone.js';
import type { GlobalArgs } from './context.js';
import { printJson } from './context.js';

interface CloneArgs extends GlobalArgs {
  src: string;
  dir?: string;
  name?: string;
}

function defaultDir(src: string): string {
  const base = src.replace(/\/+$/, '').replace(/\.git$/, '').split(/[/:]/).pop();
  return base && base !== '' ? base : 'mail';
}

/** The `clone` verb: a new replica from any git URL or path. */
export const cloneCommand: CommandModule<GlobalArgs, CloneArgs> = {
  command: 'clone <src> [dir]',
  describe: 'make a new replica from a git URL or path',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('src', { type: 'string', demandOption: true })
      .positional('dir', { type: 'string' })
      .option('name', { type: 'string', describe: 'replica name of this machine (default: host name)' }) as Argv<CloneArgs>,
  handler: async (argv) => {
    const cwd = argv.C ?? process.cwd();
    const dir = resolve(cwd, argv.dir ?? defaultDir(argv.src));
    const src = /^[a-z][a-z0-9+.-]*:\/\//i.test(argv.src) || /^[^/]+@[^/]+:/.test(argv.src) ? argv.src : resolve(cwd, argv.src);
    const repo = await cloneRepo(src, dir, { name: argv.name });
    if (argv.json) printJson({ root: repo.root, replica: repo.replica, layout: repo.layout });
    else console.log(`Cloned into ${repo.root} (replica ${repo.replica}, layout ${repo.layout})`);
  },
};
