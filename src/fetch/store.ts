/**
 * Writing fetched messages into a Maildir folder of the work tree, crash-safely:
 * body → `tmp/` (hashing as it streams) → fsync → rename into `new/` or `cur/` → fsync
 * the directory. The file name is deterministic — `<INTERNALDATE seconds>.mg<sha256/16>.mailgit`
 * — so two replicas that fetch the same message write the same path and blob.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, renameSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, unlink, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fsyncDir, fsyncPath, writeFileAtomic } from '../util/atomic.js';
import { flagsOf, infoOfFlags, sortFlags, splitName } from '../maildir/name.js';
import { folderMarker } from '../maildir/layout.js';
import { MAIL_DIR_MODE, MAIL_FILE_MODE } from '../repo/perms.js';
import { KEYWORDS_FILE, KeywordLetters, translateLetters } from '../maildir/keywords.js';
import { SYSTEM_LETTERS as MAPPED_LETTERS } from '../merge/imapState.js';

/** Server system flag → Maildir letter. Keywords get a folder's `dovecot-keywords` letters (a–z). */
const FLAG_LETTERS: Record<string, string> = {
  '\\seen': 'S',
  '\\answered': 'R',
  '\\flagged': 'F',
  '\\deleted': 'T',
  '\\draft': 'D',
  $forwarded: 'P',
};

/** Maildir letter → IMAP flag (the inverse of the mapping above). */
const LETTER_FLAGS: Record<string, string> = { S: '\\Seen', R: '\\Answered', F: '\\Flagged', T: '\\Deleted', D: '\\Draft', P: '$Forwarded' };

/** The deterministic key of a message. */
export function messageKey(internalDate: Date | string | undefined, sha256hex: string): string {
  const ms = internalDate === undefined ? NaN : new Date(internalDate).getTime();
  const secs = Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
  return `${secs}.mg${sha256hex.slice(0, 16)}.mailgit`;
}

/** The content hash (16 hex digits) a key made by {@link messageKey} carries; undefined for another program's name. */
export function keyHash(key: string): string | undefined {
  return /^\d+\.mg([0-9a-f]{16})\.mailgit$/.exec(key)?.[1];
}

/** A message written to `tmp/`, not yet visible. */
export interface TmpMessage {
  tmp: string;
  sha256: string;
  size: number;
}

/** Where a key currently lives in the folder. */
export interface Located {
  sub: 'cur' | 'new';
  name: string;
}

let counter = 0;

/** One local Maildir folder being fetched into. */
export class FolderStore {
  private index: Map<string, Located> | null = null;
  private dirtyDirs = new Set<string>();
  private keywords = new KeywordLetters();

  constructor(readonly abs: string) {}

  /**
   * Maildir letters (sorted) for a message's server flags: system flags as `S R F T D P`,
   * keywords (`$Junk`, `$Label1`, custom) as the folder's `dovecot-keywords` letters —
   * a new keyword gets the next free letter (written by {@link saveKeywords} before a
   * file uses it). Keywords past the 26th, and `\Recent`, are not mapped.
   */
  lettersOf(flags: Iterable<string> | undefined): string {
    const out = new Set<string>();
    for (const f of flags ?? []) {
      const l = FLAG_LETTERS[f.toLowerCase()] ?? (f.startsWith('\\') ? undefined : this.keywords.letterOf(f));
      if (l) out.add(l);
    }
    return sortFlags([...out].join(''));
  }

  /** The IMAP flag or keyword a letter mirrors, if any. */
  flagOf(letter: string): string | undefined {
    return LETTER_FLAGS[letter] ?? this.keywords.keywordOf(letter);
  }

  /** The letters that mirror server flags here: the system flags' and the folder's keyword letters. */
  mirrored(): string {
    return MAPPED_LETTERS + this.keywords.letters();
  }

  /** The mirrored letters (sorted) of a file name of this folder. */
  mirroredOf(name: string): string {
    const mirrored = this.mirrored();
    return [...flagsOf(splitName(name).info)].filter((l) => mirrored.includes(l)).join('');
  }

  /** Writes `dovecot-keywords` (atomically) when a keyword was added; before any file uses its letter. */
  async saveKeywords(): Promise<void> {
    if (!this.keywords.changed) return;
    // Cleared before the write: a keyword added while it runs is written by the next call.
    this.keywords.changed = false;
    try {
      await writeFileAtomic(join(this.abs, KEYWORDS_FILE), this.keywords.format(), { mode: MAIL_FILE_MODE });
    } catch (e) {
      this.keywords.changed = true;
      throw e;
    }
  }

