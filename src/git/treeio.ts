/**
 * Reading and writing many trees through two long-lived git processes
 * (`cat-file --batch` and `mktree --batch`) instead of an `ls-tree` and a `mktree` per
 * directory: a sync that touches 14 folders spawned ~30 git processes for this alone.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { CatFile } from './catfile.js';
import type { GitObject } from './catfile.js';
import { spawnGit } from './run.js';
import { IoError } from '../util/errors.js';
import type { TreeEntry } from '../store/types.js';

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

/** A tree's entries by position: names decoded, ids only on demand (a 36k-entry `cur/` in ~10 ms). */
export interface TreeIndex {
  names: string[];
  /** False for subtrees and submodules. */
  isBlob: boolean[];
  /** The hex id of entry `i`. */
  oidAt(i: number): string;
}

/** Indexes a raw tree object without building an object per entry (see {@link TreeIndex}). */
export function indexTree(data: Buffer): TreeIndex {
  const names: string[] = [];
  const isBlob: boolean[] = [];
  const offsets: number[] = [];
  const n = data.length;
  let i = 0;
  while (i < n) {
    // Plain loops: a native `indexOf` call per field costs more than the bytes it skips.
    let sp = i;
    while (sp < n && data[sp] !== 0x20) sp++;
    let nul = sp + 1;
    while (nul < n && data[nul] !== 0) nul++;
    if (sp >= n || nul + 21 > n) throw new IoError('damaged tree object', 'EBADTREE');
    // "100644", "100755", "120000" are files; trees are "40000", submodules "160000".
    isBlob.push(data[i] === 0x31 && data[i + 1] !== 0x36);
    names.push(data.toString('utf8', sp + 1, nul));
    offsets.push(nul + 1);
    i = nul + 21;
  }
  return { names, isBlob, oidAt: (k) => data.toString('hex', offsets[k]!, offsets[k]! + 20) };
}

/** What `mktree -z` reads for one entry. */
function entryLine(e: NewTreeEntry): string {
  return `${e.mode} ${e.type} ${e.oid}\t${e.name}\0`;
}

/**
 * The `mktree -z --batch` input for directory tree `data` (raw, as `cat-file` gives it;
 * null: none yet) with `changes` applied: an entry whose name `changes` holds is dropped
 * (null) or replaced, the new names are added (mktree sorts). Kept entries are copied
 * from the raw bytes without decoding them into objects: a 392k-entry `cur/` took ~1.8 s
 * of node's CPU through entries and a Map, the bulk commit's main cost at 1M. Returns the
 * input (ending in the blank record that asks for the tree) and the number of entries.
 */
export function mktreeInput(data: Buffer | null, changes: ReadonlyMap<string, NewTreeEntry | null>): { input: Buffer; count: number } {
  // Names compared as latin1 strings of their bytes: no UTF-8 decoding per entry.
  const changed = new Set([...changes.keys()].map((name) => Buffer.from(name, 'utf8').toString('latin1')));
  const n = data?.length ?? 0;
  const out = Buffer.allocUnsafe(n * 3 + 64);
  let o = 0;
  let count = 0;
  let i = 0;
  while (data && i < n) {
    let sp = i;
    while (sp < n && data[sp] !== 0x20) sp++;
    let nul = sp + 1;
    while (nul < n && data[nul] !== 0) nul++;
    if (sp >= n || nul + 21 > n) throw new IoError('damaged tree object', 'EBADTREE');
    if (!changed.has(data.toString('latin1', sp + 1, nul))) {
      const tree = sp - i === 5 && data[i] === 0x34; // "40000"
      const commit = data[i] === 0x31 && data[i + 1] === 0x36; // "160000"
      if (tree) o += out.write('0', o, 'latin1');
      o += data.copy(out, o, i, sp);
      o += out.write(tree ? ' tree ' : commit ? ' commit ' : ' blob ', o, 'latin1');
      o += out.write(data.toString('hex', nul + 1, nul + 21), o, 'latin1');
      out[o++] = 0x09;
      o += data.copy(out, o, sp + 1, nul);
      out[o++] = 0;
      count++;
    }
    i = nul + 21;
  }
  const added = [...changes.values()].filter((e): e is NewTreeEntry => e !== null);
  const tail = Buffer.from(`${added.map(entryLine).join('')}\0`, 'utf8');
  return { input: Buffer.concat([out.subarray(0, o), tail]), count: count + added.length };
}

/** Batched tree reads and writes for one repository; {@link TreeIO.close} when done. */
export class TreeIO {
  private cat: CatFile | null = null;
  private mk: ChildProcessWithoutNullStreams | null = null;
  private readonly waiting: { resolve: (oid: string) => void; reject: (e: Error) => void }[] = [];
  private out = '';

  /** Prepares batched tree I/O in repo `cwd` (processes start on first use). */
  constructor(private readonly cwd: string) {}

  /** Reads any object git can name (`HEAD`, `HEAD:INBOX/cur`…); null when it does not exist. */
  async read(name: string): Promise<GitObject | null> {
    this.cat ??= new CatFile(this.cwd);
    try {
      return await this.cat.readObject(name);
    } catch (e) {
      if ((e as { code?: string }).code === 'EMISSING') return null;
      throw e;
    }
  }

  /** Indexes directory `dir` (`""`: the root) of `treeish`; missing or not a tree → empty. */
  async index(treeish: string, dir: string): Promise<TreeIndex> {
    const o = await this.read(dir === '' ? `${treeish}^{tree}` : `${treeish}:${dir}`);
    return o?.type === 'tree' ? indexTree(o.data) : { names: [], isBlob: [], oidAt: () => '' };
  }

  /** Lists directory `dir` (`""`: the root) of `treeish` with full paths; missing → empty. */
  async list(treeish: string, dir: string): Promise<TreeEntry[]> {
    const o = await this.read(dir === '' ? `${treeish}^{tree}` : `${treeish}:${dir}`);
    return o?.type === 'tree' ? parseTree(o.data, dir) : [];
  }

  private mktree(): ChildProcessWithoutNullStreams {
    if (this.mk) return this.mk;
    const child = spawnGit(this.cwd, ['mktree', '-z', '--batch']);
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
    this.mk = child;
    return child;
  }

  /** Writes one tree and returns its id. */
  write(entries: NewTreeEntry[]): Promise<string> {
    return this.writeInput(Buffer.from(`${entries.map(entryLine).join('')}\0`, 'utf8'));
  }

  /** Writes one tree from its `mktree -z` input ({@link mktreeInput}) and returns its id. */
  writeInput(input: Buffer): Promise<string> {
    const child = this.mktree();
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      child.stdin.write(input);
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
