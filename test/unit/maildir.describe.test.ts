/**
 * How changes are told to a person: a spec of before/after names → the folder lines.
 */
import { describe, expect, it } from 'vitest';
import { describeChanges, formatEvents } from '../../src/maildir/describe.js';

const d = (path: string, oid = 'b1') => ({ path, oid });

describe('describeChanges', () => {
  it.each([
    ['a delivery', [d('INBOX/new/k')], [], ['INBOX: 1 delivered']],
    ['new → cur', [d('INBOX/cur/k:2,')], [d('INBOX/new/k')], ['INBOX: 1 no longer new']],
    ['read', [d('INBOX/cur/k:2,S')], [d('INBOX/cur/k:2,')], ['INBOX: 1 marked read']],
    ['unread + flagged', [d('INBOX/cur/k:2,F')], [d('INBOX/cur/k:2,S')], ['INBOX: 1 marked unread, 1 flagged']],
    ['a keyword', [d('INBOX/cur/k:2,Sa')], [d('INBOX/cur/k:2,S')], ['INBOX: 1 keyword a set']],
    ['a move keeping the key', [d('Archive/cur/k:2,S')], [d('INBOX/cur/k:2,S')], ['Archive: 1 moved in from INBOX', 'INBOX: 1 moved to Archive']],
    [
      'a copy+delete move (same blob, new key)',
      [d('Archive/cur/k2:2,S', 'b9')],
      [d('INBOX/cur/k:2,S', 'b9')],
      ['Archive: 1 moved in from INBOX', 'INBOX: 1 moved to Archive'],
    ],
    ['a deletion', [], [d('INBOX/cur/k:2,S')], ['INBOX: 1 deleted']],
  ] as const)('%s', (_what, added, removed, lines) => {
    expect(formatEvents(describeChanges('fs', { added: [...added], removed: [...removed] }))).toEqual(lines);
  });

  it('names maildir++ folders by their logical names', () => {
    expect(formatEvents(describeChanges('maildir++', { added: [d('.Lists.rust/cur/k:2,S')], removed: [d('cur/k:2,S')] }))).toEqual([
      'INBOX: 1 moved to Lists/rust',
      'Lists/rust: 1 moved in from INBOX',
    ]);
  });

  it('counts many events of one kind in one line', () => {
    const added = [1, 2, 3].map((i) => d(`INBOX/cur/k${i}:2,S`, `b${i}`));
    const removed = [1, 2, 3].map((i) => d(`INBOX/cur/k${i}:2,`, `b${i}`));
    expect(formatEvents(describeChanges('fs', { added, removed }))).toEqual(['INBOX: 3 marked read']);
  });
});