  /** Creates `cur/ new/ tmp/` (and the folder marker, for a non-root folder); removes stale fetch temporaries. */
  async prepare(root: string, dir: string): Promise<void> {
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(this.abs, sub), { recursive: true, mode: MAIL_DIR_MODE });
    this.keywords = KeywordLetters.parse(await readFile(join(this.abs, KEYWORDS_FILE), 'utf8').catch(() => null));
    const marker = folderMarker(dir);
    if (marker) {
      const p = join(root, marker);
      try {
        await stat(p);
      } catch {
        await writeFile(p, '', { mode: MAIL_FILE_MODE });
      }
    }
    // The repo lock is held: any fetch temporary is left over from a killed run.
    for (const n of await readdir(join(this.abs, 'tmp'))) {
      if (n.startsWith('mgfetch.')) await unlink(join(this.abs, 'tmp', n)).catch(() => undefined);
    }
  }

  /** Key → location of every message in `cur/` and `new/` (read once, then kept up to date). */
  async keys(): Promise<Map<string, Located>> {
    if (this.index) return this.index;
    const idx = new Map<string, Located>();
    for (const sub of ['new', 'cur'] as const) {
      let names: string[] = [];
      try {
        names = await readdir(join(this.abs, sub));
      } catch {
        /* missing sub */
      }
      for (const name of names) {
        if (name.startsWith('.')) continue;
        idx.set(splitName(name).key, { sub, name });
      }
    }
    this.index = idx;
    return idx;
  }

  private tmpPath(): string {
    return join(this.abs, 'tmp', `mgfetch.${process.pid}.${++counter}`);
  }

  /**
   * Writes a buffered message (under the stream threshold) to `tmp/`, not yet fsynced (see
   * {@link commitBatch}). Synchronously: into the page cache that is a few microseconds,
   * cheaper than three thread-pool round trips per message.
   */
  async writeBuffer(data: Buffer): Promise<TmpMessage> {
    const tmp = this.tmpPath();
    writeFileSync(tmp, data, { mode: MAIL_FILE_MODE, flag: 'wx' });
    return { tmp, sha256: createHash('sha256').update(data).digest('hex'), size: data.length };
  }

  /** Streams a message to `tmp/`, hashing on the way; memory stays at one chunk. */
  async writeStream(src: Readable): Promise<TmpMessage> {
    const tmp = this.tmpPath();
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await pipeline(src, tap, createWriteStream(tmp, { mode: MAIL_FILE_MODE, flags: 'wx' }));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    return { tmp, sha256: hash.digest('hex'), size };
  }

  /** Discards a temporary. */
  async discard(t: TmpMessage): Promise<void> {
    await unlink(t.tmp).catch(() => undefined);
  }

  /**
   * Makes written temporaries durable and visible: fsync each (in parallel), then rename
   * each into `cur/KEY:2,FLAGS` (flags present) or `new/KEY` (none). A key already in the
   * folder (any sub, any flags) is not written again. Returns how many were new.
   */
  async commitBatch(items: { t: TmpMessage; key: string; letters: string }[]): Promise<{ added: number; existing: number }> {
    await parallel(items, 16, ({ t }) => fsyncPath(t.tmp));
    await this.saveKeywords();
    const idx = await this.keys();
    let added = 0;
    let existing = 0;
    for (const { t, key, letters } of items) {
      if (idx.has(key)) {
        existing++;
        await unlink(t.tmp).catch(() => undefined);
        continue;
      }
      const loc: Located = letters ? { sub: 'cur', name: key + infoOfFlags(letters) } : { sub: 'new', name: key };
      // Synchronously, like the write: a rename within one directory tree is a quick
      // metadata change, and the batch's renames were 200 sequential thread-pool round trips.
      renameSync(t.tmp, join(this.abs, loc.sub, loc.name));
      this.dirtyDirs.add(loc.sub);
      idx.set(key, loc);
      added++;
    }
    await this.syncDirs();
    return { added, existing };
  }

  /**
   * Applies a server flag change three-way: letters the server removed since `oldServer`
   * go, letters it added come, local-only letters (letters without a keyword, local changes) stay.
   * `oldServer` null means unknown: the server's mapped letters win. Returns true when
   * the file was renamed.
   */
  async applyFlags(key: string, oldServer: string | null, newServer: string): Promise<boolean> {
    await this.saveKeywords();
    const idx = await this.keys();
    const loc = idx.get(key);
    if (!loc) return false; // deleted locally: never resurrect
    const local = new Set(flagsOf(splitName(loc.name).info));
    if (oldServer === null) {
      for (const l of this.mirrored()) local.delete(l);
      for (const l of newServer) local.add(l);
    } else {
      for (const l of oldServer) if (!newServer.includes(l)) local.delete(l);
      for (const l of newServer) if (!oldServer.includes(l)) local.add(l);
    }
    return this.renameTo(key, loc, sortFlags([...local].join('')));
  }

  /** Gives the file of `key` (at `loc`) exactly `letters` (sorted); returns true when it was renamed. */
  private async renameTo(key: string, loc: Located, letters: string): Promise<boolean> {
    const cur = flagsOf(splitName(loc.name).info);
    if (letters === cur && (loc.sub === 'cur' || letters === '')) return false;
    if (loc.sub === 'new' && letters === '') return false;
    const next: Located = { sub: 'cur', name: key + infoOfFlags(letters) };
    await rename(join(this.abs, loc.sub, loc.name), join(this.abs, next.sub, next.name));
    this.dirtyDirs.add(loc.sub).add(next.sub);
    (await this.keys()).set(key, next);
    return true;
  }

  /** Letters of folder `from` as this folder's letters for the same flags and keywords (see {@link translateLetters}). */
  lettersFrom(from: FolderStore, letters: string): string {
    return sortFlags(translateLetters(from.keywords, this.keywords, letters));
  }

  /**
   * A message moved here from folder `from` (a mail client, or a merge, moves the file
   * name and its letters as they are): renames its file to this folder's letters for its
   * keywords, writing the table first. Returns true when it was renamed.
   */
  async adoptLetters(key: string, from: FolderStore): Promise<boolean> {
    const loc = (await this.keys()).get(key);
    if (!loc) return false;
    const letters = this.lettersFrom(from, flagsOf(splitName(loc.name).info));
    await this.saveKeywords();
    return this.renameTo(key, loc, letters);
  }

  /**
   * Gives a message exactly the mirrored letters `mapped`, keeping its other letters
   * (ones without a keyword). Returns true when the file was renamed.
   */
  async setMapped(key: string, mapped: string): Promise<boolean> {
    const loc = (await this.keys()).get(key);
    if (!loc) return false;
    const mirrored = this.mirrored();
    const others = [...flagsOf(splitName(loc.name).info)].filter((l) => !mirrored.includes(l));
    return this.applyFlags(key, null, sortFlags(others.join('') + mapped));
  }

  /** Removes a message from the folder (the server expunged it, or it is a duplicate). */
  async remove(key: string): Promise<boolean> {
    const idx = await this.keys();
    const loc = idx.get(key);
    if (!loc) return false;
    await unlink(join(this.abs, loc.sub, loc.name));
    this.dirtyDirs.add(loc.sub);
    idx.delete(key);
    return true;
  }

  /** Renames a message to another key (same content), keeping its sub-directory and letters. */
  async rekey(key: string, next: string): Promise<void> {
    const idx = await this.keys();
    const loc = idx.get(key)!;
    const info = splitName(loc.name).info;
    const to: Located = { sub: loc.sub, name: next + info };
    await rename(join(this.abs, loc.sub, loc.name), join(this.abs, to.sub, to.name));
    this.dirtyDirs.add(loc.sub);
    idx.delete(key);
    idx.set(next, to);
  }

  /** Fsyncs the sub-directories renamed into since the last call (one renamed into meanwhile waits for the next). */
  async syncDirs(): Promise<void> {
    const dirs = [...this.dirtyDirs];
    this.dirtyDirs.clear();
    try {
      for (const sub of dirs) await fsyncDir(join(this.abs, sub));
    } catch (e) {
      for (const sub of dirs) this.dirtyDirs.add(sub);
      throw e;
    }
  }
}

/** Runs `fn` over `items` with at most `n` in flight. */
export async function parallel<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]);
  });
  await Promise.all(workers);
}
