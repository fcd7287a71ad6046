/**
 * Folder layouts as a spec (src/maildir/layout.ts): the one folder ⇄ directory mapping,
 * detection from a tree's folder directories, and which names a layout can hold.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Layout } from '../../src/maildir/layout.js';
import { LAYOUTS, detectLayout, fitsLayout, folderDir, folderName, folderNameProblem } from '../../src/maildir/layout.js';

describe('folder directories', () => {
  it.each([
    ['fs', 'INBOX', 'INBOX'],
    ['fs', 'Lists/rust', 'Lists/rust'],
    ['fs-root', 'INBOX', ''],
    ['fs-root', 'Work', 'Work'],
    ['fs-root', 'Lists/rust', 'Lists/rust'],
    ['maildir++', 'INBOX', ''],
    ['maildir++', 'Work', '.Work'],
    ['maildir++', 'Lists/rust', '.Lists.rust'],
    ['mbsync-legacy', 'INBOX', 'INBOX'],
    ['mbsync-legacy', 'Lists/rust/2024', 'Lists/.rust/.2024'],
    ['mbsync-legacy', 'INBOX/sub', 'INBOX/.sub'],
  ] as [Layout, string, string][])('%s keeps %s in %j, and names it back', (layout, name, dir) => {
    expect(folderDir(layout, name)).toBe(dir);
    expect(folderName(layout, dir)).toBe(name);
    expect(fitsLayout(layout, dir)).toBe(true);
  });

  it('names a directory the layout would not make by its path', () => {
    expect(folderName('maildir++', 'Lists')).toBe('Lists');
    expect(folderName('mbsync-legacy', 'Lists/rust')).toBe('Lists/rust');
    expect(fitsLayout('mbsync-legacy', 'Lists/rust')).toBe(false);
    expect(fitsLayout('fs', '')).toBe(false);
  });

  it('every name a layout accepts round-trips through its directory (property)', () => {
    const seg = fc.stringMatching(/^[A-Za-z0-9 _&.-]{1,12}$/);
    const name = fc.oneof(
      fc.constant('INBOX'),
      fc.array(seg, { minLength: 1, maxLength: 4 }).map((s) => s.join('/')),
    );
    fc.assert(
      fc.property(fc.constantFrom(...LAYOUTS), name, (layout, n) => {
        if (folderNameProblem(layout, n) !== null) return;
        const dir = folderDir(layout, n);
        expect(fitsLayout(layout, dir)).toBe(true);
        expect(folderName(layout, dir)).toBe(n);
        expect(detectLayout([folderDir(layout, 'INBOX'), dir])).not.toBeNull();
      }),
      { numRuns: 2000 },
    );
  });
});

describe('detecting the layout of a tree', () => {
  it.each([
    [[], null],
    [[''], 'maildir++'],
    [['', '.Work', '.Lists.rust'], 'maildir++'],
    [['', 'Work', 'Lists/rust'], 'fs-root'],
    [['', 'Work', '.Trash'], 'fs-root'],
    [['INBOX', 'Work', 'Lists/rust'], 'fs'],
    [['INBOX', 'Lists.rust'], 'fs'],
    [['.Work', '.Lists.rust'], 'maildir++'],
    [['INBOX', 'Lists/.rust', 'Lists/.rust/.2024'], 'mbsync-legacy'],
    [['INBOX', 'Lists/.rust', 'Lists/rust'], 'fs'],
  ] as [string[], Layout | null][])('%j is %s', (folders, layout) => {
    expect(detectLayout(folders)).toBe(layout);
  });
});

describe('folder names a layout cannot hold', () => {
  it.each([
    ['fs', 'Lists/.rust', /starts with "."/],
    ['fs', 'Lists/new', /Maildir sub-directory/],
    ['fs', 'a//b', /empty/],
    ['maildir++', 'Lists.rust', /hierarchy separator/],
    ['fs-root', 'INBOX/x', /root/],
    ['fs-root', 'cur', /Maildir sub-directory/],
    // The generic path rules, for every caller (deliver, fetch, restore, log).
    ['fs', '', /empty name/],
    ['fs', '../etc', /".." component/],
    ['fs', 'Lists/.git', /"\.git" component/],
    ['fs', 'a\tb', /control character/],
    ['maildir++', 'x\u009by', /control character/],
    ['fs', 'a\\b', /backslash/],
    ['fs', 'x'.repeat(256), /name too long/],
    ['maildir++', `${'x'.repeat(200)}/${'y'.repeat(60)}`, /name too long/], // its directory is one component
    ['fs', 'inbox', /only in case/],
    ['maildir++', 'Inbox/sub', /only in case/],
  ] as [Layout, string, RegExp][])('%s refuses %j', (layout, name, why) => {
    expect(folderNameProblem(layout, name)).toMatch(why);
  });

  it('a folder that exists is named under any safe name; an unsafe one never', () => {
    for (const n of ['.hidden', 'Lists/new', 'inbox']) expect(folderNameProblem('fs', n, { existing: true })).toBeNull();
    for (const n of ['../etc', 'a/.git', '', 'x\ty']) expect(folderNameProblem('fs', n, { existing: true })).not.toBeNull();
  });

  it.each(LAYOUTS.map((l) => [l]))('%s takes INBOX, Work and Lists/rust', (layout) => {
    for (const n of ['INBOX', 'Work', 'Lists/rust']) expect(folderNameProblem(layout, n)).toBeNull();
  });
});
