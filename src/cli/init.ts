/**
 * `mailgit init [DIR] [--name REPLICA] [--layout fs|fs-root|maildir++|mbsync-legacy]`
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { initRepo } from '../repo/init.js';
import type { Layout } from '../maildir/layout.js';
import { describeLayout } from '../maildir/layout.js';
import type { GlobalArgs } from './context.js';
import { baseDir, printJson, wantProgress } from './context.js';
import { EX, MailgitError } from '../util/errors.js';

interface InitArgs extends GlobalArgs {
  dir?: string;
  name?: string;
  layout?: Layout;
}

/** The `init` verb: create an empty mail repo or adopt an existing Maildir tree. */
export async function handler(argv: InitArgs): Promise<void> {
  const dir = resolve(await baseDir(argv), argv.dir ?? '.');
  if ((await stat(dir).catch(() => null))?.isDirectory() === false)
    throw new MailgitError(`${dir} is a file: init wants a directory (a new one, or the Maildir tree to adopt)`, 'ENOTDIR', EX.CANTCREAT);
  const progress = wantProgress(argv) ? (await import('../fetch/progress.js')).barProgress({ unit: 'msgs', label: 'adopt' }) : undefined;
  let made;
  try {
    made = await initRepo(dir, { name: argv.name, layout: argv.layout, progress });
  } finally {
    progress?.stop();
  }
  const { repo, result, adopted, detected, warning } = made;
  if (warning) process.stderr.write(`mailgit: warning: ${warning}\n`);
  if (argv.json) {
    printJson({
      root: repo.root,
      replica: repo.replica,
      layout: repo.layout,
      detected,
      adopted,
      warning,
      commit: result?.commit ?? null,
      summary: result?.summary ?? [],
    });
    return;
  }
  console.log(`${adopted ? 'Adopted' : 'Created'} mail repo ${repo.root} (replica ${repo.replica}, layout ${repo.layout})`);
  if (adopted) console.log(`Layout ${repo.layout}${detected ? ' (detected)' : ''}: ${describeLayout(repo.layout)}`);
  for (const line of result?.summary ?? []) console.log(`  ${line}`);
}
