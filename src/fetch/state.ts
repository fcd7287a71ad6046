/**
 * The synced state of a two-way folder: UID → (message key, flags repo and server last
 * agreed on), plus the *held* keys that must never be uploaded. The file format and its
 * merge are in src/merge/imapState.ts; this module loads and writes it.
 *
 * Why synced and not per machine: the agreed flags are the base of a three-way decision
 * (who changed a flag: the repo or the server?). A replica that receives another
 * replica's flag change through `sync` must also receive the base that replica agreed on
 * with the server, or it would push a flag back that the server has since changed (a phone
 * marking a mail unread again would be undone): the base travels in the same commit as
 * the files it describes. It also carries UID → key, so a replica never downloads a
 * message another replica already fetched to find its file.
 *
 * Files: `.mailgit/imap/<account>/<folder>/<n>.state`, one per 4096 UIDs (`n` = uid/4096,
 * held keys in shard 0), so a change rewrites a few KB and no file nears the 1 MiB limit
 * for `.mailgit/` files a peer may send. Written atomically before the commit that
 * records them, by the caller (`flush`), with the fetch checkpoint.
 */
import { mkdir, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { RepoPaths } from '../git/run.js';
import { formatImapState, parseImapState, stateSegment, type ImapStateLine } from '../merge/imapState.js';

const SHARD = 4096;

/** What the state knows of one UID. */
export interface StateEntry {
  key: string;
  /** Agreed letters (sorted); `null`: deleted in the repo, `\Deleted` sent. */
  flags: string | null;
  stamp: string;
}

/** One folder of one account, as the server numbers it now: where its per-folder fetch state lives. */
export interface FolderAt {
  account: string;
  /** The local folder name. */
  folder: string;
  uidValidity: string;
}

/** Repo-relative directory of a folder's state. */
export function stateDir(account: string, folder: string): string {
  return `.mailgit/imap/${account}/${stateSegment(folder)}`;
}

/** One two-way folder's state. */
export class FolderState {
  readonly entries = new Map<number, StateEntry>();
  /** Held keys → stamp. */
  readonly held = new Map<string, string>();
  /** Key → UIDs that carry it (normally one). */
  private readonly byKey = new Map<string, Set<number>>();
  private readonly dirty = new Set<number>();
  /** The stamp of writes made now (set per run: HIGHESTMODSEQ or the clock). */
  stamp = String(Date.now());

  /** The folder's UIDVALIDITY this state is for. */
  readonly uidValidity: string;
  /** Whether state existed for this UIDVALIDITY (false: first two-way run, or UIDVALIDITY changed). */
  readonly existed: boolean;

  private constructor(
    private readonly repo: RepoPaths,
    private readonly dir: string,
    opened: { uidValidity: string; existed: boolean },
  ) {
    this.uidValidity = opened.uidValidity;
    this.existed = opened.existed;
  }

  /**
   * Loads a folder's state for `uidValidity`. State for another UIDVALIDITY is discarded
   * (every shard is rewritten at the next flush); `existed` tells which.
   */
  static async load(repo: RepoPaths, { account, folder, uidValidity }: FolderAt): Promise<FolderState> {
    const dir = stateDir(account, folder);
    let names: string[] = [];
    try {
      names = (await readdir(join(repo.root, dir))).filter((n) => /^\d+\.state$/.test(n));
    } catch {
      /* no state yet */
    }
    const files = await Promise.all(names.map(async (n) => parseImapState(await readFile(join(repo.root, dir, n), 'utf8').catch(() => undefined))));
    const valid = names.includes('0.state') && files.every((f) => f?.uidValidity === uidValidity);
    const s = new FolderState(repo, dir, { uidValidity, existed: valid });
    if (valid) for (const f of files) for (const l of f!.lines) s.put(l);
    else for (const n of ['0.state', ...names]) s.dirty.add(Number(n.slice(0, -'.state'.length)));
    return s;
  }

  private put(l: ImapStateLine): void {
    if (l.uid === 0) {
      this.held.set(l.key, l.stamp);
      return;
    }
    this.entries.set(l.uid, { key: l.key, flags: l.flags, stamp: l.stamp });
    let set = this.byKey.get(l.key);
    if (!set) this.byKey.set(l.key, (set = new Set()));
    set.add(l.uid);
  }

  /** Whether some UID of this folder carries `key`. */
  hasKey(key: string): boolean {
    return (this.byKey.get(key)?.size ?? 0) > 0;
  }

  /** Whether a UID other than `uid` carries `key` (the same message under a new UID: moved away and back). */
  sharedKey(key: string, uid: number): boolean {
    return [...(this.byKey.get(key) ?? [])].some((u) => u !== uid);
  }

  /** Records a UID's key and agreed letters (`null`: deleted here, `\Deleted` sent). */
  set(uid: number, key: string, flags: string | null): void {
    const old = this.entries.get(uid);
    if (old && old.key === key && old.flags === flags) return;
    if (old) this.byKey.get(old.key)?.delete(uid);
    this.put({ uid, key, flags, stamp: this.stamp });
    this.dirty.add(Math.floor(uid / SHARD));
  }

  /**
   * Stamps a UID's entry anew with a later `stamp` (a MODSEQ), its key and letters as they
   * are: the server showed this run that they are still what it has as of `stamp`. Two
   * versions of an entry merge by stamp (src/merge/imapState.ts), so an entry confirmed
   * later must not lose to an older one that another replica changed.
   */
  restamp(uid: number, stamp = this.stamp): void {
    const e = this.entries.get(uid);
    if (!e || BigInt(stamp) <= BigInt(e.stamp)) return;
    e.stamp = stamp;
    this.dirty.add(Math.floor(uid / SHARD));
  }

  /** Forgets a UID (expunged on the server, or moved away). */
  remove(uid: number): void {
    const old = this.entries.get(uid);
    if (!old) return;
    this.entries.delete(uid);
    this.byKey.get(old.key)?.delete(uid);
    this.dirty.add(Math.floor(uid / SHARD));
  }

  /** Marks a local key as never to be uploaded. */
  hold(key: string): void {
    if (this.held.has(key)) return;
    this.held.set(key, this.stamp);
    this.dirty.add(0);
  }

  /** Forgets a held key. */
  unhold(key: string): void {
    if (this.held.delete(key)) this.dirty.add(0);
  }

  /** Writes the changed shards (atomically; an emptied shard is removed). */
  async flush(): Promise<void> {
    if (this.dirty.size === 0) return;
    const abs = join(this.repo.root, this.dir);
    const tmpDir = join(this.repo.gitDir, 'mailgit', 'tmp');
    await mkdir(abs, { recursive: true, mode: 0o700 });
    await mkdir(tmpDir, { recursive: true, mode: 0o700 });
    // Taken before the writes: a shard changed while they run is written by the next flush.
    const dirty = [...this.dirty];
    this.dirty.clear();
    try {
      for (const n of dirty) await this.writeShard(abs, n, tmpDir);
    } catch (e) {
      for (const n of dirty) this.dirty.add(n);
      throw e;
    }
  }

  /** Writes shard `n` as the entries are now (removes an emptied one). */
  private async writeShard(abs: string, n: number, tmpDir: string): Promise<void> {
    const lines: ImapStateLine[] = [];
    for (const [uid, e] of this.entries) if (Math.floor(uid / SHARD) === n) lines.push({ uid, ...e });
    if (n === 0) for (const [key, stamp] of this.held) lines.push({ uid: 0, key, flags: '', stamp });
    const path = join(abs, `${n}.state`);
    // Shard 0 always exists: it says that the folder's state does (even when empty).
    if (lines.length === 0 && n !== 0) await unlink(path).catch(() => undefined);
    else await writeFileAtomic(path, formatImapState({ uidValidity: this.uidValidity, lines }), { mode: 0o644, tmpDir });
  }
}
