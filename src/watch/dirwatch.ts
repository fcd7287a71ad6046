/**
 * Directory-level watches over a mail repo's work tree: one `fs.watch` per folder's
 * `cur/` and `new/`, and one per other directory (folder directories, their parents,
 * `.mailgit/`), so that folders being created or removed are seen too. Never one watch
 * per message: at 100k messages a per-file watcher (chokidar 5) costs hundreds of MB and
 * seconds of latency, and runs out of inotify watches near 190k files.
 *
 * The watcher is only a trigger. It says "something changed"; what changed is found by
 * the per-directory scan of `record`, so an event lost (inotify queue overflow, a folder
 * created and filled before its watch existed, a laptop suspended) costs latency, never
 * a change: the periodic full check picks it up.
 */
import { watch, type FSWatcher } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isIgnoredDir, isIgnoredFile } from '../repo/ignore.js';
import { classifyPath } from '../maildir/paths.js';
import { isFolderDir } from '../maildir/layout.js';

/** What a watched directory holds. */
type Kind = 'messages' | 'tree';

interface Watched {
  kind: Kind;
  ino: number;
  watcher: FSWatcher;
}

/** Why the watcher woke up: a message directory changed, or the folder structure did. */
export type WatchEvent = { type: 'change'; dir: string; name: string | null } | { type: 'structure'; dir: string; name: string | null };

/** True for names in a folder directory that are client caches or their temporaries. */
function isCacheName(name: string): boolean {
  if (isIgnoredFile(name)) return true;
  if (name.startsWith('dovecot') && name !== 'dovecot-keywords') return true;
  return name.endsWith('.tmp') || name.endsWith('~') || name.startsWith('.#');
}

/**
 * Watches every directory of a mail repo except message contents, `tmp/`, `.git/` and
 * client caches. Call {@link refresh} after a structure event (the owner debounces them).
 */
export class DirWatcher {
  private readonly watched = new Map<string, Watched>();
  private closed = false;

  /** Creates a watcher for the repo at `root`; nothing is watched until {@link refresh}. */
  constructor(
    private readonly root: string,
    private readonly onEvent: (e: WatchEvent) => void,
  ) {}

  /** Number of directory watches held. */
  get size(): number {
    return this.watched.size;
  }

  /** Number of folders (directories whose `cur/` or `new/` is watched). */
  get folders(): number {
    const set = new Set<string>();
    for (const [d, w] of this.watched) if (w.kind === 'messages') set.add(d.slice(0, Math.max(0, d.lastIndexOf('/'))));
    return set.size;
  }

  /**
   * Walks the directories (never the messages) and makes the watches match: new
   * directories get a watch, vanished or replaced ones (another inode) lose theirs.
   */
  async refresh(): Promise<void> {
    if (this.closed) return;
    const want = new Map<string, { kind: Kind; ino: number }>();
    const visit = async (rel: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(join(this.root, rel), { withFileTypes: true });
      } catch {
        return; // removed while walking: the next refresh settles it
      }
      const st = await stat(join(this.root, rel)).catch(() => null);
      if (!st) return;
      want.set(rel, { kind: 'tree', ino: st.ino });
      const isFolder = isFolderDir(entries);
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        const p = rel === '' ? e.name : `${rel}/${e.name}`;
        if (isIgnoredDir(e.name)) continue;
        if (isFolder && (e.name === 'cur' || e.name === 'new')) {
          const s = await stat(join(this.root, p)).catch(() => null);
          if (s) want.set(p, { kind: 'messages', ino: s.ino });
          continue;
        }
        await visit(p);
      }
    };
    await visit('');
    if (this.closed) return;
    for (const [p, w] of this.watched) {
      const x = want.get(p);
      if (!x || x.ino !== w.ino || x.kind !== w.kind) this.unwatch(p);
    }
    for (const [p, x] of want) if (!this.watched.has(p)) this.add(p, x.kind, x.ino);
  }

  /** Closes every watch. */
  close(): void {
    this.closed = true;
    for (const p of [...this.watched.keys()]) this.unwatch(p);
  }

  private unwatch(p: string): void {
    const w = this.watched.get(p);
    if (!w) return;
    this.watched.delete(p);
    try {
      w.watcher.close();
    } catch {
      /* already gone */
    }
  }

  private add(rel: string, kind: Kind, ino: number): void {
    let watcher: FSWatcher;
    try {
      watcher = watch(join(this.root, rel), { persistent: true }, (_type, filename) => this.handle(rel, kind, filename === null ? null : String(filename)));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        this.onEvent({ type: 'structure', dir: rel, name: null });
        return;
      }
      throw e; // ENOSPC (inotify watches exhausted) and the like: the user must know
    }
    watcher.on('error', () => {
      // The directory went away (or the watch broke): drop it and look again.
      if (this.watched.get(rel)?.watcher === watcher) this.unwatch(rel);
      this.onEvent({ type: 'structure', dir: rel, name: null });
    });
    this.watched.set(rel, { kind, ino, watcher });
  }

  private handle(dir: string, kind: Kind, name: string | null): void {
    if (this.closed) return;
    if (kind === 'messages') {
      if (name?.startsWith('.')) return; // not a message (Maildir readers skip dot files)
      this.onEvent({ type: 'change', dir, name });
      return;
    }
    if (name === null) {
      this.onEvent({ type: 'structure', dir, name });
      return;
    }
    if (isCacheName(name)) return;
    const rel = dir === '' ? name : `${dir}/${name}`;
    if (classifyPath(rel) !== null) {
      this.onEvent({ type: 'change', dir, name });
      return;
    }
    // A directory appeared or went away (a folder, or a folder's cur/ new/), or a stray
    // file we do not record. Only the former matters.
    lstat(join(this.root, rel)).then(
      (s) => {
        if (s.isDirectory() && !isIgnoredDir(name)) this.onEvent({ type: 'structure', dir, name });
      },
      () => {
        if (this.watched.has(rel) || [...this.watched.keys()].some((p) => p.startsWith(`${rel}/`)) || name === 'cur' || name === 'new') {
          this.onEvent({ type: 'structure', dir, name });
        }
      },
    );
  }
}
