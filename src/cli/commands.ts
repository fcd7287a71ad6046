/**
 * The command table: one entry per verb, each in its own file.
 */
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './context.js';
import { initCommand } from './init.js';
import { cloneCommand } from './clone.js';
import { commitCommand } from './commit.js';
import { statusCommand } from './status.js';
import { logCommand } from './log.js';
import { syncCommand } from './sync.js';
import { demoCommand } from './demo.js';
import { fetchCommand } from './fetch.js';
import { accountCommand } from './account.js';
import { watchCommand } from './watch.js';
import { deliverCommand } from './deliver.js';

/** Every verb mailgit has. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const COMMANDS: CommandModule<GlobalArgs, any>[] = [initCommand, cloneCommand, commitCommand, statusCommand, logCommand, syncCommand, fetchCommand, accountCommand, demoCommand, watchCommand, deliverCommand];
