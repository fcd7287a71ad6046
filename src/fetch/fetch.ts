/**
 * `mailgit fetch`: IMAP → Maildir folders of the repo, committed in batches with the
 * checkpoint that covers them.
 *
 * The server is reached through a {@link MailSource} (`mailSource.ts`): IMAP by default
 * (`imapSource.ts`), in memory in tests (`test/doubles/memorySource.ts`). This module holds the logic.
 *
 * Per account: connect, LIST (with STATUS where the server has LIST-STATUS), pick folders,
 * then per folder:
 *   1. SELECT (read-only); UIDVALIDITY differs from the checkpoint → re-read the folder
 *      (deterministic names: nothing is duplicated, nothing deleted);
 *   2. CONDSTORE: flags changed since the stored MODSEQ on already-fetched UIDs are applied
 *      to the local files (three-way, see FolderStore.applyFlags);
 *   3. list new UIDs with flags, INTERNALDATE, size (the whole list first), then download
 *      in chunks — small messages in one round trip per chunk (`downloadMany`), large ones
 *      streamed to disk one by one (`download`);
 *   4. per chunk: tmp → fsync → rename; when a commit is due (every ~1,000 messages or ~5 s,
 *      and at the end): flush the UID map, write the checkpoint, record — the
 *      checkpoint is in the same commit as the messages it covers. A chunk is stored and
 *      committed while the next one downloads into `tmp/`.
 * A crash anywhere leaves either uncommitted-but-complete files (recorded by the next
 * run, which skips them by key) or tmp files (removed by the next run).
 *
 * Pull accounts open folders read-only and keep a per-machine UID map. Two-way accounts
 * (`sync: both`) open them read-write, keep the synced state of src/fetch/state.ts
 * instead, and after each folder's new mail run the passes of src/fetch/twoway.ts
 * (flags and server expunges per folder; then moves, deletions and uploads).
 * Without CONDSTORE, step 2 is a `UID FETCH 1:n (FLAGS)` scan.
 */
import { join } from 'node:path';
import type { LockedRepo } from '../repo/lock.js';
import { RecordSession } from '../repo/record.js';
import { folderDir, folderNameProblem } from '../maildir/layout.js';
import { MailgitError, PermissionError, UnavailableError, EX, errnoMeaning, errnoOf, messageOf } from '../util/errors.js';
import type { MailgitErrorJSON } from '../util/errors.js';
import { readLocalSettings, type Account } from './account.js';
import { readSeed, type SeedSource } from './import.js';
import { type Checkpoints, type FolderCheckpoint, formatCheckpoints } from '../merge/checkpoints.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { folderSelected, localFolderName, matchesPattern, slashPath } from './folders.js';
import { FolderStore, keyHash, messageKey, type TmpMessage } from './store.js';
import { UidMap } from './uidmap.js';
import { silentProgress, type Progress } from './progress.js';
import { MailSourceError, type MailSource, type MessageMeta, type OpenedFolder, type SourceFolder } from './mailSource.js';
import { imapSource } from './imapSource.js';
import { FolderState } from './state.js';
import { QuietFolders, type ServerStatus } from './quiet.js';
import {
  noCounts,
  pushRemovals,
  reconcileFolder,
  RELEARN_MARK,
  unsentByHash,
  uploadNew,
  type TwoWayCounts,
  type TwoWayEnv,
  type TwoWayFolder,
} from './twoway.js';

/** Options of one fetch run. */
export interface FetchOptions {
  /** Only folders matching one of these (remote or local names, patterns allowed). */
  folders?: string[];
  /** Download the newest messages of a folder first. */
  newestFirst?: boolean;
  /** Skip (and count) messages larger than this many bytes. */
  maxSize?: number;
  /** Ignore the checkpoint: re-read every selected folder (nothing is duplicated). */
  rescan?: boolean;
  /** Messages per download chunk (default 200). */
  chunkMessages?: number;
  /** Bytes per download chunk (default 16 MiB). */
  chunkBytes?: number;
  /** Commit at least this often, in ms (default 5000), and every `commitMessages`. */
  commitMs?: number;
  /** Commit after this many new messages (default 1000). */
  commitMessages?: number;
  /** Messages at least this large are streamed with `download()` (default 1 MiB). */
  streamThreshold?: number;
  progress?: Progress;
  /** Diagnostic lines (verbose). */
  log?: (line: string) => void;
  /** Two-way: accept a mass disappearance of server messages as real (delete them here). */
  acceptVanished?: boolean;
  /** Opens the mail source of an account (default: the IMAP server it names). */
  source?: (account: Account, password: string) => MailSource;
}

/** What happened in one folder. */
export interface FolderResult {
  folder: string;
  remote: string;
  fetched: number;
  bytes: number;
  /** Downloaded but already present (same key): not written again. */
  existing: number;
  /** Not downloaded: over `--max-size`. */
  tooLarge: number;
  /** Local files renamed for server flag changes. */
  flagsUpdated: number;
  uidValidityReset: boolean;
  /** Two-way accounts: what went to the server and came back. */
  twoWay?: TwoWayCounts;
}

