/**
 * Writing a commit that edits the branch's tree with one `git fast-import` process:
 * fast-import reads the parent's trees itself, rewrites only the directories on the
 * edited paths, writes trees and commit into one pack and moves the branch. Spawning a
 * process costs ~20 ms on the machines measured (docs/design.md), so this replaces the
 * `mktree` + `commit-tree` + `update-ref` of the general tree writer on the recording
 * path. The branch moves only as a fast-forward of the parent named here: a branch
 * that moved elsewhere meanwhile is left alone and the commit fails.
 *
 * `fastimport.unpackLimit=0` keeps even a 4-object import as a pack (no `unpack-objects`
 * process, no loose copy of a big tree): maintain.ts folds such young packs into the
 * history pack. `pack.compression=1`, because that packing recompresses anyway.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { GitError, heldLock, spawnGit } from './run.js';
import { IoError, RaceError } from '../util/errors.js';
import { editTree } from './tree.js';
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
  /**
   * The new root tree, already written (a bulk commit, see {@link BULK_EDITS}): the
   * commit takes it whole and `edits` are not sent.
   */
  tree?: string;
  /**
   * The number of entries the parent's tree has in each edited directory, where the
   * caller knows it (a record's scan read them): it decides between fast-import's own
   * tree rewriting and a bulk commit ({@link isBulk}).
   */
  dirSizes?: ReadonlyMap<string, number>;
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

/**
 * Builds the fast-import commands for one commit (pure; exported for tests): the commit
 * as mark `:mark`, then (for a long-lived importer) a `checkpoint`, which finishes the
 * pack and moves the ref, then `get-mark`, whose answer therefore comes once both are done.
 */
export function fastImportStream(input: FastCommitInput, mark = 1, opts: { checkpoint?: boolean; done?: boolean } = { done: true }): Buffer {
  const msg = Buffer.from(input.message, 'utf8');
  const who = `${COMMIT_IDENT.name} <${COMMIT_IDENT.email}> ${Math.floor(input.when)} +0000`;
  const lines = [`commit ${input.ref}`, `mark :${mark}`, `author ${who}`, `committer ${who}`, `data ${msg.length}`];
  const tail: string[] = [];
  if (input.parent) tail.push(`from ${input.parent}`);
  if (input.tree) tail.push(`M 040000 ${input.tree} ""`);
  else {
    // Deletions first, so that a rename within a directory never sees both names.
    for (const e of input.edits) if (e.oid === null) tail.push(`D ${quotePath(e.path)}`);
    for (const e of input.edits) if (e.oid !== null) tail.push(`M ${e.mode ?? '100644'} ${e.oid} ${quotePath(e.path)}`);
  }
  tail.push('');
  if (opts.checkpoint) tail.push('checkpoint');
  tail.push(`get-mark :${mark}`);
  if (opts.done) tail.push('done');
  tail.push('');
  return Buffer.concat([Buffer.from(`${lines.join('\n')}\n`), msg, Buffer.from(`\n${tail.join('\n')}`)]);
}

/** The arguments every importer runs with (see the module comment and docs/design.md). */
const IMPORT_ARGS = ['-c', 'pack.compression=1', '-c', 'fastimport.unpackLimit=0', 'fast-import', '--quiet', '--done', '--date-format=raw'];

function importFailure(stderr: string, ref: string, code: number | null): Error {
  if (/No space left on device/i.test(stderr)) return new IoError(`disk full while committing: ${stderr.trim().split('\n').pop()}`, 'ENOSPC');
  if (heldLock(stderr)) return new GitError(['fast-import'], stderr, code ?? 128);
  if (/Not updating|does not contain/i.test(stderr)) return new RaceError(`${ref} moved while recording; nothing recorded, try again`);
  return new IoError(`git fast-import failed: ${stderr.trim().split('\n').pop() || `exit ${code ?? 'signal'}`}`, 'EGIT');
}

/**
 * A long-lived `git fast-import` for a process that records again and again
 * (`mailgit watch`): no process start per record, and the branch's trees stay loaded
 * between commits. Each commit ends with a `checkpoint` (pack finished and fsynced, ref
 * moved). fast-import only warns when a checkpoint cannot move the ref, so the caller
 * must check that the ref points to the returned commit (record.ts does, through its
 * `cat-file`), and {@link FastCommitter.close} a committer that failed.
 */
export class FastCommitter {
  private child: ChildProcessWithoutNullStreams | null = null;
  private mark = 0;
  private out = '';
  private err = '';
  private waiting: { resolve: (oid: string) => void; reject: (e: Error) => void } | null = null;
  private broken: Error | null = null;

  /** Prepares an importer for repo `cwd` (git starts at the first commit). */
  constructor(private readonly cwd: string) {}

