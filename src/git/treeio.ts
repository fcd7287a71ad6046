/**
 * Reading and writing many trees through two long-lived git processes
 * (`cat-file --batch` and `mktree --batch`) instead of an `ls-tree` and a `mktree` per
 * directory: a sync that touches 14 folders spawned ~30 git processes for this alone.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { CatFile } from './catfile.js';
import { gitEnv } from './run.js';
import { IoError } from '../util/errors.js';
import type { TreeEntry } from './tree.js';

/** An entry to write into a tree, named relative to that tree. */
export interface NewTreeEntry {
  mode: string;
  type: string;
  oid: string;
  name: string;
}

/** Parses a raw tree object into entries whose paths are prefixed with `dir`. */
export function parseTree(data: Buffer, dir: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    const nul = data.indexOf(0, sp);
    if (sp < 0 || nul < 0 || nul + 21 > data.length) throw new IoError('damaged tree object', 'EBADTREE');
    const rawMode = data.toString('latin1', i, sp);
    const mode = rawMode.padStart(6, '0');
    const name = data.toString('utf8', sp + 1, nul);
    const oid = data.toString('hex', nul + 1, nul + 21);
    const type = mode === '040000' ? 'tree' : mode === '160000' ? 'commit' : 'blob';
    out.push({ mode, type, oid, path: dir === '' ? name : `${dir}/${name}` });
    i = nul + 21;
  }
  return out;
}

/** Batched tree reads and writes for one repository; {@link TreeIO.close} when done. */
export class TreeIO {
  private cat: CatFile | null = null;
  private mk: ChildProcessWithoutNullStreams | null = null;
  private readonly waiting: { resolve: (oid: string) => void; reject: (e: Error) => void }[] = [];
  private out = '';

  /** Prepares batched tree I/O in repo `cwd` (processes start on first use). */
  constructor(private readonly cwd: string) {}

  /** Lists directory `dir` (`""`: the root) of `treeish` with full paths; missing → empty. */
  async list(treeish: string, dir: string): Promise<TreeEntry[]> {
    this.cat ??= new CatFile(this.cwd);
    try {
      const o = await this.cat.readObject(dir === '' ? `${treeish}^{tree}` : `${treeish}:${dir}`);
      return o.type === 'tree' ? parseTree(o.data, dir) : [];
    } catch (e) {
      if ((e as { code?: string }).code === 'EMISSING') return [];
      throw e;
    }
  }

  private mktree(): ChildProcessWithoutNullStreams {
    if (this.mk) return this.mk;
    const child = spawn('git', ['mktree', '-z', '--batch'], { cwd: this.cwd, env: gitEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      this.out += d.toString('utf8');
      let nl;
      while ((nl = this.out.indexOf('\n')) >= 0) {
        const line = this.out.slice(0, nl);
        this.out = this.out.slice(nl + 1);
        this.waiting.shift()?.resolve(line.trim());
      }
    });
    const fail = (msg: string) => {
      for (const w of this.waiting.splice(0)) w.reject(new IoError(msg, /No space left/.test(msg) ? 'ENOSPC' : 'EIO'));
    };
    child.on('error', (e) => fail(`cannot run git mktree: ${e.message}`));
    child.on('close', () => fail(`git mktree failed: ${err.trim() || 'exited early'}`));
    child.stdin.on('error', () => undefined);
    this.mk = child;
    return child;
  }

  /** Writes one tree and returns its id. */
  write(entries: NewTreeEntry[]): Promise<string> {
    const child = this.mktree();
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      child.stdin.write(entries.map((e) => `${e.mode} ${e.type} ${e.oid}\t${e.name}\0`).join('') + '\0');
    });
  }

  /** Ends the git processes. */
  close(): void {
    this.cat?.close();
    if (this.mk) {
      this.mk.removeAllListeners('close');
      this.mk.stdin.end();
    }
  }
}
