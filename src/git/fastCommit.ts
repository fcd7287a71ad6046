/**
 * Writing a commit that edits the branch's tree with one `git fast-import` process:
 * fast-import reads the parent's trees itself, rewrites only the directories on the
 * edited paths, writes trees and commit into one pack and moves the branch. Spawning a
 * process costs ~20 ms on the machines measured (docs/design.md), so this replaces the
 * `mktree` + `commit-tree` + `update-ref` of the general tree writer on the recording
 * path. The branch moves only as a fast-forward of the parent named here: a branch
 * that moved elsewhere meanwhile is left alone and the commit fails.
 */
import { spawn } from 'node:child_process';
import { gitEnv } from './run.js';
import { IoError, MailgitError, EX } from '../util/errors.js';
import type { TreeEdit } from './tree.js';

/** Who a mailgit commit is by (the trailers say which replica). */
export const COMMIT_IDENT = { name: 'mailgit', email: 'mailgit@localhost' } as const;

/** What {@link fastCommit} writes. */
export interface FastCommitInput {
  /** The ref to move (e.g. `refs/heads/main`). */
  ref: string;
  /** The parent commit, which the ref must still point to (null: a first commit). */
  parent: string | null;
  /** Path edits relative to the parent's tree. */
  edits: readonly TreeEdit[];
  /** The whole commit message. */
  message: string;
  /** Commit time in seconds since the epoch. */
  when: number;
}

/** Quotes a path for a fast-import command (C style; bytes ≥ 0x80 pass as they are). */
export function quotePath(path: string): string {
  let out = '"';
  for (const ch of path) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c < 0x20 || c === 0x7f) out += `\\${c.toString(8).padStart(3, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Builds the fast-import stream for one commit (pure; exported for tests). */
export function fastImportStream(input: FastCommitInput): Buffer {
  const msg = Buffer.from(input.message, 'utf8');
  const who = `${COMMIT_IDENT.name} <${COMMIT_IDENT.email}> ${Math.floor(input.when)} +0000`;
  const lines = [`commit ${input.ref}`, 'mark :1', `author ${who}`, `committer ${who}`, `data ${msg.length}`];
  const tail: string[] = [];
  if (input.parent) tail.push(`from ${input.parent}`);
  // Deletions first, so that a rename within a directory never sees both names.
  for (const e of input.edits) if (e.oid === null) tail.push(`D ${quotePath(e.path)}`);
  for (const e of input.edits) if (e.oid !== null) tail.push(`M ${e.mode ?? '100644'} ${e.oid} ${quotePath(e.path)}`);
  tail.push('', 'get-mark :1', 'done', '');
  return Buffer.concat([Buffer.from(lines.join('\n') + '\n'), msg, Buffer.from('\n' + tail.join('\n'))]);
}

/**
 * Writes one commit with `fast-import` and moves `ref` to it; returns the commit id.
 * Fails with a clear error when the ref no longer points to `parent` (nothing moves).
 */
export async function fastCommit(cwd: string, input: FastCommitInput): Promise<string> {
  // unpackLimit=0: keep even a 4-object import as a pack (no `unpack-objects` process, no
  // loose copy of a big tree); maintain.ts folds such young packs into the history pack.
  const args = ['-c', 'pack.compression=1', '-c', 'fastimport.unpackLimit=0', 'fast-import', '--quiet', '--done', '--date-format=raw'];
  const child = spawn('git', args, { cwd, env: gitEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.stdin.on('error', () => undefined);
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', (e) => reject(new IoError(`cannot run git: ${e.message}`)));
    child.on('close', (c) => resolve(c ?? 128));
    child.stdin.end(fastImportStream(input));
  });
  const stderr = Buffer.concat(err).toString('utf8');
  if (code !== 0) {
    if (/No space left on device/i.test(stderr)) throw new IoError(`disk full while committing: ${stderr.trim().split('\n').pop()}`, 'ENOSPC');
    if (/Not updating|does not contain/i.test(stderr)) throw new MailgitError(`${input.ref} moved while recording; nothing recorded, try again`, 'ERACE', EX.TEMPFAIL);
    throw new IoError(`git fast-import failed: ${stderr.trim().split('\n').pop() ?? `exit ${code}`}`, 'EGIT');
  }
  const oid = Buffer.concat(out).toString('utf8').trim();
  if (!/^[0-9a-f]{40,64}$/.test(oid)) throw new IoError(`git fast-import gave no commit id (${JSON.stringify(oid.slice(0, 80))})`, 'EGIT');
  return oid;
}