/** What happened for one account. */
export interface AccountResult {
  account: string;
  folders: FolderResult[];
  /** Remote folders not fetched because their name cannot be mapped safely. */
  refused: { remote: string; reason: string }[];
  fetched: number;
  bytes: number;
  commits: string[];
  /** Things a person should know (a suspect disappearance kept, a folder missing here). */
  warnings: string[];
  error?: MailgitErrorJSON;
}

interface Ctx {
  repo: LockedRepo;
  /** Records the run's commits; packs once, when the run ends. */
  session: RecordSession;
  account: Account;
  source: MailSource;
  opts: FetchOptions;
  progress: Progress;
  checkpoint: Checkpoints;
  result: AccountResult;
  /** New messages / renames since the last commit. */
  pending: number;
  pendingFolders: Map<string, { fetched: number; flags: number }>;
  lastCommit: number;
  maps: { flush(): Promise<void> }[];
  /** Two-way folders fetched in this run (for passes 2 and 3). */
  twoWay: TwoWayFolder[];
  /** Local folder → its store, one per folder and run (its key index is shared). */
  stores: Map<string, FolderStore>;
  /** Local names of the folders this run fetches. */
  planned: string[];
  /** Two-way: local folder → its files not yet uploaded, by content hash (see {@link pendingMove}). */
  unsent: Map<string, Map<string, string>>;
  /** Two-way folders left level by the last run (quiet.ts). */
  quiet: QuietFolders;
}

/** The one store of a local folder in this run. */
function storeOf(ctx: Ctx, local: string): FolderStore {
  let s = ctx.stores.get(local);
  if (!s) ctx.stores.set(local, (s = new FolderStore(join(ctx.repo.root, folderDir(ctx.repo.layout, local)))));
  return s;
}

/**
 * Two-way: whether `key` waits in another fetched folder of the account to be moved there
 * (its file is there and that folder's state does not know it) — a message moved here by
 * one replica and there by another before they synced. Its server copy is then not stored
 * here but moved there (pass 2), instead of being uploaded there a second time. The file
 * there may still carry a mail client's name (this replica never uploaded it; another one
 * did, under its fetch name, and then moved it here): found by its content, it is renamed
 * to `key` now.
 */
async function pendingMove(ctx: Ctx, local: string, key: string): Promise<boolean> {
  for (const other of ctx.planned) {
    if (other === local) continue;
    const store = storeOf(ctx, other);
    const known = await folderStateOf(ctx, other);
    if ((await store.keys()).has(key)) {
      if (!known?.hasKey(key)) return true;
    } else if (known && (await claimUnsent(ctx, { local: other, state: known }, key))) return true;
  }
  return false;
}

/** The two-way state of a local folder: this run's, else as last written (undefined: never fetched). */
async function folderStateOf(ctx: Ctx, local: string): Promise<FolderState | undefined> {
  const run = ctx.twoWay.find((t) => t.local === local)?.state;
  if (run) return run;
  const uv = ctx.checkpoint[local]?.uidValidity;
  return uv ? await FolderState.load(ctx.repo, { account: ctx.account.name, folder: local, uidValidity: uv }) : undefined;
}

/** Renames a not yet uploaded file of folder `local` with the content hash of `key` to `key`; whether there was one. */
async function claimUnsent(ctx: Ctx, { local, state }: { local: string; state: FolderState }, key: string): Promise<boolean> {
  const hash = keyHash(key);
  if (hash === undefined || state.held.has(RELEARN_MARK)) return false;
  let unsent = ctx.unsent.get(local);
  if (!unsent) ctx.unsent.set(local, (unsent = await unsentByHash(storeOf(ctx, local), state)));
  const mine = unsent.get(hash);
  if (mine === undefined) return false;
  unsent.delete(hash);
  await storeOf(ctx, local).rekey(mine, key);
  return true;
}

/** Maps a mail source failure to wrong password (77), unreachable/TLS/lost (69) or protocol (76). */
export function sourceError(e: MailSourceError, account: Account): MailgitError {
  const where = `${account.host}:${account.port}`;
  switch (e.kind) {
    case 'auth':
      return new PermissionError(`account ${account.name}: login as ${account.user} on ${where} failed: wrong user or password`);
    case 'tls':
      // A TLS client reading a plaintext greeting ("* OK ...") sees a bad record header.
      if (/WRONG_VERSION_NUMBER|packet length too long|unknown protocol|record layer failure/i.test(e.detail))
        return new UnavailableError(
          `account ${account.name}: ${where} does not speak TLS (it may want STARTTLS or plaintext): redefine the account with "mailgit account add ${account.name} --force … --starttls" (or --no-tls, loopback only)`,
        );
      return new UnavailableError(
        `account ${account.name}: cannot connect to ${where}: TLS failure (${e.detail}); for a self-signed server use "mailgit account add … --insecure"`,
      );
    case 'unreachable':
      return new UnavailableError(`account ${account.name}: cannot connect to ${where}: ${e.detail}`);
    case 'lost':
      return new UnavailableError(`account ${account.name}: connection to ${where} lost (${e.detail}); what arrived is committed, run again to continue`);
    case 'server':
      return new MailgitError(`account ${account.name}: server said: ${e.detail}`, 'EPROTOCOL', EX.PROTOCOL);
    case 'busy':
      return new MailgitError(`account ${account.name}: internal error: ${e.detail}`, 'EFETCH', EX.SOFTWARE);
  }
}

