/**
 * A repository another user owns: git refuses to work in it ("dubious ownership"), and
 * every git mailgit runs there would fail with a line that says nothing to a person. One
 * `stat` finds it first; git's own `safe.directory` setting is asked only then.
 */
import { stat } from 'node:fs/promises';
import { gitText } from '../git/run.js';
import { PermissionError } from '../util/errors.js';

/**
 * Throws a {@link PermissionError} (77) when `root` belongs to another user and git's
 * `safe.directory` does not allow it; `after` ends the message (what was or was not done).
 */
export async function checkOwner(root: string, after = ''): Promise<void> {
  const owner = (await stat(root)).uid;
  if (owner === process.geteuid?.()) return;
  const safe = (await gitText(['config', '--global', '--get-all', 'safe.directory'], { cwd: '/', okCodes: [1] })).split('\n');
  if (safe.includes('*') || safe.includes(root)) return;
  throw new PermissionError(
    `${root} belongs to uid ${owner}, not to you: git refuses a repository owned by another user; run mailgit as that user, or declare it with: git config --global --add safe.directory ${root}${after}`,
  );
}
