/**
 * `restore --folder F --as-of T`, streamed: a folder of 100,000 messages comes back
 * without a record per message held for the whole run. Three passes over git listings,
 * each read in batches as git writes it:
 *   1. HEAD's messages, kept as 52-bit hashes of their keys and blobs (8 bytes each),
 *   2. the folder as it was at T: a message whose key or blob HEAD may hold is set aside,
 *      every other is streamed into a private index that holds HEAD's tree (indexTree.ts),
 *   3. only when some were set aside: HEAD again, for the exact names of those; each is
 *      reported where HEAD holds it, or comes back after all (a hash collision).
 * Then the tree is written from that index, committed, and applied in batches
 * (change.ts, apply.ts: tmp/, fsync, rename, with the journal). What a restore brings
 * back and its guarantees (never a second copy) are those of restore.ts.
 */
import { join } from 'node:path';
import { emptyBlob } from '../git/blobs.js';
import { IndexTree } from '../git/indexTree.js';
import { lsTreeBatches } from '../git/tree.js';
import { folderMarker, folderName } from '../maildir/layout.js';
import { parseMessagePath } from '../maildir/name.js';
import { EX, MailgitError } from '../util/errors.js';
import { HashSet52 } from '../util/hashSet.js';
import { perfMark } from '../util/perf.js';
import { commitTreeChange } from './change.js';
import type { LockedRepo } from './lock.js';
import { stateDir } from './repo.js';
import type { Repo } from './repo.js';
import { prepare } from './restore.js';
import type { RestoreOptions, RestoreReport } from './restore.js';
import { folderDirOf } from './treeMessages.js';
import type { StoredMessage } from './treeMessages.js';

/** Yields the messages (files that parse as `FOLDER/cur|new/NAME`) below `treeish`, or below `paths`, in batches. */
async function* messageBatches(repo: Repo, treeish: string, paths: string[] = []): AsyncGenerator<StoredMessage[]> {
  for await (const entries of lsTreeBatches(repo.root, treeish, paths)) {
    const out: StoredMessage[] = [];
    for (const e of entries) {
      const m = e.type === 'blob' ? parseMessagePath(e.path) : null;
      if (m) out.push({ ...m, path: e.path, oid: e.oid });
    }
    yield out;
  }
}

/** Pass 1: what HEAD may hold, by key and by blob, and whether it has the folder's marker. */
async function heldBy(repo: Repo, head: string, marker: string | null): Promise<{ keys: HashSet52; oids: HashSet52; marker: boolean }> {
  const keys = new HashSet52();
  const oids = new HashSet52();
  let hasMarker = false;
  for await (const entries of lsTreeBatches(repo.root, head)) {
    for (const e of entries) {
      if (e.path === marker) hasMarker = true;
      const m = e.type === 'blob' ? parseMessagePath(e.path) : null;
      if (!m) continue;
      keys.add(m.key);
      oids.add(e.oid);
    }
  }
  return { keys, oids, marker: hasMarker };
}

/** Pass 3: where HEAD holds each of `maybe` (by key first, then by blob, as `holding` in treeMessages.ts); undefined where it does not. */
async function whereHeld(repo: Repo, head: string, maybe: StoredMessage[]): Promise<(string | undefined)[]> {
  if (maybe.length === 0) return [];
  const byKey = new Map<string, string>(maybe.map((m) => [m.key, '']));
  const byOid = new Map<string, string>(maybe.map((m) => [m.oid, '']));
  for await (const batch of messageBatches(repo, head)) {
    for (const m of batch) {
      if (byKey.get(m.key) === '') byKey.set(m.key, m.path);
      if (byOid.get(m.oid) === '') byOid.set(m.oid, m.path);
    }
  }
  return maybe.map((m) => byKey.get(m.key) || byOid.get(m.oid) || undefined);
}

/** Where the brought-back messages go: counted, listed when asked, added to the tree being built (none in a dry run). */
class Comeback {
  count = 0;
  readonly listed: StoredMessage[] = [];

  constructor(
    private readonly tree: IndexTree | null,
    private readonly list: boolean,
  ) {}

  async add(m: StoredMessage): Promise<void> {
    this.count++;
    if (this.list) this.listed.push(m);
    await this.tree?.add(m.path, m.oid);
  }
}

/** Pass 2 and 3: streams the folder `dir` as of `commit` into `back`, and returns the messages HEAD holds and how many the folder held. */
async function sortOut(
  repo: Repo,
  o: { head: string; commit: string; dir: string; held: { keys: HashSet52; oids: HashSet52 }; back: Comeback },
): Promise<{ present: RestoreReport['present']; held: number }> {
  const maybe: StoredMessage[] = [];
  let held = 0;
  const paths = o.dir === '' ? ['cur', 'new'] : [`${o.dir}/cur`, `${o.dir}/new`];
  for await (const batch of messageBatches(repo, o.commit, paths)) {
    for (const m of batch) {
      held++;
      if (o.held.keys.mayHave(m.key) || o.held.oids.mayHave(m.oid)) maybe.push(m);
      else await o.back.add(m);
    }
  }
  perfMark('restore: listed');
  const now = await whereHeld(repo, o.head, maybe);
  const present: RestoreReport['present'] = [];
  for (const [i, m] of maybe.entries()) {
    if (now[i] === undefined) await o.back.add(m);
    else present.push({ message: m, now: now[i]! });
  }
  return { present, held };
}

/** Which folder {@link restoreFolder} fills again, and as of when. */
export interface FolderRestore {
  /** The folder's name as the user writes it (`Lists/rust`). */
  folder: string;
  /** The moment (a date, "2 days ago", a commit). */
  asOf: string;
}

/**
 * Makes folder `folder` hold again every message it held at moment `asOf`, with the
 * flags it had then, leaving alone what arrived since and what HEAD holds elsewhere (see
 * the module comment for how it streams). The report lists the messages brought back
 * only with `opts.list`; its `count` always says how many. A dry run sorts the same
 * stream against the same HEAD (see `prepare` in restore.ts) and builds no tree.
 */
export async function restoreFolder(repo: LockedRepo, { folder, asOf }: FolderRestore, opts: RestoreOptions = {}): Promise<RestoreReport> {
  const dir = folderDirOf(repo, folder);
  const { head, moment } = await prepare(repo, asOf, opts);
  const marker = folderMarker(dir);
  const held = await heldBy(repo, head, marker);
  perfMark('restore: HEAD read');
  const tree = opts.dryRun ? null : await IndexTree.open(repo.root, head, join(stateDir(repo), 'restore.index'));
  try {
    const back = new Comeback(tree, opts.list === true);
    const sorted = await sortOut(repo, { head, commit: moment!.commit, dir, held, back });
    if (sorted.held === 0) throw new MailgitError(`folder ${JSON.stringify(folder)} held no mail at ${asOf}`, 'ENOMSG', EX.NOINPUT);
    const lines = back.count === 0 ? [] : [`${folderName(repo.layout, dir)}: ${back.count} restored`];
    const report: RestoreReport = { commit: null, count: back.count, restored: back.listed, present: sorted.present, lines };
    if (tree === null || back.count === 0) return report;
    if (marker !== null && !held.marker) await tree.add(marker, await emptyBlob(repo.root));
    const written = await tree.write();
    perfMark('restore: tree written');
    report.commit = await commitTreeChange(repo, {
      head,
      change: { subject: `${folder}: restored as of ${asOf} (${back.count} messages)`, lines, tree: written },
      progress: opts.progress,
    });
    return report;
  } finally {
    await tree?.close();
  }
}