/** Maps a failure during a run to a typed error (source failures, local write failures). */
function runError(err: unknown, account: Account): unknown {
  if (err instanceof MailgitError) return err;
  if (err instanceof MailSourceError) return sourceError(err, account);
  const known = errnoMeaning(err);
  return known ? new MailgitError(`account ${account.name}: cannot write: ${messageOf(err)}`, errnoOf(err), known.exit) : err;
}

/** Records pending work: UID maps, checkpoint, one commit. */
async function commitNow(ctx: Ctx, final = false): Promise<void> {
  for (const m of ctx.maps) await m.flush();
  const moved = formatCheckpoints(await readCheckpoint(ctx.repo.root, ctx.account.name)) !== formatCheckpoints(ctx.checkpoint);
  if (moved) await writeCheckpoint(ctx.repo, ctx.account.name, ctx.checkpoint);
  if (ctx.pending === 0 && !moved && !final) return;
  const parts = [...ctx.pendingFolders].map(([f, c]) => `${f} +${c.fetched}${c.flags ? ` (${c.flags} flag changes)` : ''}`);
  const message = `fetch ${ctx.account.name}: ${parts.length ? parts.join(', ') : 'checkpoint'}`;
  const t0 = Date.now();
  const r = await ctx.session.record(ctx.repo, { message });
  ctx.opts.log?.(`${ctx.account.name}: commit ${r ? r.commit.slice(0, 10) : '(nothing)'} in ${Date.now() - t0} ms: ${message}`);
  if (r) ctx.result.commits.push(r.commit);
  ctx.pending = 0;
  ctx.pendingFolders.clear();
  ctx.lastCommit = Date.now();
}

function dueCommit(ctx: Ctx): boolean {
  return ctx.pending >= (ctx.opts.commitMessages ?? 1000) || (ctx.pending > 0 && Date.now() - ctx.lastCommit >= (ctx.opts.commitMs ?? 5000));
}

/** Counts `fetched` new messages and `flags` flag changes of `folder` towards the next commit. */
function bump(ctx: Ctx, folder: string, { fetched, flags }: { fetched: number; flags: number }): void {
  const c = ctx.pendingFolders.get(folder) ?? { fetched: 0, flags: 0 };
  c.fetched += fetched;
  c.flags += flags;
  ctx.pendingFolders.set(folder, c);
  ctx.pending += fetched + flags;
}

interface Planned {
  remote: string;
  local: string;
  list: SourceFolder;
}

/** Decides which remote folders to fetch and under which local names. */
function planFolders(ctx: Ctx, listed: SourceFolder[]): Planned[] {
  const out: Planned[] = [];
  const seen = new Map<string, string>();
  for (const l of listed) {
    const flags = new Set([...l.flags].map((f) => f.toLowerCase()));
    if (flags.has('\\noselect') || flags.has('\\nonexistent')) continue;
    const slash = slashPath(l.path, l.delimiter);
    const local = localFolderName(l.path, l.delimiter, ctx.account.map);
    if (!folderSelected([slash, l.path], ctx.account.folders, ctx.account.exclude)) continue;
    if (ctx.opts.folders?.length && !ctx.opts.folders.some((p) => matchesPattern(slash, p) || matchesPattern(l.path, p) || matchesPattern(local, p))) continue;
    const reason = local.includes('\u0000') ? 'a name segment contains "/"' : folderNameProblem(ctx.repo.layout, local);
    if (reason) {
      ctx.result.refused.push({ remote: l.path, reason });
      continue;
    }
    const other = seen.get(local.toLowerCase());
    if (other !== undefined) {
      ctx.result.refused.push({ remote: l.path, reason: `local name "${local}" already used by "${other}"` });
      continue;
    }
    seen.set(local.toLowerCase(), l.path);
    out.push({ remote: l.path, local, list: l });
  }
  // INBOX first, then by name: stable commit contents across replicas.
  return out.sort((a, b) => (a.local === 'INBOX' ? -1 : b.local === 'INBOX' ? 1 : a.local < b.local ? -1 : a.local > b.local ? 1 : 0));
}

/**
 * Whether LIST-STATUS shows nothing new in a folder since the checkpoint. Never for a
 * two-way account (the repo may have changed) or a server without CONDSTORE (flag
 * changes are only seen by a scan).
 */
function unchanged(ctx: Ctx, p: Planned): boolean {
  const st = p.list.status;
  const cp = ctx.checkpoint[p.local];
  if (!st || !cp || ctx.opts.rescan || ctx.account.sync === 'both' || st.highestModseq === undefined) return false;
  if (st.uidValidity !== cp.uidValidity) return false;
  if (st.uidNext - 1 > cp.uid) return false;
  if (cp.modseq === undefined || st.highestModseq !== cp.modseq) return false;
  return true;
}

/**
 * Downloads `metas` (already filtered) and hands each complete message to `onMessage`:
 * small ones in one round trip (written to `tmp/` as they arrive; no other source call
 * meanwhile), large ones streamed one by one straight to `tmp/`.
 */
