/**
 * The folders an account keeps in IDLE besides INBOX: a synced setting, validated like the
 * rest of an account definition (a list of strings, at most 8, INBOX and repeats dropped).
 */
import { describe, expect, it } from 'vitest';
import { formatAccount, validateAccount } from '../../src/fetch/account.js';
import { MailgitError } from '../../src/util/errors.js';

const base = { host: 'imap.example.org', user: 'me', sync: 'both' };

describe('account idle folders', () => {
  it('keeps the named folders once each, without INBOX, and writes them back', () => {
    const a = validateAccount({ ...base, idle: ['Work', 'inbox', 'Work', 'Lists/rust'] }, 'w');
    expect(a.idle).toEqual(['Work', 'Lists/rust']);
    expect(JSON.parse(formatAccount(a)).idle).toEqual(['Work', 'Lists/rust']);
    expect(validateAccount({ ...base, idle: ['INBOX'] }, 'w').idle).toBeUndefined();
  });

  it('refuses a definition that is not a list of strings or names too many folders, with exit 78', () => {
    for (const idle of ['Work', [1], Array.from({ length: 9 }, (_, i) => `F${i}`)]) {
      const err = (() => {
        try {
          validateAccount({ ...base, idle }, 'w');
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err).toBeInstanceOf(MailgitError);
      expect((err as MailgitError).exitCode).toBe(78);
    }
  });
});