  private start(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawnGit(this.cwd, IMPORT_ARGS);
    child.stdout.on('data', (d: Buffer) => {
      this.out += d.toString('utf8');
      const nl = this.out.indexOf('\n');
      if (nl < 0 || !this.waiting) return;
      const oid = this.out.slice(0, nl).trim();
      this.out = this.out.slice(nl + 1);
      const w = this.waiting;
      this.waiting = null;
      if (/^[0-9a-f]{40,64}$/.test(oid)) w.resolve(oid);
      else w.reject(new IoError(`git fast-import gave no commit id (${JSON.stringify(oid.slice(0, 80))})`, 'EGIT'));
    });
    child.stderr.on('data', (d: Buffer) => (this.err += d.toString('utf8')));
    const fail = (e: Error) => {
      this.broken ??= e;
      this.waiting?.reject(e);
      this.waiting = null;
    };
    child.on('error', (e) => fail(new IoError(`cannot run git: ${e.message}`)));
    child.on('close', (code) => fail(importFailure(this.err, 'the branch', code)));
    this.child = child;
    return child;
  }

  /** Writes one commit, moves its ref (see the class comment) and returns the commit id. */
  async commit(given: FastCommitInput): Promise<string> {
    const input = await withBulkTree(this.cwd, given);
    if (this.broken) throw this.broken;
    if (this.waiting) throw new IoError('fast-import is busy with another commit', 'EBUSY');
    const child = this.start();
    this.mark++;
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      child.stdin.write(fastImportStream(input, this.mark, { checkpoint: true }));
    });
  }

  /** Ends the importer (a pack it had started and not finished is discarded by git). */
  async close(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child) return;
    child.removeAllListeners('close');
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    child.stdin.end('done\n');
    await exited;
  }
}

/**
 * From this many edits a commit's trees are written first with `mktree` (tree.ts
 * `editTree`) and fast-import is given the root tree whole. fast-import finds a path's
 * entry by scanning its directory's entries one by one, so N edits in a directory of
 * N entries cost N²/2 name comparisons: an adopt of 1M messages (400k in one `cur/`)
 * spent minutes of CPU there, and 100k edits already seconds; `mktree` sorts once.
 * Below it (a day's changes) fast-import's own tree rewriting is the cheaper path.
 */
export const BULK_EDITS = 10_000;

/**
 * From this much of fast-import's scanning work — edits in a directory times the
 * entries the directory holds, summed over the edited directories — a commit is a bulk
 * commit too. Measured (2 cores, git 2.39, load 3; docs/benchmarks.md, "1M messages"):
 * in a directory of 392k entries fast-import took 1.2 s of CPU for 200 edits (100
 * renames), 2.8 s for 1,000 and 7.1 s for 3,000 (~0.8 s to load and write the tree, then
 * ~5 ns per edit and entry); `editTree` writes it whole from the raw tree
 * (treeio.ts `mktreeInput`) in ~0.55 s wherever the edits are. In 36k entries
 * fast-import took 0.10 s for 1,000 edits and `editTree` ~0.11 s. Break-even: ~3.6e7 at
 * 36k, below 8e7 at 392k. A day at 100k (~900 edits of a 36k `cur/`, 3.2e7) stays with
 * fast-import; a day at 1M (~900 edits of a 392k one, 3.5e8) goes bulk.
 */
export const BULK_WORK = 40_000_000;

/**
 * Whether a commit's trees are better written first by `editTree` ({@link BULK_EDITS},
 * {@link BULK_WORK}): many edits, or many edits of directories the caller knows are big.
 */
export function isBulk(input: Pick<FastCommitInput, 'edits' | 'dirSizes'>): boolean {
  if (input.edits.length >= BULK_EDITS) return true;
  if (!input.dirSizes) return false;
  const perDir = new Map<string, number>();
  for (const e of input.edits) {
    const slash = e.path.lastIndexOf('/');
    const dir = slash < 0 ? '' : e.path.slice(0, slash);
    perDir.set(dir, (perDir.get(dir) ?? 0) + 1);
  }
  let work = 0;
  for (const [dir, n] of perDir) work += n * (input.dirSizes.get(dir) ?? 0);
  return work >= BULK_WORK;
}

/** `input` with its root tree written first when it is a bulk commit ({@link isBulk}). */
async function withBulkTree(cwd: string, input: FastCommitInput): Promise<FastCommitInput> {
  if (input.tree !== undefined || !isBulk(input)) return input;
  return { ...input, tree: await editTree(cwd, input.parent, [...input.edits]) };
}

/**
 * Writes one commit with `fast-import` and moves `ref` to it; returns the commit id.
 * Fails with a clear error when the ref no longer points to `parent` (nothing moves).
 * A bulk commit ({@link isBulk}) gets its trees written first.
 */
export async function fastCommit(cwd: string, input: FastCommitInput): Promise<string> {
  input = await withBulkTree(cwd, input);
  const child = spawnGit(cwd, IMPORT_ARGS);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', (e) => reject(new IoError(`cannot run git: ${e.message}`)));
    child.on('close', (c) => resolve(c ?? 128));
    child.stdin.end(fastImportStream(input));
  });
  if (code !== 0) throw importFailure(Buffer.concat(err).toString('utf8'), input.ref, code);
  const oid = Buffer.concat(out).toString('utf8').trim();
  if (!/^[0-9a-f]{40,64}$/.test(oid)) throw new IoError(`git fast-import gave no commit id (${JSON.stringify(oid.slice(0, 80))})`, 'EGIT');
  return oid;
}
