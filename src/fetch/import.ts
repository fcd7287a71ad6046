/**
 * Moving from mbsync or offlineimap: a Maildir they wrote is adopted as it is, and the
 * first fetch of the same account must not download it again nor store a second copy
 * (their files differ from the server's bytes — mbsync writes LF and adds `X-TUID:` — so
 * mailgit's content-derived names would not recognise them). Their state says which
 * server UID each file is; a folder's empty UID map is seeded from it, checked against the
 * server's UIDVALIDITY, and fetch then skips those UIDs like any it fetched itself.
 *
 * - mbsync (isync 1.4/1.5, `SyncState *`): `.mbsyncstate` in the folder's directory,
 *   header lines `FarUidValidity N`, `NearUidValidity N`, `MaxPulledUid N`…, then one line
 *   per pair `FARUID NEARUID [status]FLAGS`; the near UID is in the file name as `,U=N`.
 *   The older (isync ≤ 1.3) header `FARVALIDITY:MAXUID NEARVALIDITY:MAXUID` is read too.
 * - offlineimap (plain status backend): `LocalStatus/FOLDER`, a first line
 *   `OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2` (or none: format 1),
 *   then `UID|FLAGS|MTIME|LABELS` lines (format 1: `UID:FLAGS`); the UIDs are the server's,
 *   and its file names carry them as `,U=N` too; the server's UIDVALIDITY is in the remote
 *   repository's `FolderValidity/FOLDER`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sortFlags } from '../maildir/name.js';

/** One server UID that another tool stored as a local file. */
export interface SeedEntry {
  uid: number;
  /** The local message key (file name before `:2,`). */
  key: string;
  /** Maildir flag letters as the tool last synced them (sorted). */
  flags: string;
}

/** What another tool's state says about one folder. */
export interface Seed {
  /** The server's UIDVALIDITY the UIDs belong to. */
  uidValidity: string;
  entries: SeedEntry[];
}

/** Local UID → key, from `,U=N` in the keys of a folder's files. */
export function localUids(keys: Iterable<string>): Map<number, string> {
  const out = new Map<number, string>();
  for (const key of keys) {
    const m = /,U=(\d+)/.exec(key);
    if (m) out.set(Number(m[1]), key);
  }
  return out;
}

const MAILDIR_LETTERS = /[^DFPRST]/g;

/** Parses an mbsync `.mbsyncstate` against the folder's keys; `null` when it is not one. */
export function parseMbsyncState(text: string, keys: Iterable<string>): Seed | null {
  const lines = text.split('\n');
  let uidValidity: string | undefined;
  let i = 0;
  const old = /^(\d+):\d+ \d+:\d+$/.exec(lines[0] ?? '');
  if (old) {
    uidValidity = old[1];
    i = 1;
  } else {
    for (; i < lines.length && /^[A-Za-z]+ /.test(lines[i]); i++) {
      const [k, v] = lines[i].split(' ');
      if (k === 'FarUidValidity') uidValidity = v;
    }
  }
  if (!uidValidity || !/^\d+$/.test(uidValidity)) return null;
  const near = localUids(keys);
  const entries: SeedEntry[] = [];
  for (; i < lines.length; i++) {
    const m = /^(\d+) (\d+) ?(.*)$/.exec(lines[i]);
    const key = m && near.get(Number(m[2]));
    if (!m || !key || Number(m[1]) <= 0) continue;
    entries.push({ uid: Number(m[1]), key, flags: sortFlags(m[3].replace(MAILDIR_LETTERS, '')) });
  }
  return { uidValidity, entries };
}

/** The first line of offlineimap's plain status file, format 2. */
export const OFFLINEIMAP_MAGIC = 'OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT';

/**
 * Parses an offlineimap plain status file (format 1 or 2) with the folder's
 * `FolderValidity` content against the folder's keys; `null` when it is not one.
 */
export function parseOfflineimapStatus(text: string, validity: string, keys: Iterable<string>): Seed | null {
  const uidValidity = validity.trim();
  if (!/^\d+$/.test(uidValidity)) return null;
  const lines = text.split('\n');
  const v2 = lines[0]?.startsWith(OFFLINEIMAP_MAGIC) === true;
  if (v2 && lines[0] !== `${OFFLINEIMAP_MAGIC} 2`) return null;
  const local = localUids(keys);
  const entries: SeedEntry[] = [];
  for (const line of v2 ? lines.slice(1) : lines) {
    const m = v2 ? /^(\d+)\|([A-Z]*)\|/.exec(line) : /^(\d+):([A-Z]*)$/.exec(line);
    const key = m && local.get(Number(m[1]));
    if (m && key) entries.push({ uid: Number(m[1]), key, flags: sortFlags(m[2].replace(MAILDIR_LETTERS, '')) });
  }
  return { uidValidity, entries };
}

/** Where to look for another tool's state of a folder. */
export interface SeedSource {
  /** The folder's directory (mbsync's `SyncState *` keeps `.mbsyncstate` in it). */
  folderDir: string;
  /** offlineimap: its `LocalStatus/FOLDER` and `FolderValidity/FOLDER` files, if configured. */
  offlineimap?: { status: string; validity: string };
}

async function readOrNull(path: string): Promise<string | null> {
  return readFile(path, 'utf8').catch(() => null);
}

/** Reads another tool's state of a folder (mbsync first, then offlineimap); `null` when there is none. */
export async function readSeed(src: SeedSource, keys: Iterable<string>): Promise<Seed | null> {
  const mbsync = await readOrNull(join(src.folderDir, '.mbsyncstate'));
  if (mbsync !== null) return parseMbsyncState(mbsync, keys);
  if (!src.offlineimap) return null;
  const [status, validity] = await Promise.all([readOrNull(src.offlineimap.status), readOrNull(src.offlineimap.validity)]);
  return status !== null && validity !== null ? parseOfflineimapStatus(status, validity, keys) : null;
}