async function download(
  ctx: Ctx,
  { store, metas }: { store: FolderStore; metas: MessageMeta[] },
  onMessage: (m: MessageMeta, t: TmpMessage) => void,
): Promise<void> {
  const threshold = ctx.opts.streamThreshold ?? 1 << 20;
  const byUid = new Map(metas.map((m) => [m.uid, m]));
  const small = metas.filter((m) => m.size < threshold).map((m) => m.uid);
  const large = metas.filter((m) => m.size >= threshold).map((m) => m.uid);
  if (small.length) {
    for await (const msg of ctx.source.downloadMany(small)) {
      const meta = byUid.get(msg.uid);
      if (!meta) continue;
      onMessage(meta, await store.writeBuffer(msg.content));
    }
  }
  for (const uid of large) {
    const content = await ctx.source.download(uid);
    if (!content) continue; // expunged meanwhile
    onMessage(byUid.get(uid)!, await store.writeStream(content));
  }
}

/** A folder being fetched: where it is stored, what the server said at SELECT, which UIDs are known. */
interface FolderRun {
  p: Planned;
  res: FolderResult;
  store: FolderStore;
  mb: OpenedFolder;
  /** HIGHESTMODSEQ at SELECT (CONDSTORE only). */
  hms?: string;
  /** The checkpoint to continue from (undefined: read the folder from UID 1). */
  valid?: FolderCheckpoint;
  /** UID → key (and flags last agreed or seen): the synced state (two-way) or the per-machine map. */
  map: UidIndex;
  /** Two-way: the synced state (the same object as `map`). */
  state?: FolderState;
}

/** What fetch needs of a UID index: the per-machine {@link UidMap} or the synced {@link FolderState}. */
interface UidIndex {
  readonly entries: ReadonlyMap<number, { key: string; flags: string | null }>;
  set(uid: number, key: string, flags: string): void;
  flush(): Promise<void>;
}

/** The STATUS a folder had at its SELECT, as LIST-STATUS would give it. */
function statusAt(mb: OpenedFolder): ServerStatus {
  return {
    uidValidity: mb.uidValidity,
    uidNext: mb.uidNext,
    messages: mb.exists,
    ...(mb.highestModseq !== undefined ? { highestModseq: mb.highestModseq } : {}),
  };
}

/** Two-way: whether a folder is as the last run left it, on the server (`status`) and here (see quiet.ts). */
function quiet(ctx: Ctx, p: Planned, status: ServerStatus | undefined): Promise<boolean> | false {
  if (!status || ctx.account.sync !== 'both' || ctx.opts.rescan) return false;
  return ctx.quiet.quiet({ repo: ctx.repo, account: ctx.account.name, local: p.local, remote: p.remote, status, cp: ctx.checkpoint[p.local] });
}

/**
 * SELECT, UIDVALIDITY check, and the UID index (for a two-way folder the synced state,
 * seeded on its first run). `undefined`: a two-way folder found quiet at its SELECT (a
 * server without LIST-STATUS), nothing more to do.
 */
async function openFolder(ctx: Ctx, p: Planned): Promise<FolderRun | undefined> {
  const { source, repo, opts } = ctx;
  const twoWay = ctx.account.sync === 'both';
  ctx.progress.label(`${ctx.account.name}/${p.local}`);
  const mb = await source.open(p.remote, twoWay ? { write: true } : undefined);
  if (!p.list.status && (await quiet(ctx, p, statusAt(mb)))) return undefined;
  const res: FolderResult = { folder: p.local, remote: p.remote, fetched: 0, bytes: 0, existing: 0, tooLarge: 0, flagsUpdated: 0, uidValidityReset: false };
  ctx.result.folders.push(res);
  const store = storeOf(ctx, p.local);
  await store.prepare(repo.root, folderDir(repo.layout, p.local));
  const old = ctx.checkpoint[p.local];
  res.uidValidityReset = old !== undefined && old.uidValidity !== mb.uidValidity;
  if (res.uidValidityReset) opts.log?.(`${p.local}: UIDVALIDITY changed (${old!.uidValidity} → ${mb.uidValidity}): re-reading the folder`);
  const f: FolderRun = {
    p,
    res,
    store,
    mb,
    hms: mb.condstore ? mb.highestModseq : undefined,
    valid: old !== undefined && !res.uidValidityReset ? old : undefined,
    map: undefined!,
  };
  f.map = twoWay ? await openState(ctx, f) : await loadUidMap(ctx, f);
  ctx.maps.push(f.map);
  return f;
}

/**
 * A two-way folder's synced state. On its first run here (or after a UIDVALIDITY
 * change) the folder is read again from UID 1, seeded from this machine's UID map, and
 * nothing local is uploaded until it is complete.
 */
async function openState(ctx: Ctx, f: FolderRun): Promise<FolderState> {
  const state = await FolderState.load(ctx.repo, { account: ctx.account.name, folder: f.p.local, uidValidity: f.mb.uidValidity });
  state.stamp = f.hms ?? String(Date.now());
  f.state = state;
  if (state.existed) return state;
  f.valid = undefined;
  state.hold(RELEARN_MARK);
  const keys = await f.store.keys();
  const uidMap = await loadUidMap(ctx, f);
  for (const [uid, e] of uidMap.entries) if (keys.has(e.key)) state.set(uid, e.key, e.flags);
  return state;
}

