/**
 * Permissions of what mailgit writes. New files and directories of a mail repo take the
 * owner and group bits of the repo's root directory, as Dovecot does for a mail tree; other
 * users never get any. A root mailgit created is `0700`, so files are `0600` and directories
 * `0700`; an adopted root keeps the mode it had, so a tree that gives its group access (a
 * Dovecot running as another user) keeps giving it to new mail too.
 *
 * The rule is applied once, as the process umask, when a repo is opened, created or cloned:
 * every write of mailgit and of the git processes it starts (checkout, fetch, fast-import)
 * follows it. Writers of work-tree files therefore ask for {@link MAIL_FILE_MODE} and
 * {@link MAIL_DIR_MODE} and let the umask narrow them; per-machine state under `.git/mailgit`
 * is written `0600` whatever the root says.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The mode work-tree files are created with before the umask narrows it. */
export const MAIL_FILE_MODE = 0o660;

/** The mode work-tree directories are created with before the umask narrows it. */
export const MAIL_DIR_MODE = 0o770;

/**
 * Returns the umask for a tree whose root directory has permission bits `rootMode`: the
 * owner always has full access, the group what the root gives it, others nothing.
 */
export function umaskFor(rootMode: number): number {
  return 0o777 & ~((rootMode & 0o070) | 0o700);
}

/**
 * Sets the process umask from the mode of the repo root `root` (see the module comment)
 * and returns the root's permission bits. Costs one `stat`.
 */
export async function useTreeUmask(root: string): Promise<number> {
  const mode = (await stat(root)).mode & 0o7777;
  process.umask(umaskFor(mode));
  return mode;
}

/**
 * Returns one line warning that other users can read mail under `root`, or `null`. Mail is
 * readable by others when they can enter every directory from the root down to a folder's
 * `cur/` or `new/` (the others' execute bit) and list that one (its others' read bit).
 * `folders` are the repo-relative folder directories. One `stat` per directory checked.
 */
export async function mailExposure(root: string, folders: Iterable<string>): Promise<string | null> {
  const modeOf = async (rel: string): Promise<number> => (await stat(join(root, rel)).catch(() => null))?.mode ?? 0;
  if (((await modeOf('')) & 0o001) === 0) return null;
  for (const folder of folders) {
    const parts = folder === '' ? [] : folder.split('/');
    let open = true;
    for (let i = 1; i <= parts.length && open; i++) open = ((await modeOf(parts.slice(0, i).join('/'))) & 0o001) !== 0;
    for (const sub of open ? ['cur', 'new'] : []) {
      const rel = folder === '' ? sub : `${folder}/${sub}`;
      const mode = await modeOf(rel);
      if ((mode & 0o005) === 0o005) {
        const octal = (mode & 0o777).toString(8).padStart(4, '0');
        return `mail in ${root} is readable by other users (${rel} is mode ${octal}); mailgit keeps the permissions it found and gives others no access to what it writes`;
      }
    }
  }
  return null;
}
