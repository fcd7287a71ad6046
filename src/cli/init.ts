/**
 * `mailgit init [DIR] [--name REPLICA] [--layout fs|maildir++]`
 */
import type { Argv, CommandModule } from 'yargs';
import { resolve } from 'node:path';
import { initRepo } from '../repo/init.js';
import { LAYOUTS } from '../maildir/layout.js';
import type { Layout } from '../maildir/layout.js';
import type { GlobalArgs } from './context.js';
import { printJson } from './context.js';

interface InitArgs extends GlobalArgs {
  dir?: string;
  name?: string;
  layout?: Layout;
}

/** The `init` verb: create an empty mail repo or adopt an existing Maildir tree. */
export const initCommand: CommandModule<GlobalArgs, InitArgs> = {
  command: 'init [dir]',
  describe: 'create a mail repo, or adopt the Maildir tree in DIR',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('dir', { type: 'string', describe: 'directory (default: current)' })
      .option('name', { type: 'string', describe: 'replica name of this machine (default: host name)' })
      .option('layout', { choices: LAYOUTS, describe: 'folder layout (detected when adopting)' }) as Argv<InitArgs>,
  handler: async (argv) => {
    const dir = resolve(argv.C ?? process.cwd(), argv.dir ?? '.');
    const { repo, result, adopted } = await initRepo(dir, { name: argv.name, layout: argv.layout });
    if (argv.json) {
      printJson({ root: repo.root, replica: repo.replica, layout: repo.layout, adopted, commit: result?.commit ?? null, summary: result?.summary ?? [] });
      return;
    }
    console.log(`${adopted ? 'Adopted' : 'Created'} mail repo ${repo.root} (replica ${repo.replica}, layout ${repo.layout})`);
    for (const line of result?.summary ?? []) console.log(`  ${line}`);
  },
};