/**
 * This machine's UID map of a folder. A folder fetched for the first time whose Maildir
 * mbsync or offlineimap wrote has it seeded from their state (when it names this
 * UIDVALIDITY), so their files are neither downloaded again nor stored twice
 * (src/fetch/import.ts).
 */
async function loadUidMap(ctx: Ctx, f: FolderRun): Promise<UidMap> {
  const map = await UidMap.load(ctx.repo, { account: ctx.account.name, folder: f.p.local, uidValidity: f.mb.uidValidity });
  if (map.entries.size > 0 || ctx.checkpoint[f.p.local] !== undefined) return map;
  const local = (await readLocalSettings(ctx.repo, ctx.account.name)).offlineimap;
  const file = f.p.local.split('/').join('.');
  const src: SeedSource = {
    folderDir: join(ctx.repo.root, folderDir(ctx.repo.layout, f.p.local)),
    ...(local ? { offlineimap: { status: join(local.status, file), validity: join(local.validity, file) } } : {}),
  };
  const seed = await readSeed(src, (await f.store.keys()).keys());
  if (!seed) return map;
  if (seed.uidValidity !== f.mb.uidValidity) {
    ctx.opts.log?.(`${f.p.local}: mbsync/offlineimap state is for UIDVALIDITY ${seed.uidValidity}, the server has ${f.mb.uidValidity}: not used`);
    return map;
  }
  for (const e of seed.entries) map.set(e.uid, e.key, e.flags);
  ctx.opts.log?.(`${f.p.local}: ${seed.entries.length} message(s) known from mbsync/offlineimap state`);
  return map;
}

/** What the server said of the flags of a folder's known messages. */
interface ServerView {
  /** Two-way: server letters of known UIDs whose flags may differ from the agreed state. */
  letters: Map<number, string>;
  /** The UIDs a flag scan (no CONDSTORE) found, or `null` (CONDSTORE: only the changed ones are listed). */
  scanned: Set<number> | null;
  /** QRESYNC: the UIDs up to the checkpoint expunged since its MODSEQ (`null`: not known). */
  vanished: Set<number> | null;
}

/** One folder's pull in a run: the run, the folder, and what the server told of its flags. */
interface Pull {
  ctx: Ctx;
  f: FolderRun;
  view: ServerView;
}

/**
 * Server flags of what was fetched before: with CONDSTORE the changes since the stored
 * MODSEQ, else a `UID FETCH 1:n (FLAGS)` scan. Pull: applied three-way to the files at
 * once. Two-way: returned for the reconciliation (with the scan's UIDs: what the server
 * still has). UIDs without a known key are downloaded once to learn it.
 */
async function serverFlags(ctx: Ctx, f: FolderRun): Promise<ServerView> {
  const out: ServerView = { letters: new Map(), scanned: null, vanished: null };
  const { valid, hms } = f;
  if (!valid || valid.uid === 0) return out;
  let changed: { uid: number; flags: string[] }[] = [];
  if (hms !== undefined && valid.modseq !== undefined) {
    if (BigInt(hms) > BigInt(valid.modseq)) {
      const since = await ctx.source.changedSince(valid.modseq, valid.uid);
      changed = since.changed;
      if (since.vanished) out.vanished = new Set(since.vanished);
    }
  } else {
    changed = await ctx.source.flagsUpTo(valid.uid);
    out.scanned = new Set(changed.map((c) => c.uid));
  }
  const unknown: number[] = [];
  for (const c of changed) {
    if (f.map.entries.has(c.uid)) await takeServerFlags({ ctx, f, view: out }, { uid: c.uid, letters: f.store.lettersOf(c.flags) });
    else unknown.push(c.uid);
  }
  if (unknown.length) await learnKeys(ctx, f, unknown);
  await f.store.syncDirs();
  return out;
}

/**
 * The server's letters of a known UID: two-way, kept for the reconciliation; pull,
 * applied three-way to the file at once.
 */
async function takeServerFlags({ ctx, f, view }: Pull, { uid, letters }: { uid: number; letters: string }): Promise<void> {
  const e = f.map.entries.get(uid)!;
  if (f.state) {
    view.letters.set(uid, letters);
    return;
  }
  if (await f.store.applyFlags(e.key, e.flags, letters)) flagUpdated(ctx, f);
  if (letters !== e.flags) f.map.set(uid, e.key, letters);
}

/** Counts one local file renamed for a server flag change. */
function flagUpdated(ctx: Ctx, f: FolderRun): void {
  f.res.flagsUpdated++;
  bump(ctx, f.p.local, { fetched: 0, flags: 1 });
}

/**
 * UIDs fetched by another replica (or whose map was lost): download once to learn the key
 * from the content, then apply the server's flags. Pull: a message not here is not stored
 * (it may have been deleted here). Two-way: it is (the state knows every deletion made
 * here, so such a message was never here).
 */
