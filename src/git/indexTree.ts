/**
 * Building a tree that is a base tree plus many added files, with git holding the entries
 * and not mailgit: the base is read into a private index file (`read-tree`), the files
 * are streamed into one `update-index --index-info` as they are found, and `write-tree`
 * writes only the directories that changed. A restore of 100,000 messages adds them
 * without a JavaScript object per message. The index file is the caller's to place
 * (never `.git/index`) and is removed by {@link IndexTree.close}.
 */
import { once } from 'node:events';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { GitError, git, gitText, spawnGit } from './run.js';

const UPDATE = ['update-index', '-z', '--index-info'];

/** A tree being built from a base tree plus added files (see the module comment). */
export class IndexTree {
  private readonly err: Buffer[] = [];
  private readonly closed: Promise<number>;

  private constructor(
    private readonly cwd: string,
    private readonly env: Record<string, string>,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    child.stderr.on('data', (d: Buffer) => this.err.push(d));
    this.closed = new Promise((resolve) => {
      child.on('error', () => resolve(128));
      child.on('close', (code) => resolve(code ?? 128));
    });
  }

  /**
   * Starts a tree from `base` (a tree-ish) in repo `cwd`, through the index file
   * `indexFile`, which only the caller uses (mailgit's, under the repo lock): what a killed
   * run left there, the file and git's lock of it, is removed first, or every later run
   * would fail on that lock (the restore torture, 8 of 50 seeds: "restore.index.lock is
   * held by another git command").
   */
  static async open(cwd: string, base: string, indexFile: string): Promise<IndexTree> {
    await rm(`${indexFile}.lock`, { force: true });
    await rm(indexFile, { force: true });
    const env = { GIT_INDEX_FILE: indexFile };
    await git(['read-tree', base], { cwd, env });
    return new IndexTree(cwd, env, spawnGit(cwd, UPDATE, env));
  }

  /** Adds (or replaces) file `path` as blob `oid` with `mode`; waits while git catches up. */
  async add(path: string, oid: string, mode = '100644'): Promise<void> {
    if (!this.child.stdin.write(`${mode} ${oid}\t${path}\0`)) await Promise.race([once(this.child.stdin, 'drain'), this.closed]);
  }

  /** Writes the tree (the base with every file added) and returns its id. */
  async write(): Promise<string> {
    this.child.stdin.end();
    const status = await this.closed;
    if (status !== 0) throw new GitError(UPDATE, Buffer.concat(this.err).toString('utf8'), status);
    return gitText(['write-tree'], { cwd: this.cwd, env: this.env });
  }

  /** Ends git if it still runs and removes the index file. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill();
      await this.closed;
    }
    await rm(this.env.GIT_INDEX_FILE!, { force: true });
  }
}
