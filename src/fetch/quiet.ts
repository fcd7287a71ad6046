/**
 * The per-machine record of the two-way folders a fetch left level with the server, so
 * that fetching a folder where nothing changed on either side costs no SELECT and no
 * per-message work: the server's STATUS (from LIST-STATUS, or the SELECT when the server
 * has no LIST-STATUS) equals the one recorded, and nothing the fetch reads locally — the
 * folder's `cur/` and `new/` directories, its synced state files, its checkpoint entry —
 * changed since.
 *
 * Why this is safe: the server part is the STATUS taken at the SELECT of the run that
 * left the folder level, *before* that run wrote anything. Any later change — that run's
 * own STORE, MOVE or APPEND, or another client's — raises UIDNEXT or HIGHESTMODSEQ, so the
 * next run does the full work and only the run after it is quiet again. The local part is
 * taken after the run's last commit; a directory or file whose mtime is within
 * {@link RACY_MS} of that moment is not trusted (a change in the same clock tick could hide
 * behind an equal mtime), and the folder is then simply not recorded.
 *
 * Only servers with CONDSTORE qualify (without HIGHESTMODSEQ a flag change is invisible in
 * STATUS). Kept in `.git/mailgit/fetch/<account>/quiet.json`, never synced: a replica that
 * receives another's changes sees them as a changed checkpoint or state.
 */
import type { BigIntStats } from 'node:fs';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { RepoPaths } from '../git/run.js';
import { folderDir } from '../maildir/layout.js';
import type { Layout } from '../maildir/layout.js';
import { stateDir } from './state.js';
import type { FolderCheckpoint } from '../merge/checkpoints.js';

/** Stamps younger than this (ms) are not trusted. */
const RACY_MS = 2000;

/** What the server says of a folder without opening it (or at its SELECT). */
export interface ServerStatus {
  uidValidity: string;
  uidNext: number;
  messages: number;
  highestModseq?: string;
}

/** One recorded folder. */
interface QuietEntry {
  remote: string;
  server: string;
  local: string;
}

/** The repo as this module needs it. */
export interface QuietRepo extends RepoPaths {
  layout: Layout;
}

/** A folder asked about or recorded: where it is, what the server said, its checkpoint entry. */
export interface QuietQuery {
  repo: QuietRepo;
  account: string;
  local: string;
  remote: string;
  status: ServerStatus;
  cp: FolderCheckpoint | undefined;
}

/** The server part of a record; `undefined` without CONDSTORE. */
function serverSig(s: ServerStatus): string | undefined {
  return s.highestModseq === undefined ? undefined : `${s.uidValidity}/${s.uidNext}/${s.messages}/${s.highestModseq}`;
}

function stampOf(st: BigIntStats | undefined, now: number): string | undefined {
  if (!st) return '-';
  if (Number(st.mtimeNs / 1_000_000n) > now - RACY_MS) return undefined;
  return `${st.mtimeNs}/${st.ino}/${st.size}`;
}

/**
 * The local part of a record: stamps of `cur/`, `new/`, the state directory and each of
 * its shards, and the checkpoint entry; `undefined` when one of them is too recent.
 */
async function localSig({ repo, account, local, cp }: Pick<QuietQuery, 'repo' | 'account' | 'local' | 'cp'>): Promise<string | undefined> {
  const now = Date.now();
  const dir = join(repo.root, folderDir(repo.layout, local));
  const sdir = join(repo.root, stateDir(account, local));
  const shards = (await readdir(sdir).catch(() => [] as string[])).filter((n) => n.endsWith('.state')).sort();
  const paths = [join(dir, 'cur'), join(dir, 'new'), sdir, ...shards.map((n) => join(sdir, n))];
  const parts: string[] = [];
  for (const p of paths) {
    const s = stampOf(await stat(p, { bigint: true }).catch(() => undefined), now);
    if (s === undefined) return undefined;
    parts.push(s);
  }
  return `${parts.join(' ')} ${JSON.stringify(cp ?? null)}`;
}

/** The quiet record of one account, loaded for a run and saved at its successful end. */
export class QuietFolders {
  private readonly next = new Map<string, QuietEntry>();

  private constructor(
    private readonly path: string,
    private readonly old: Map<string, QuietEntry>,
  ) {}

  /** Loads the record of `account` (an unreadable one is empty: the run does the full work). */
  static async load(repo: RepoPaths, account: string): Promise<QuietFolders> {
    const path = join(repo.gitDir, 'mailgit', 'fetch', account, 'quiet.json');
    let old = new Map<string, QuietEntry>();
    try {
      old = new Map(Object.entries(JSON.parse(await readFile(path, 'utf8')) as Record<string, QuietEntry>));
    } catch {
      /* none yet, or damaged */
    }
    return new QuietFolders(path, old);
  }

  /**
   * Whether the folder is still as the last run left it, on the server (`status`) and here.
   * A quiet folder stays recorded for the next run.
   */
  async quiet(a: QuietQuery): Promise<boolean> {
    const e = this.old.get(a.local);
    const server = serverSig(a.status);
    if (!e || server === undefined || e.remote !== a.remote || e.server !== server) return false;
    if ((await localSig(a)) !== e.local) return false;
    this.next.set(a.local, e);
    return true;
  }

  /** Records a folder the run left level; `status` is the one from its SELECT. */
  async level(a: QuietQuery): Promise<void> {
    const server = serverSig(a.status);
    const local = server === undefined ? undefined : await localSig(a);
    if (server !== undefined && local !== undefined) this.next.set(a.local, { remote: a.remote, server, local });
  }

  /** Writes the record: the folders found quiet or left level by this run, nothing else. */
  async save(): Promise<void> {
    if (this.next.size === 0 && this.old.size === 0) return;
    const out: Record<string, QuietEntry> = {};
    for (const k of [...this.next.keys()].sort()) out[k] = this.next.get(k)!;
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.path, JSON.stringify(out), { mode: 0o600 });
  }
}