async function learnKeys(ctx: Ctx, f: FolderRun, uids: number[]): Promise<void> {
  const metas = (await ctx.source.metasOf(uids)).filter((m) => ctx.opts.maxSize === undefined || m.size <= ctx.opts.maxSize);
  const learned: { m: MessageMeta; t: TmpMessage }[] = [];
  await download(ctx, { store: f.store, metas }, (m, t) => learned.push({ m, t }));
  const keys = await f.store.keys();
  const store: { t: TmpMessage; key: string; letters: string }[] = [];
  for (const { m, t } of learned) {
    const key = messageKey(m.internalDate, t.sha256);
    const letters = f.store.lettersOf(m.flags);
    if (f.state && !keys.has(key)) store.push({ t, key, letters });
    else {
      await f.store.discard(t);
      if (await f.store.applyFlags(key, null, letters)) flagUpdated(ctx, f);
    }
    f.map.set(m.uid, key, letters);
  }
  if (store.length) {
    const r = await f.store.commitBatch(store);
    f.res.fetched += r.added;
    ctx.result.fetched += r.added;
    bump(ctx, f.p.local, { fetched: r.added, flags: 0 });
  }
}

/** The two-way passes' view of a run. */
function twoWayEnv(ctx: Ctx): TwoWayEnv {
  return {
    source: ctx.source,
    expunge: ctx.account.expunge === true,
    acceptVanished: ctx.opts.acceptVanished === true,
    warn: (line) => ctx.result.warnings.push(`account ${ctx.account.name}: ${line}`),
    changed: (folder, n) => bump(ctx, folder, { fetched: 0, flags: n }),
  };
}

/** One folder, in phases: open it, read the server's flags, fetch new mail, then (two-way) bring both sides level. */
async function fetchFolder(ctx: Ctx, p: Planned): Promise<void> {
  const f = await openFolder(ctx, p);
  if (!f) return;
  const view = await serverFlags(ctx, f);
  const listed = await fetchNew(ctx, f, view);
  // Folder complete: every UID below UIDNEXT at SELECT time was listed and handled.
  positionFolder(ctx, f, Math.max(listed.maxUid, f.mb.uidNext - 1));
  if (f.state) await reconcile({ ctx, f, view }, listed);
}

/** Two-way pass 1 for a fetched folder (src/fetch/twoway.ts); queues it for passes 2 and 3. */
async function reconcile({ ctx, f, view }: Pull, listed: Listed): Promise<void> {
  const state = f.state!;
  const present = await serverUids({ ctx, f, view }, listed);
  // UIDs below the checkpoint the state does not know (a checkpoint merged from a replica
  // ahead of this one): learn their keys, so their flags and deletions are followed too.
  const unknown = present ? [...present].filter((u) => u <= (f.valid?.uid ?? 0) && !state.entries.has(u)) : [];
  if (unknown.length) await learnKeys(ctx, f, unknown);
  const tw: TwoWayFolder = {
    remote: f.p.remote,
    local: f.p.local,
    store: f.store,
    state,
    opened: f.mb,
    serverLetters: view.letters,
    present,
    missing: [],
    counts: noCounts(),
  };
  f.res.twoWay = tw.counts;
  ctx.twoWay.push(tw);
  await reconcileFolder(twoWayEnv(ctx), tw);
  f.res.flagsUpdated += tw.counts.flagsPulled;
  bump(ctx, f.p.local, { fetched: 0, flags: tw.counts.flagsPulled + tw.counts.flagsPushed });
}

/**
 * The UIDs the server has, or `null` when it has every UID the state knows. Up to the
 * checkpoint a flag scan lists them, or QRESYNC's VANISHED says which are gone; above
 * it, the listing of new mail. Else EXISTS equal to the number of known UIDs below
 * UIDNEXT proves that none is gone, and only a difference costs a `UID SEARCH ALL`.
 */
async function serverUids({ ctx, f, view }: Pull, listed: Listed): Promise<Set<number> | null> {
  if (view.scanned) {
    for (const uid of listed.uids) view.scanned.add(uid);
    return view.scanned;
  }
  const known = [...f.state!.entries.keys()].filter((u) => u < f.mb.uidNext);
  if (view.vanished) {
    const cp = f.valid?.uid ?? 0;
    const gone = view.vanished;
    const present = new Set(known.filter((u) => (u <= cp ? !gone.has(u) : listed.uids.has(u))));
    // EXISTS confirms it (else a UID the state does not know is there: ask).
    if (present.size === f.mb.exists) return present;
  }
  if (known.length === f.mb.exists) return null;
  return new Set(await ctx.source.uids());
}

/** Two-way: arrivals that wait in another folder to be moved there are known, not stored (see {@link pendingMove}). */
async function dropPendingMoves(ctx: Ctx, f: FolderRun, { got, keys }: { got: Arrived[]; keys: Map<string, unknown> }): Promise<void> {
  for (let i = got.length - 1; i >= 0; i--) {
    const g = got[i];
    if (keys.has(g.key) || !(await pendingMove(ctx, f.p.local, g.key))) continue;
    await f.store.discard(g.t);
    f.map.set(g.m.uid, g.key, g.letters);
    got.splice(i, 1);
  }
}

/** Moves a folder's checkpoint to `uid` (never backwards), with the MODSEQ its flags are current to. */
function positionFolder(ctx: Ctx, f: FolderRun, uid: number): void {
  const keep = f.valid?.uid ?? 0;
  // Flags are current to the HIGHESTMODSEQ at SELECT once serverFlags() ran.
  const modseq = f.hms ?? f.valid?.modseq;
  ctx.checkpoint[f.p.local] = { uidValidity: f.mb.uidValidity, uid: Math.max(keep, uid), ...(modseq !== undefined ? { modseq } : {}) };
}

