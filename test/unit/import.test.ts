/**
 * Reading mbsync's and offlineimap's state (src/fetch/import.ts). mbsync's format is also
 * read from a real mbsync run in test/e2e/fetch-mbsync.test.ts; offlineimap is not
 * installed here, so its plain status format is written below from its documented format
 * (offlineimap's LocalStatus folder: the magic first line of format 2, then
 * `uid|flags|mtime|labels`; format 1: `uid:flags`; `FolderValidity/FOLDER` holds the
 * server's UIDVALIDITY).
 */
import { describe, expect, test } from 'vitest';
import { localUids, OFFLINEIMAP_MAGIC, parseMbsyncState, parseOfflineimapStatus } from '../../src/fetch/import.js';

const mbsyncKeys = ['1796306282.21610_1.vm,U=1', '1796306282.21610_2.vm,U=2', '1796306282.21610_4.vm,U=4', 'other.mailgit'];

describe('mbsync state', () => {
  test('isync 1.4 header and pairs: far UID → the file whose name has the near UID; flags sorted; pairs without a file or a far UID skipped, status marks ignored', () => {
    const text = 'FarUidValidity 1700000000\nNearUidValidity 1796306282\nMaxPulledUid 9\nMaxPushedUid 4\n7 1 SF\n8 2 \n9 3 S\n0 4 S\n5 4 >T\n';
    expect(parseMbsyncState(text, mbsyncKeys)).toEqual({
      uidValidity: '1700000000',
      entries: [
        { uid: 7, key: '1796306282.21610_1.vm,U=1', flags: 'FS' },
        { uid: 8, key: '1796306282.21610_2.vm,U=2', flags: '' },
        { uid: 5, key: '1796306282.21610_4.vm,U=4', flags: 'T' },
      ],
    });
  });

  test('the isync ≤ 1.3 header (FARVALIDITY:MAX NEARVALIDITY:MAX) is read too', () => {
    expect(parseMbsyncState('1700000001:3 1796306282:2\n3 2 R\n', mbsyncKeys)).toEqual({
      uidValidity: '1700000001',
      entries: [{ uid: 3, key: '1796306282.21610_2.vm,U=2', flags: 'R' }],
    });
  });

  test('not a state file → null', () => {
    expect(parseMbsyncState('', mbsyncKeys)).toBeNull();
    expect(parseMbsyncState('hello world\n', mbsyncKeys)).toBeNull();
  });
});

describe('offlineimap status (plain backend)', () => {
  const keys = ['1700000000_0.1234.host,U=12,FMD5=7e33429f656f1e6e9d79b29c3f82c57e', '1700000001_1.1234.host,U=13,FMD5=7e33429f656f1e6e9d79b29c3f82c57e'];

  test('format 2: uid|flags|mtime|labels; the UIDs are the server’s', () => {
    const text = `${OFFLINEIMAP_MAGIC} 2\n12|SR|1700000000|\n13||0|work,todo\n14|S|0|\n`;
    expect(parseOfflineimapStatus(text, '1600000000\n', keys)).toEqual({
      uidValidity: '1600000000',
      entries: [
        { uid: 12, key: keys[0], flags: 'RS' },
        { uid: 13, key: keys[1], flags: '' },
      ],
    });
  });

  test('format 1: uid:flags', () => {
    expect(parseOfflineimapStatus('12:S\n13:FS\n', '1600000000', keys)?.entries.map((e) => [e.uid, e.flags])).toEqual([
      [12, 'S'],
      [13, 'FS'],
    ]);
  });

  test('an unknown format version or no UIDVALIDITY → null (nothing is trusted)', () => {
    expect(parseOfflineimapStatus(`${OFFLINEIMAP_MAGIC} 3\n12|S|0|\n`, '1600000000', keys)).toBeNull();
    expect(parseOfflineimapStatus('12:S\n', '', keys)).toBeNull();
  });

  test('localUids reads ,U=N from keys', () => {
    expect([...localUids(['a,U=3,FMD5=x', 'b', 'c,U=10'])]).toEqual([
      [3, 'a,U=3,FMD5=x'],
      [10, 'c,U=10'],
    ]);
  });
});
