/**
 * Errors as values: every MailgitError survives toJSON → JSON text → fromJSON with its
 * class, message, code and exit status, and the first of several failures gives the exit.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EX,
  IoError,
  LockedError,
  MailgitError,
  PermissionError,
  RaceError,
  UnavailableError,
  UnsafeDataError,
  UsageError,
  throwFirstFailure,
} from '../../src/util/errors.js';

const roundTrip = (e: MailgitError) => MailgitError.fromJSON(JSON.parse(JSON.stringify(e)));

describe('MailgitError.toJSON / fromJSON', () => {
  const samples: [MailgitError, unknown][] = [
    [new RaceError('main moved'), RaceError],
    [new UsageError('bad flag'), UsageError],
    [new UnsafeDataError('refused'), UnsafeDataError],
    [new UnavailableError('no route'), UnavailableError],
    [new PermissionError('denied'), PermissionError],
    [new LockedError(42, 'sync'), MailgitError],
    [new IoError('disk full', 'ENOSPC'), MailgitError],
    [new MailgitError('odd', 'EODD', EX.CONFIG), MailgitError],
  ];
  for (const [e, cls] of samples) {
    it(`${e.code}: same message, code and exit status after JSON`, () => {
      const back = roundTrip(e);
      expect(back).toBeInstanceOf(cls);
      expect(back.toJSON()).toEqual(e.toJSON());
      expect(back.message).toBe(e.message);
    });
  }

  it('the JSON is message, code and exit status only (as fetch --json printed it before)', () => {
    expect(JSON.stringify(new RaceError('x'))).toBe('{"message":"x","code":"ERACE","exitCode":75}');
  });

  it('a code whose class gives another exit status stays a plain MailgitError with the status given', () => {
    const back = MailgitError.fromJSON({ message: 'm', code: 'ERACE', exitCode: EX.SOFTWARE });
    expect(back).not.toBeInstanceOf(RaceError);
    expect(back.exitCode).toBe(EX.SOFTWARE);
  });
});

describe('throwFirstFailure', () => {
  afterEach(() => vi.restoreAllMocks());

  it('returns when nothing failed', () => {
    expect(() => throwFirstFailure([])).not.toThrow();
  });

  it('throws the first failure and prints one line for each other', () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => lines.push(String(s)) > 0);
    const failures = [new UnavailableError('a: unreachable'), new PermissionError('b: denied'), new RaceError('c: moved')].map((e) => e.toJSON());
    let thrown: unknown;
    try {
      throwFirstFailure(failures);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(UnavailableError);
    expect((thrown as MailgitError).exitCode).toBe(EX.UNAVAILABLE);
    expect(lines).toEqual(['mailgit: b: denied\n', 'mailgit: c: moved\n']);
  });
});
