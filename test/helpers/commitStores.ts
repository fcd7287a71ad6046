/**
 * Both CommitStore implementations, for tests that must hold on each: real git in a fresh
 * repository, and the in-memory store.
 */
import { execFileSync } from 'node:child_process';
import type { CommitStore } from '../../src/store/commitStore.js';
import { gitCommitStore } from '../../src/store/gitCommitStore.js';
import { MemoryCommitStore } from '../doubles/memoryCommitStore.js';
import { tempDir } from './cli.js';

/** Named factories of a fresh store of each kind, for `describe.each`. */
export const commitStores: [string, () => CommitStore][] = [
  [
    'git',
    () => {
      const dir = tempDir('mailgit-store-');
      execFileSync('git', ['init', '-q', '-b', 'main', dir]);
      return gitCommitStore(dir);
    },
  ],
  ['memory', () => new MemoryCommitStore()],
];
