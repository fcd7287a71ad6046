/**
 * The repo lock in the types (src/repo/lock.ts): a LockedRepo exists only inside
 * withRepoLock, a second taker fails with 75 naming the holder, and a LockedRepo kept past
 * its callback cannot record.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { initRepo } from '../../src/repo/init.js';
import { LOCK_WAIT_MS, withRepoLock } from '../../src/repo/lock.js';
import type { LockedRepo } from '../../src/repo/lock.js';
import { record } from '../../src/repo/record.js';
import { EX, LockedError, MailgitError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/cli.js';

describe('withRepoLock', () => {
  it('yields a LockedRepo that is held inside the callback and let go after it', async () => {
    const { repo } = await initRepo(join(tempDir('mailgit-lock-'), 'mail'), { name: 'l' });
    let kept: LockedRepo | undefined;
    const r = await withRepoLock(repo, { what: 'test' }, async (locked) => {
      kept = locked;
      expect(locked.lock.held).toBe(true);
      expect(locked.root).toBe(repo.root);
      // Another taker, not waiting, is refused with the holder named.
      const second = await withRepoLock(repo, { what: 'second', waitMs: LOCK_WAIT_MS.none }, async () => 'taken').catch((e: unknown) => e);
      expect(second).toBeInstanceOf(LockedError);
      expect((second as LockedError).message).toContain(`pid ${process.pid}, test`);
      return record(locked);
    });
    expect(r).toBeNull(); // nothing changed since init
    expect(kept!.lock.held).toBe(false);
    const late = await record(kept!).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(MailgitError);
    expect((late as MailgitError).code).toBe('ENOLOCK');
    expect((late as MailgitError).exitCode).toBe(EX.SOFTWARE);
  });

  it('lets go of the lock when the callback throws', async () => {
    const { repo } = await initRepo(join(tempDir('mailgit-lock-'), 'mail'), { name: 'l' });
    await expect(withRepoLock(repo, { what: 'test' }, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await withRepoLock(repo, { what: 'again' }, async (locked) => locked.lock.held)).toBe(true);
  });
});
