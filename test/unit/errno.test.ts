/**
 * The one errno → exit-status table (src/util/errors.ts): what the CLI, apply and fetch
 * report for a system error.
 */
import { describe, expect, test } from 'vitest';
import { EX, MailgitError, errnoMeaning, errnoOf, exitOf, messageOf } from '../../src/util/errors.js';

/** A system error as node throws it. */
function sysError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: something, open '/x'`), { code, path: '/x' });
}

describe('errno → exit status', () => {
  test.each([
    ['ENOSPC', EX.IOERR, 'disk full'],
    ['EDQUOT', EX.IOERR, 'i/o error'],
    ['EIO', EX.IOERR, 'i/o error'],
    ['EACCES', EX.NOPERM, 'permission denied'],
    ['EPERM', EX.NOPERM, 'permission denied'],
    ['EROFS', EX.CANTCREAT, 'read-only file system'],
    ['ENAMETOOLONG', EX.DATAERR, 'name too long'],
  ])('%s → %i (%s)', (code, exit, what) => {
    expect(errnoMeaning(sysError(code))).toEqual({ what, exit });
    expect(exitOf(sysError(code))).toBe(exit);
    expect(errnoOf(sysError(code))).toBe(code);
  });

  test("a MailgitError keeps its own status and code; anything else is a bug's 70", () => {
    const e = new MailgitError('held', 'ELOCKED', EX.TEMPFAIL);
    expect(errnoMeaning(e)).toBeUndefined();
    expect(exitOf(e)).toBe(EX.TEMPFAIL);
    expect(errnoOf(e)).toBe('ELOCKED');
    for (const x of [sysError('EBADF'), sysError('toString'), new Error('x'), 'a string', null, undefined]) {
      expect(errnoMeaning(x)).toBeUndefined();
      expect(exitOf(x)).toBe(EX.SOFTWARE);
    }
    expect(errnoOf(null)).toBe('');
    expect(messageOf(new Error('m'))).toBe('m');
    expect(messageOf(42)).toBe('42');
  });
});