/** What the listing of a folder's new mail found. */
interface Listed {
  /** The highest UID listed (0: none). */
  maxUid: number;
  /** Every UID listed. */
  uids: Set<number>;
}

/** A downloaded message in `tmp/`, with the key it is stored under. */
interface Downloaded {
  t: TmpMessage;
  key: string;
  m: MessageMeta;
}

/** A downloaded message with the letters it is stored under (given when it is stored: a new keyword takes a letter). */
interface Arrived extends Downloaded {
  letters: string;
}

/** Lists the folder's messages above the checkpoint (all of them with `--rescan`), ascending by UID. */
async function listNew(ctx: Ctx, f: FolderRun): Promise<MessageMeta[]> {
  const baseUid = ctx.opts.rescan ? 0 : (f.valid?.uid ?? 0);
  if (f.mb.exists === 0 || (baseUid + 1 >= f.mb.uidNext && !ctx.opts.rescan)) return [];
  return (await ctx.source.messagesAfter(baseUid)).sort((a, b) => a.uid - b.uid);
}

/** Splits the listing into download chunks of at most N messages / B bytes. */
function chunksOf(opts: FetchOptions, metas: MessageMeta[]): MessageMeta[][] {
  const out: MessageMeta[][] = [];
  let bytes = 0;
  for (const m of metas) {
    const last = out[out.length - 1];
    if (!last || last.length >= (opts.chunkMessages ?? 200) || bytes >= (opts.chunkBytes ?? 16 << 20)) {
      out.push([m]);
      bytes = m.size;
    } else {
      last.push(m);
      bytes += m.size;
    }
  }
  return out;
}

/**
 * Lists and downloads the folder's new messages in chunks. A listed UID the index
 * already knows (uploaded or moved here by a replica of this account, or fetched by an
 * interrupted newest-first run) is not downloaded, but its flags are the server's
 * current ones: they go into `view` (two-way) or onto the file (pull), as changes up to
 * the checkpoint do — the checkpoint's MODSEQ will not show them again.
 */
async function fetchNew(ctx: Ctx, f: FolderRun, view: ServerView): Promise<Listed> {
  const metas = await listNew(ctx, f);
  const listed: Listed = { maxUid: metas.length ? metas[metas.length - 1].uid : 0, uids: new Set(metas.map((m) => m.uid)) };
  if (ctx.opts.newestFirst) metas.reverse();
  ctx.progress.expect(metas.length);
  if (!ctx.checkpoint[f.p.local] || f.res.uidValidityReset || !f.valid) positionFolder(ctx, f, 0);
  // A chunk is made durable, positioned and committed while the next one downloads into
  // tmp/. Storing makes no source call, so the FETCH may run meanwhile; downloading
  // changes nothing but tmp/ (the known messages' flags, the letters of new keywords, the
  // UID index and the files are all changed by the store, one chunk after the other).
  let storing: Promise<void> = Promise.resolve();
  for (const chunk of chunksOf(ctx.opts, metas)) {
    const { want, known } = await wanted({ ctx, f }, chunk);
    const got: Downloaded[] = [];
    try {
      await downloadChunk({ ctx, f }, { want, got });
    } catch (err) {
      // Keep every message that arrived whole; the checkpoint does not move past this chunk.
      await storing;
      await keepArrived(ctx, f, { got, skipped: chunk.length - got.length });
      throw err;
    }
    await storing;
    storing = storeChunk({ ctx, f, view }, { chunk, known, got });
    storing.catch(() => undefined); // awaited above or below; not an unhandled rejection meanwhile
  }
  await storing;
  await f.store.syncDirs();
  return listed;
}

/** What {@link storeChunk} stores: the chunk, its known messages (not downloaded) and what arrived. */
interface Downloads {
  chunk: MessageMeta[];
  known: MessageMeta[];
  got: Downloaded[];
}

/** Takes the known messages' server flags, stores what arrived, moves the checkpoint past the chunk and commits when a commit is due. */
async function storeChunk({ ctx, f, view }: Pull, { chunk, known, got }: Downloads): Promise<void> {
  const t0 = Date.now();
  for (const m of known) await takeServerFlags({ ctx, f, view }, { uid: m.uid, letters: f.store.lettersOf(m.flags) });
  await keepArrived(ctx, f, { got, skipped: chunk.length - got.length });
  ctx.opts.log?.(`${f.p.local}: ${got.length} stored in ${Date.now() - t0} ms`);
  if (!ctx.opts.newestFirst) positionFolder(ctx, f, chunk[chunk.length - 1].uid);
  if (dueCommit(ctx)) await commitNow(ctx);
}

/**
 * Sorts a chunk: the messages to download (not over `--max-size`, not known) and the
 * known ones, whose server flags the store takes instead.
 */
