/**
 * Commits and refs with plumbing: `commit-tree`, `update-ref` as a compare-and-swap,
 * and the `Mailgit-*` trailers that the merge reads.
 */
import { git, gitText } from './run.js';
import { IoError } from '../util/errors.js';

/** The branch every mail repo uses ({@link MAIN}). */
export { MAIN as BRANCH } from '../store/types.js';

/** Trailers carried by every mailgit commit. */
export interface Trailers {
  replica: string;
  clock: number;
}

/** Returns the commit HEAD points to, or `null` in a repo with no commit yet. */
export async function readHead(cwd: string): Promise<string | null> {
  const r = await git(['rev-parse', '--verify', '-q', 'HEAD^{commit}'], { cwd, okCodes: [1] });
  const s = r.stdout.toString('utf8').trim();
  return r.code === 0 && s !== '' ? s : null;
}

/** A commit's id, tree and clock (null when it carries no `Mailgit-Clock`). */
export interface HeadInfo {
  commit: string;
  tree: string;
  clock: number | null;
}

/**
 * Reads a commit object's tree and clock (the `Mailgit-Clock` trailer of its message's last
 * paragraph; null without one, as after a user's plain `git commit`).
 */
export function parseCommitInfo(commit: string, data: Buffer): HeadInfo {
  const text = data.toString('utf8');
  const tree = /^tree ([0-9a-f]{40,64})$/m.exec(text)?.[1];
  if (!tree) throw new IoError(`commit ${commit} has no tree`, 'EBADCOMMIT');
  const body = text.slice(text.indexOf('\n\n') + 2).replace(/\s+$/, '');
  const lastParagraph = body.slice(body.lastIndexOf('\n\n') + 1);
  const m = /^Mailgit-Clock:[ \t]*(\d+)[ \t]*$/m.exec(lastParagraph);
  const clock = m ? Number(m[1]!) : null;
  return { commit, tree, clock: clock !== null && Number.isSafeInteger(clock) ? clock : null };
}

/** Resolves a ref or revision to a commit id, or `null` when it does not exist. */
export async function resolveCommit(cwd: string, rev: string): Promise<string | null> {
  const r = await git(['rev-parse', '--verify', '-q', `${rev}^{commit}`], { cwd, okCodes: [1, 128] });
  const s = r.stdout.toString('utf8').trim();
  return r.code === 0 && s !== '' ? s : null;
}

/** Formats a commit message: subject, optional body, then the trailers (none without `t`). */
export function formatMessage(subject: string, body: string, t?: Trailers): string {
  const parts = [subject.trim()];
  if (body.trim() !== '') parts.push(body.trim());
  if (t) parts.push(`Mailgit-Replica: ${t.replica}\nMailgit-Clock: ${t.clock}`);
  return `${parts.join('\n\n')}\n`;
}

/** What {@link commitTree} writes: a tree, its parents, the message, and the time in ms (default now). */
export interface CommitObject {
  tree: string;
  parents: readonly string[];
  message: string;
  time?: number | undefined;
}

/** Writes a commit object and returns its id (refs are not touched). */
export async function commitTree(cwd: string, { tree, parents, message, time }: CommitObject): Promise<string> {
  const args = ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-F', '-'];
  const when: Record<string, string> =
    time === undefined ? {} : { GIT_AUTHOR_DATE: `@${Math.floor(time / 1000)} +0000`, GIT_COMMITTER_DATE: `@${Math.floor(time / 1000)} +0000` };
  return gitText(args, {
    cwd,
    input: message,
    env: {
      GIT_AUTHOR_NAME: 'mailgit',
      GIT_AUTHOR_EMAIL: 'mailgit@localhost',
      GIT_COMMITTER_NAME: 'mailgit',
      GIT_COMMITTER_EMAIL: 'mailgit@localhost',
      ...when,
    },
  });
}

/** A compare-and-swap of one ref for {@link updateRef}: `oldOid` null means the ref must not exist. */
export interface RefUpdate {
  ref: string;
  newOid: string;
  oldOid: string | null;
  /** The reflog message. */
  reason: string;
}

/** Moves a ref from `oldOid` to `newOid` atomically; fails if it moved meanwhile. */
export async function updateRef(cwd: string, { ref, newOid, oldOid, reason }: RefUpdate): Promise<void> {
  await git(['update-ref', '-m', reason, ref, newOid, oldOid ?? '0'.repeat(40)], { cwd });
}

/** Returns the tree id of a commit. */
export async function treeOf(cwd: string, commit: string): Promise<string> {
  return gitText(['rev-parse', `${commit}^{tree}`], { cwd });
}
