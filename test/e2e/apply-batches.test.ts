/**
 * An apply whose diff only adds (a restore, an undone deletion) is read and written in
 * batches (src/repo/apply.ts), so that its memory does not grow with the number of
 * messages. With batches of 3 (`MAILGIT_APPLY_BATCH`): ten messages in two folders arrive whole, each batch
 * written before the next is looked at; a failure in the last batch undoes the whole
 * apply, the batches written before it too (nothing half restored), and the next apply
 * brings everything, with git's index rebuilt so that `git status` agrees.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, tempDir } from '../helpers/cli.js';
import { arrive, expectDiskIsHead, initReplica, mg } from '../helpers/replica.js';
import { faultyFs, loggingFs } from '../helpers/faultyFs.js';
import type { Call } from '../helpers/faultyFs.js';
import { withLockedRepo } from '../helpers/locked.js';
import { applyCommit } from '../../src/repo/apply.js';
import { MailgitError } from '../../src/util/errors.js';

/** A replica whose folders were emptied (`from`), and a commit on top that brings all ten messages back (`to`), not applied. */
function emptied(): { dir: string; from: string; to: string } {
  const dir = initReplica(join(tempDir('mailgit-applybatch-'), 'r'), 'r');
  for (let i = 0; i < 10; i++) arrive(dir, `m${i}`, i < 6 ? 'INBOX' : 'Lists');
  mg(dir, ['commit']);
  for (const f of ['INBOX', 'Lists']) for (const sub of ['cur', 'new']) rmSync(join(dir, f, sub), { recursive: true, force: true });
  mg(dir, ['commit']);
  const from = gitOut(dir, ['rev-parse', 'HEAD']).trim();
  const to = gitOut(dir, ['commit-tree', 'HEAD~1^{tree}', '-p', 'HEAD', '-m', 'back']).trim();
  return { dir, from, to };
}

const head = (dir: string) => gitOut(dir, ['rev-parse', 'HEAD']).trim();

describe('an apply that only adds, in batches', () => {
  beforeAll(() => void (process.env.MAILGIT_APPLY_BATCH = '3'));
  afterAll(() => void delete process.env.MAILGIT_APPLY_BATCH);

  test('arrives whole, batch by batch; a failure in the last batch undoes all of it; the next apply brings everything', async () => {
    const t = emptied();
    const probe = `${t.dir}-probe`;
    cpSync(t.dir, probe, { recursive: true });
    const log: Call[] = [];
    const counted = { expected: 0, done: 0 };
    const progress = { expect: (n: number) => void (counted.expected += n), advance: (n: number) => void (counted.done += n) };
    await withLockedRepo(probe, (repo) => applyCommit(repo, { from: t.from, to: t.to, fs: loggingFs(log), progress }));
    expect(head(probe)).toBe(t.to);
    expectDiskIsHead(probe);
    expect(counted).toEqual({ expected: 10, done: 10 });
    const writes = log.flatMap((c, i) => (c.op === 'writeFile' && /\/(INBOX|Lists)\/tmp\//.test(c.paths[0]!) ? [i] : []));
    const looks = log.flatMap((c, i) => (c.op === 'exists' ? [i] : []));
    expect(writes.length).toBe(10);
    // Batched: the first batch is written before the last arrival is looked at (a whole diff would look at every path first).
    expect(writes[0]!).toBeLessThan(looks.at(-1)!);

    const fs = faultyFs(writes.at(-1)!, 'ENOSPC', 'once');
    const err = await withLockedRepo(t.dir, (repo) => applyCommit(repo, { from: t.from, to: t.to, fs })).catch((e: unknown) => e);
    expect(fs.fired()?.op).toBe('writeFile');
    expect(err).toBeInstanceOf(MailgitError);
    expect((err as MailgitError).exitCode).toBe(74);
    expect(head(t.dir)).toBe(t.from);
    expect(existsSync(join(t.dir, '.git/mailgit/apply.json'))).toBe(false);
    expectDiskIsHead(t.dir);
    await withLockedRepo(t.dir, (repo) => applyCommit(repo, { from: t.from, to: t.to }));
    expect(head(t.dir)).toBe(t.to);
    expectDiskIsHead(t.dir);
    // The index, for which a batched apply keeps no list, is rebuilt: plain git agrees.
    expect(gitOut(t.dir, ['status', '--porcelain'])).toBe('');
  }, 120_000);
});
