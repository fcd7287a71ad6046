/**
 * What a replica is to its peers: a random id that no other replica shares (names are
 * for people and may repeat), and a marker ref that tells every pusher "this repo has a
 * Maildir checked out: never push to my branch, push to my incoming ref".
 */
import { randomBytes } from 'node:crypto';
import { git } from '../git/run.js';

/**
 * The ref every replica with a work tree holds (pointing at a small blob that says so).
 * Pushers see it in the ref advertisement of their fetch, over any transport, so the
 * peer's own `receive.denyCurrentBranch` never decides where a push lands.
 */
export const WORKTREE_REF = 'refs/mailgit/worktree';

const MARKER_TEXT = 'mailgit replica with a Maildir checked out: push to refs/mailgit/incoming/<id>/<name>, never to main\n';

/** A new replica id: 64 random bits as 16 hex digits (collision-free among any one person's replicas). */
export function newReplicaId(): string {
  return randomBytes(8).toString('hex');
}

/** True for a string that {@link newReplicaId} could have made. */
export function isReplicaId(s: string): boolean {
  return /^[0-9a-f]{16}$/.test(s);
}

/** Creates {@link WORKTREE_REF} in the repo at `root` (two git processes; done once per repo). */
export async function markWorktree(root: string): Promise<void> {
  const blob = (await git(['hash-object', '-w', '--stdin'], { cwd: root, input: MARKER_TEXT })).stdout.toString('utf8').trim();
  await git(['update-ref', WORKTREE_REF, blob], { cwd: root });
}