async function wanted({ ctx, f }: Pick<Pull, 'ctx' | 'f'>, chunk: MessageMeta[]): Promise<{ want: MessageMeta[]; known: MessageMeta[] }> {
  const keys = await f.store.keys();
  const want: MessageMeta[] = [];
  const known: MessageMeta[] = [];
  for (const m of chunk) {
    if (ctx.opts.maxSize !== undefined && m.size > ctx.opts.maxSize) {
      f.res.tooLarge++;
      continue;
    }
    const entry = f.map.entries.get(m.uid);
    // Two-way: a known UID whose file is gone was deleted or moved here (pass 2 sends it).
    if (entry && (keys.has(entry.key) || f.state)) {
      f.res.existing++;
      known.push(m);
      continue;
    }
    want.push(m);
  }
  return { want, known };
}

/** Downloads messages of one chunk into tmp/, appending each to `got` as it arrives whole. */
async function downloadChunk({ ctx, f }: Pick<Pull, 'ctx' | 'f'>, { want, got }: { want: MessageMeta[]; got: Downloaded[] }): Promise<void> {
  const t0 = Date.now();
  await download(ctx, { store: f.store, metas: want }, (m, t) => got.push({ t, m, key: messageKey(m.internalDate, t.sha256) }));
  ctx.opts.log?.(`${f.p.local}: ${want.length} downloaded in ${Date.now() - t0} ms`);
}

/** Makes downloaded messages durable and visible, records their UIDs, counts them. */
async function keepArrived(ctx: Ctx, f: FolderRun, { got: downloaded, skipped }: { got: Downloaded[]; skipped: number }): Promise<void> {
  const got: Arrived[] = downloaded.map((d) => ({ ...d, letters: f.store.lettersOf(d.m.flags) }));
  if (f.state) await dropPendingMoves(ctx, f, { got, keys: await f.store.keys() });
  const r = await f.store.commitBatch(got);
  for (const g of got) f.map.set(g.m.uid, g.key, g.letters);
  const bytes = got.reduce((s, g) => s + g.t.size, 0);
  f.res.fetched += r.added;
  f.res.existing += r.existing;
  f.res.bytes += bytes;
  ctx.result.fetched += r.added;
  ctx.result.bytes += bytes;
  bump(ctx, f.p.local, { fetched: r.added, flags: 0 });
  ctx.progress.advance(got.length + skipped, bytes);
}

/**
 * After a complete run: records the two-way folders it fetched as level (quiet.ts). Not
 * after a run limited with `--folder` (moves and deletions wait for a full run) or one
 * that warned (a suspect disappearance is said at every run).
 */
async function recordLevel(ctx: Ctx): Promise<void> {
  if (ctx.opts.folders?.length || ctx.result.warnings.length) return;
  for (const f of ctx.twoWay)
    await ctx.quiet.level({
      repo: ctx.repo,
      account: ctx.account.name,
      local: f.local,
      remote: f.remote,
      status: statusAt(f.opened),
      cp: ctx.checkpoint[f.local],
    });
  await ctx.quiet.save();
}

/** The account {@link fetchAccount} fetches and its password (or OAuth access token). */
export interface FetchLogin {
  account: Account;
  password: string;
}

/** Fetches one account. Never throws: errors are in the result. */
export async function fetchAccount(repo: LockedRepo, { account, password }: FetchLogin, opts: FetchOptions = {}): Promise<AccountResult> {
  const result: AccountResult = { account: account.name, folders: [], refused: [], fetched: 0, bytes: 0, commits: [], warnings: [] };
  const source = (opts.source ?? imapSource)(account, password);
  const ctx: Ctx = {
    repo,
    session: new RecordSession(repo, { packOnClose: true }),
    account,
    source,
    opts,
    progress: opts.progress ?? silentProgress,
    checkpoint: await readCheckpoint(repo.root, account.name),
    result,
    pending: 0,
    pendingFolders: new Map(),
    lastCommit: Date.now(),
    maps: [],
    twoWay: [],
    stores: new Map(),
    planned: [],
    unsent: new Map(),
    quiet: await QuietFolders.load(repo, account.name),
  };
  try {
    await source.connect();
    opts.log?.(`${account.name}: connected to ${account.host}:${account.port}`);
    const listed = await source.list();
    const planned = planFolders(ctx, listed);
    ctx.planned = planned.map((p) => p.local);
    for (const r of result.refused) opts.log?.(`${account.name}: skipping folder ${JSON.stringify(r.remote)}: ${r.reason}`);
    for (const p of planned) {
      if (unchanged(ctx, p) || (await quiet(ctx, p, p.list.status))) continue;
      await fetchFolder(ctx, p);
    }
    if (ctx.twoWay.length) {
      const env = twoWayEnv(ctx);
      // A run limited to some folders cannot tell a deletion from a move to a folder it does not see.
      if (opts.folders?.length) opts.log?.(`${account.name}: --folder given: moves and deletions in the repo are sent by the next full fetch`);
      else await pushRemovals(env, ctx.twoWay);
      for (const f of ctx.twoWay) await uploadNew(env, f);
    }
    await commitNow(ctx, true);
    await recordLevel(ctx);
  } catch (err) {
    const e = runError(err, account);
    try {
      await commitNow(ctx, true);
    } catch {
      /* the original error matters more */
    }
    if (e instanceof MailgitError) result.error = e.toJSON();
    else result.error = { message: `account ${account.name}: ${(e as Error)?.message ?? String(e)}`, code: 'EFETCH', exitCode: EX.SOFTWARE };
  } finally {
    await source.close();
    await ctx.session.close();
  }
  return result;
}
