/**
 * Maildir names and paths as a spec: what is a message, what is its key, what is safe.
 */
import { describe, expect, it } from 'vitest';
import { flagsOf, infoOfFlags, messagePath, parseMessagePath, splitName } from '../../src/maildir/name.js';
import { classifyPath, unsafeReason } from '../../src/maildir/paths.js';
import { folderDir, folderMarker, folderName, isFolderDir } from '../../src/maildir/layout.js';
import { entryProblem } from '../../src/sync/validate.js';

describe('message names', () => {
  it.each([
    ['1700000000.M1P2.host', { key: '1700000000.M1P2.host', info: '' }],
    ['1700000000.M1P2.host:2,FS', { key: '1700000000.M1P2.host', info: ':2,FS' }],
    ['1700000000.M1P2.host,S=4000,W=4100:2,Sab', { key: '1700000000.M1P2.host,S=4000,W=4100', info: ':2,Sab' }],
    ['odd:1,experimental', { key: 'odd', info: ':1,experimental' }],
    ['k:2,', { key: 'k', info: ':2,' }],
  ])('%s splits into key and verbatim info', (name, parts) => {
    expect(splitName(name)).toEqual(parts);
  });

  it('reads flags only from :2, info and writes them sorted', () => {
    expect(flagsOf(':2,FS')).toBe('FS');
    expect(flagsOf(':1,FS')).toBe('');
    expect(infoOfFlags('SFaS')).toBe(':2,FSa');
  });

  it.each([
    ['INBOX/cur/k:2,S', { folder: 'INBOX', sub: 'cur', key: 'k', info: ':2,S' }],
    ['Lists/rust/new/k', { folder: 'Lists/rust', sub: 'new', key: 'k', info: '' }],
    ['cur/k:2,', { folder: '', sub: 'cur', key: 'k', info: ':2,' }],
    ['.Lists.rust/cur/k', { folder: '.Lists.rust', sub: 'cur', key: 'k', info: '' }],
  ])('%s is a message path that round-trips', (path, parsed) => {
    expect(parseMessagePath(path)).toEqual(parsed);
    expect(messagePath(parsed as never)).toBe(path);
  });

  it.each(['INBOX/cur/.hidden', 'INBOX/tmp/k', 'INBOX/maildirfolder', 'k', 'INBOX/cur/'])('%s is not a message', (path) => {
    expect(parseMessagePath(path)).toBeNull();
  });
});

describe('layouts', () => {
  it.each([
    ['fs', 'INBOX', 'INBOX'],
    ['fs', 'Lists/rust', 'Lists/rust'],
    ['maildir++', 'INBOX', ''],
    ['maildir++', 'Lists/rust', '.Lists.rust'],
  ] as const)('%s: folder %s lives in %j', (layout, name, dir) => {
    expect(folderDir(layout, name)).toBe(dir);
    expect(folderName(layout, dir)).toBe(name);
  });

  const ents = (dirs: string[], files: string[] = []) => [
    ...dirs.map((name) => ({ name, isDirectory: () => true })),
    ...files.map((name) => ({ name, isDirectory: () => false })),
  ];
  it.each([
    [['cur', 'new', 'tmp'], [], true],
    [['cur'], [], true],
    [['new', 'tmp'], [], true],
    [[], ['maildirfolder'], true],
    [['new'], [], false], // Lists/ holding a subfolder called "new"
    [['rust', 'go'], [], false],
  ])('a directory with %j and files %j is a folder: %s', (dirs, files, folder) => {
    expect(isFolderDir(ents(dirs, files))).toBe(folder);
  });

  it('marks every folder but the root', () => {
    expect(folderMarker('Archive')).toBe('Archive/maildirfolder');
    expect(folderMarker('')).toBeNull();
  });
});

describe('what is recorded and accepted', () => {
  it.each([
    ['INBOX/cur/k:2,S', 'message'],
    ['INBOX/maildirfolder', 'folder-file'],
    ['Archive/dovecot-keywords', 'folder-file'],
    ['.mailgit/checkpoints/work.json', 'meta'],
    ['.gitattributes', 'root-file'],
    ['INBOX/dovecot-uidlist', null],
    ['notes.txt', null],
  ])('%s → %s', (path, kind) => {
    expect(classifyPath(path)).toBe(kind);
  });

  it.each([
    ['../x', '".." component'],
    ['INBOX/cur/../../etc/passwd', '".." component'],
    ['.git/hooks/post-checkout', '".git" component'],
    ['INBOX/.GIT/config', '".GIT" component'],
    ['INBOX/.git. /x', '".git. " component'],
    ['/etc/passwd', 'absolute path'],
    ['INBOX/cur/a\nb', 'control character in name'],
    ['INBOX/cur/a\\b', 'backslash in name'],
    ['INBOX//cur/x', '"" component'],
    ['INBOX/cur/\ufffd', 'name is not valid UTF-8'],
  ])('refuses %j (%s)', (path, why) => {
    expect(unsafeReason(path)).toBe(why);
  });

  it('accepts plain Maildir paths with spaces and non-ASCII folder names', () => {
    expect(unsafeReason('Entwürfe/cur/k:2,S')).toBeNull();
    expect(unsafeReason('Lists/my list/new/k')).toBeNull();
  });

  it.each([
    [{ mode: '120000', type: 'blob', path: 'INBOX/cur/evil' }, 'symbolic link'],
    [{ mode: '160000', type: 'commit', path: 'INBOX/cur/sub' }, 'submodule'],
    [{ mode: '100755', type: 'blob', path: 'INBOX/cur/x:2,S' }, 'executable file'],
    [{ mode: '100644', type: 'blob', path: 'README' }, 'not a Maildir message, folder file or .mailgit file'],
    [{ mode: '100644', type: 'blob', path: 'INBOX/cur/x:2,S' }, null],
  ] as const)('remote entry %j → %s', (entry, why) => {
    expect(entryProblem(entry)).toBe(why);
  });
});
