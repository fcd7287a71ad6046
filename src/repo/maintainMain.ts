/**
 * The detached maintenance process that {@link scheduleMaintenance} starts:
 * `node maintainMain.js ROOT GITDIR`. It packs until nothing is due and exits; it prints
 * nothing (its output goes nowhere) and exits 0 even when packing fails, since the next
 * record retries.
 */
import { maintainUntilDone } from './maintenance.js';

const [root, gitDir] = process.argv.slice(2);
if (root && gitDir) await maintainUntilDone({ root, gitDir }).catch(() => undefined);
