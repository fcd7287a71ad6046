/**
 * The per-machine UID map: which local message key each server UID became, and the server
 * flags last seen for it. Kept in `.git/mailgit/fetch/<account>/<folder>.map` (never
 * synced: UIDs are a property of one server session history, and a replica that got the
 * messages through `sync` rebuilds what it needs).
 *
 * It serves two purposes:
 *  - CONDSTORE flag changes name UIDs; the map says which file to rename, and the flags
 *    last seen make the update three-way (a flag the user changed locally survives a
 *    server change to another flag);
 *  - a run interrupted with `--newest-first` (whose checkpoint cannot advance until the
 *    folder is complete) skips what it already stored without downloading it again.
 *
 * Format: a header line `mailgit-uidmap 1 <uidValidity>`, then `uid key flags` lines,
 * appended; a later line for a UID replaces an earlier one. A stale or lost map costs
 * only downloads, never correctness: entries are checked against the files on disk.
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RepoPaths } from '../git/run.js';
import type { FolderAt } from './state.js';

/** What the map knows about one UID. */
export interface UidEntry {
  key: string;
  /** Maildir flag letters of the server flags last seen (sorted). */
  flags: string;
}

/** One folder's map. */
export class UidMap {
  readonly entries = new Map<number, UidEntry>();
  private pending: string[] = [];
  private lines = 0;
  private fileValid = false;

  private constructor(
    private readonly path: string,
    readonly uidValidity: string,
  ) {}

  /** File of a folder's map. The folder name is percent-encoded into one path segment. */
  static pathFor({ gitDir }: RepoPaths, { account, folder }: Omit<FolderAt, 'uidValidity'>): string {
    return join(gitDir, 'mailgit', 'fetch', account, `${encodeURIComponent(folder).replace(/\./g, '%2E')}.map`);
  }

  /** Loads a folder's map; an absent map, or one for another UIDVALIDITY, is empty. */
  static async load(repo: RepoPaths, at: FolderAt): Promise<UidMap> {
    const { uidValidity } = at;
    const path = UidMap.pathFor(repo, at);
    const m = new UidMap(path, uidValidity);
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return m;
    }
    const lines = text.split('\n');
    if (lines[0] !== `mailgit-uidmap 1 ${uidValidity}`) return m;
    m.fileValid = true;
    for (let i = 1; i < lines.length; i++) {
      const [u, key, flags = ''] = lines[i].split(' ');
      const uid = Number(u);
      if (!key || !Number.isSafeInteger(uid)) continue;
      m.entries.set(uid, { key, flags });
      m.lines++;
    }
    return m;
  }

  /** Records a UID's key and server flags (written by {@link flush}). */
  set(uid: number, key: string, flags: string): void {
    this.entries.set(uid, { key, flags });
    this.pending.push(`${uid} ${key} ${flags}`);
  }

  /** Appends the pending lines (rewriting the file when it has become mostly stale). */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    // Taken before the writes: a line set while they run stays pending for the next flush.
    const pending = this.pending;
    this.pending = [];
    try {
      await mkdir(join(this.path, '..'), { recursive: true, mode: 0o700 });
      const header = `mailgit-uidmap 1 ${this.uidValidity}\n`;
      if (!this.fileValid || this.lines + pending.length > 2 * this.entries.size + 1000) {
        const body = [...this.entries].map(([u, e]) => `${u} ${e.key} ${e.flags}\n`).join('');
        await writeFile(this.path, header + body, { mode: 0o600 });
        this.lines = this.entries.size;
        this.fileValid = true;
      } else {
        await appendFile(this.path, pending.map((l) => `${l}\n`).join(''));
        this.lines += pending.length;
      }
    } catch (e) {
      this.pending = [...pending, ...this.pending];
      throw e;
    }
  }
}
