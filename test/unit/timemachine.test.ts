/**
 * The time machine's readers of what a person types: times and message names.
 */
import { describe, expect, it } from 'vitest';
import { parseTime } from '../../src/repo/when.js';
import { parseMessageName } from '../../src/repo/locate.js';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);

describe('parseTime', () => {
  it('reads relative times, dates and dates with times', () => {
    expect(parseTime('2 days ago', NOW)).toBe(NOW / 1000 - 2 * 86400);
    expect(parseTime('1 hour ago', NOW)).toBe(NOW / 1000 - 3600);
    expect(parseTime('30 minutes ago', NOW)).toBe(NOW / 1000 - 1800);
    expect(parseTime('yesterday', NOW)).toBe(NOW / 1000 - 86400);
    expect(parseTime('now', NOW)).toBe(NOW / 1000);
    expect(parseTime('2026-12-01T10:00:00Z', NOW)).toBe(Date.UTC(2026, 11, 1, 10) / 1000);
    expect(parseTime('2026-12-01 10:00+00:00', NOW)).toBe(Date.UTC(2026, 11, 1, 10) / 1000);
    expect(parseTime('2026-12-01', NOW)).not.toBeNull();
  });
  it('refuses anything else (a commit is looked up by the caller)', () => {
    for (const s of ['', 'garbage', 'HEAD~1', 'abc1234', '2 fortnights ago', '2026-13-45', 'ago', '12']) expect([s, parseTime(s, NOW)]).toEqual([s, null]);
  });
});

describe('parseMessageName', () => {
  it('tells Message-IDs from keys, file names and paths', () => {
    expect(parseMessageName('<a.b@example.org>')).toEqual({ messageId: '<a.b@example.org>' });
    expect(parseMessageName('a.b@example.org')).toEqual({ messageId: '<a.b@example.org>' });
    expect(parseMessageName('1700.M1P2.host')).toEqual({ key: '1700.M1P2.host' });
    expect(parseMessageName('1700.M1P2.host:2,FS')).toEqual({ key: '1700.M1P2.host' });
    expect(parseMessageName('Lists/rust/cur/1700.M1P2.host:2,S')).toEqual({ key: '1700.M1P2.host' });
    expect(parseMessageName('.Lists.rust/new/1700.M1P2.host')).toEqual({ key: '1700.M1P2.host' });
  });
});
