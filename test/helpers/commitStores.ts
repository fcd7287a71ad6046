/**
 * Both implementations of the history port, for tests that must hold on each: real git in
 * fresh repositories (with git's transport between them), and the in-memory twin.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { CommitStore, Remote } from '../../src/store/commitStore.js';
import { gitCommitStore } from '../../src/store/gitCommitStore.js';
import { gitRemotes } from '../../src/sync/remotes.js';
import { MemoryNetwork } from '../doubles/memoryCommitStore.js';
import { tempDir } from './cli.js';

/** Repositories that can fetch from and push to each other. */
export interface StoreWorld {
  /** A new repository: a bare hub, or one with its branch checked out (which refuses pushes to it). */
  repo(kind: 'bare' | 'checked-out'): CommitStore;
  /** Makes `to` a remote of `from` under `name`. */
  remote(from: CommitStore, name: string, to: CommitStore): Remote;
}

function gitWorld(): StoreWorld {
  const base = tempDir('mailgit-store-');
  const dirs = new Map<CommitStore, string>();
  return {
    repo(kind) {
      const dir = join(base, String(dirs.size));
      execFileSync('git', ['init', '-q', '-b', 'main', ...(kind === 'bare' ? ['--bare'] : []), dir]);
      const store = { ...gitCommitStore(dir), ...gitRemotes(dir) };
      dirs.set(store, dir);
      return store;
    },
    remote(from, name, to) {
      const url = dirs.get(to)!;
      execFileSync('git', ['-C', dirs.get(from)!, 'remote', 'add', name, url]);
      return { name, url };
    },
  };
}

function memoryWorld(): StoreWorld {
  const net = new MemoryNetwork();
  const urls = new Map<CommitStore, string>();
  return {
    repo(kind) {
      const url = `mem:${urls.size}`;
      const store = net.repo(url, kind === 'checked-out');
      urls.set(store, url);
      return store;
    },
    remote: (_from, name, to) => ({ name, url: urls.get(to)! }),
  };
}

/** Named factories of a fresh world of each kind, for `describe.each`. */
export const storeWorlds: [string, () => StoreWorld][] = [
  ['git', gitWorld],
  ['memory', memoryWorld],
];

/** Named factories of one fresh repository of each kind, for `describe.each`. */
export const commitStores: [string, () => CommitStore][] = storeWorlds.map(([name, world]) => [name, () => world().repo('checked-out')]);
