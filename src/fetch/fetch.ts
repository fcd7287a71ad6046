/**
 * `mailgit fetch`: IMAP → Maildir folders of the repo, committed in batches with the
 * checkpoint that covers them.
 *
 * The server is reached through a {@link MailSource} (`mailSource.ts`): IMAP by default
 * (`imapSource.ts`), in memory in tests (`memorySource.ts`). This module holds the logic.
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
 *   4. per chunk: tmp → fsync → rename; when a commit is due (every ~200 messages or ~5 s,
 *      and at the end): flush the UID map, write the checkpoint, `record()` — the
 *      checkpoint is in the same commit as the messages it covers.
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
import { record } from '../repo/record.js';
import { folderDir, folderNameProblem } from '../maildir/layout.js';
import { MailgitError, PermissionError, UnavailableError, EX } from '../util/errors.js';
import type { Account } from './account.js';
import { type Checkpoints, type FolderCheckpoint, formatCheckpoints } from '../merge/checkpoints.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { folderSelected, localFolderName, matchesPattern, slashPath } from './folders.js';
import { FolderStore, lettersOfFlags, messageKey, type TmpMessage } from './store.js';
import { UidMap } from './uidmap.js';
import { silentProgress, type Progress } from './progress.js';
import { MailSourceError, type MailSource, type MessageMeta, type OpenedFolder, type SourceFolder } from './mailSource.js';
import { imapSource } from './imapSource.js';
import { FolderState } from './state.js';
import { noCounts, pushRemovals, reconcileFolder, RELEARN_MARK, uploadNew, type TwoWayCounts, type TwoWayEnv, type TwoWayFolder } from './twoway.js';

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
  error?: { message: string; code: string; exitCode: number };
}

interface Ctx {
  repo: LockedRepo;
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
 * here but moved there (pass 2), instead of being uploaded there a second time.
 */
async function pendingMove(ctx: Ctx, local: string, key: string): Promise<boolean> {
  for (const other of ctx.planned) {
    if (other === local || !(await storeOf(ctx, other).keys()).has(key)) continue;
    const uv = ctx.checkpoint[other]?.uidValidity;
    const known = ctx.twoWay.find((t) => t.local === other)?.state ?? (uv ? await FolderState.load(ctx.repo, ctx.account.name, other, uv) : undefined);
    if (!known?.hasKey(key)) return true;
  }
  return false;
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
  const fs = err as NodeJS.ErrnoException;
  if (fs && (fs.code === 'ENOSPC' || fs.code === 'EIO' || fs.code === 'EDQUOT' || fs.code === 'EACCES')) {
    return new MailgitError(`account ${account.name}: cannot write: ${fs.message}`, fs.code, EX.IOERR);
  }
  return err;
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
  const r = await record(ctx.repo, { message });
  ctx.opts.log?.(`${ctx.account.name}: commit ${r ? r.commit.slice(0, 10) : '(nothing)'} in ${Date.now() - t0} ms: ${message}`);
  if (r) ctx.result.commits.push(r.commit);
  ctx.pending = 0;
  ctx.pendingFolders.clear();
  ctx.lastCommit = Date.now();
}

function dueCommit(ctx: Ctx): boolean {
  return ctx.pending >= (ctx.opts.commitMessages ?? 1000) || (ctx.pending > 0 && Date.now() - ctx.lastCommit >= (ctx.opts.commitMs ?? 5000));
}

function bump(ctx: Ctx, folder: string, fetched: number, flags: number): void {
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
async function download(ctx: Ctx, store: FolderStore, metas: MessageMeta[], onMessage: (m: MessageMeta, t: TmpMessage) => void): Promise<void> {
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

/** SELECT, UIDVALIDITY check, and the UID index (for a two-way folder the synced state, seeded on its first run). */
async function openFolder(ctx: Ctx, p: Planned): Promise<FolderRun> {
  const res: FolderResult = { folder: p.local, remote: p.remote, fetched: 0, bytes: 0, existing: 0, tooLarge: 0, flagsUpdated: 0, uidValidityReset: false };
  ctx.result.folders.push(res);
  const { source, repo, opts } = ctx;
  const dir = folderDir(repo.layout, p.local);
  const store = storeOf(ctx, p.local);
  await store.prepare(repo.root, dir);
  ctx.progress.label(`${ctx.account.name}/${p.local}`);
  const twoWay = ctx.account.sync === 'both';
  const mb = await source.open(p.remote, twoWay ? { write: true } : undefined);
  const old = ctx.checkpoint[p.local];
  res.uidValidityReset = old !== undefined && old.uidValidity !== mb.uidValidity;
  if (res.uidValidityReset) opts.log?.(`${p.local}: UIDVALIDITY changed (${old!.uidValidity} → ${mb.uidValidity}): re-reading the folder`);
  let valid = old !== undefined && !res.uidValidityReset ? old : undefined;
  const uidMap = await UidMap.load(repo.gitDir, ctx.account.name, p.local, mb.uidValidity);
  const hms = mb.condstore ? mb.highestModseq : undefined;
  let state: FolderState | undefined;
  if (twoWay) {
    state = await FolderState.load(repo, ctx.account.name, p.local, mb.uidValidity);
    state.stamp = hms ?? String(Date.now());
    if (!state.existed) {
      // First two-way run here (or a new UIDVALIDITY): read the folder again from UID 1,
      // seeded from this machine's map; nothing local is uploaded until it is complete.
      valid = undefined;
      state.hold(RELEARN_MARK);
      const keys = await store.keys();
      for (const [uid, e] of uidMap.entries) if (keys.has(e.key)) state.set(uid, e.key, e.flags);
    }
  }
  const map: UidIndex = state ?? uidMap;
  ctx.maps.push(map);
  return { p, res, store, mb, hms, valid, map, state };
}

/**
 * Server flags of what was fetched before: with CONDSTORE the changes since the stored
 * MODSEQ, else a `UID FETCH 1:n (FLAGS)` scan. Pull: applied three-way to the files at
 * once. Two-way: returned for the reconciliation (with the scan's UIDs: what the server
 * still has). UIDs without a known key are downloaded once to learn it.
 */
async function serverFlags(ctx: Ctx, f: FolderRun): Promise<{ letters: Map<number, string>; scanned: Set<number> | null }> {
  const out = { letters: new Map<number, string>(), scanned: null as Set<number> | null };
  const { valid, hms } = f;
  if (!valid || valid.uid === 0) return out;
  let changed: { uid: number; flags: string[] }[];
  if (hms !== undefined && valid.modseq !== undefined)
    changed = BigInt(hms) > BigInt(valid.modseq) ? await ctx.source.changedSince(valid.modseq, valid.uid) : [];
  else {
    changed = await ctx.source.flagsUpTo(valid.uid);
    out.scanned = new Set(changed.map((c) => c.uid));
  }
  const unknown: number[] = [];
  for (const c of changed) {
    const e = f.map.entries.get(c.uid);
    const letters = lettersOfFlags(c.flags);
    if (!e) unknown.push(c.uid);
    else if (f.state) out.letters.set(c.uid, letters);
    else {
      if (await f.store.applyFlags(e.key, e.flags, letters)) f.res.flagsUpdated++;
      if (letters !== e.flags) f.map.set(c.uid, e.key, letters);
    }
  }
  if (unknown.length) await learnKeys(ctx, f, unknown);
  await f.store.syncDirs();
  if (f.res.flagsUpdated) bump(ctx, f.p.local, 0, f.res.flagsUpdated);
  return out;
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
  await download(ctx, f.store, metas, (m, t) => learned.push({ m, t }));
  const keys = await f.store.keys();
  const store: { t: TmpMessage; key: string; letters: string }[] = [];
  for (const { m, t } of learned) {
    const key = messageKey(m.internalDate, t.sha256);
    const letters = lettersOfFlags(m.flags);
    if (f.state && !keys.has(key)) store.push({ t, key, letters });
    else {
      await f.store.discard(t);
      if (await f.store.applyFlags(key, null, letters)) f.res.flagsUpdated++;
    }
    f.map.set(m.uid, key, letters);
  }
  if (store.length) {
    const r = await f.store.commitBatch(store);
    f.res.fetched += r.added;
    ctx.result.fetched += r.added;
    bump(ctx, f.p.local, r.added, 0);
  }
}

/** The two-way passes' view of a run. */
function twoWayEnv(ctx: Ctx): TwoWayEnv {
  return {
    source: ctx.source,
    expunge: ctx.account.expunge === true,
    acceptVanished: ctx.opts.acceptVanished === true,
    warn: (line) => ctx.result.warnings.push(`account ${ctx.account.name}: ${line}`),
    changed: (folder, n) => bump(ctx, folder, 0, n),
  };
}

async function fetchFolder(ctx: Ctx, p: Planned): Promise<void> {
  const f = await openFolder(ctx, p);
  const view = await serverFlags(ctx, f);
  const maxListed = await fetchNew(ctx, f);
  // Folder complete: every UID below UIDNEXT at SELECT time was listed and handled.
  positionFolder(ctx, f, Math.max(maxListed, f.mb.uidNext - 1));
  if (!f.state) return;
  const present = await serverUids(ctx, f, view.scanned);
  // UIDs below the checkpoint the state does not know (a checkpoint merged from a replica
  // ahead of this one): learn their keys, so their flags and deletions are followed too.
  const unknown = present ? [...present].filter((u) => u <= (f.valid?.uid ?? 0) && !f.state!.entries.has(u)) : [];
  if (unknown.length) await learnKeys(ctx, f, unknown);
  const tw: TwoWayFolder = {
    remote: p.remote,
    local: p.local,
    store: f.store,
    state: f.state,
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
  bump(ctx, p.local, 0, tw.counts.flagsPulled + tw.counts.flagsPushed);
}

/**
 * The UIDs the server has, or `null` when it has every UID the state knows: a scan
 * lists them; else EXISTS equal to the number of known UIDs below UIDNEXT proves it, and
 * only a difference costs a `UID SEARCH ALL`.
 */
async function serverUids(ctx: Ctx, f: FolderRun, scanned: Set<number> | null): Promise<Set<number> | null> {
  const known = [...f.state!.entries.keys()];
  if (scanned) {
    for (const uid of known) if (uid > (f.valid?.uid ?? 0)) scanned.add(uid);
    return scanned;
  }
  if (known.filter((u) => u < f.mb.uidNext).length === f.mb.exists) return null;
  return new Set(await ctx.source.uids());
}

/** Two-way: arrivals that wait in another folder to be moved there are known, not stored (see {@link pendingMove}). */
async function dropPendingMoves(
  ctx: Ctx,
  f: FolderRun,
  got: { t: TmpMessage; key: string; letters: string; m: MessageMeta }[],
  keys: Map<string, unknown>,
): Promise<void> {
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

/** Lists and downloads the folder's new messages in chunks; returns the highest UID listed. */
async function fetchNew(ctx: Ctx, f: FolderRun): Promise<number> {
  const { source, opts } = ctx;
  const { res, store, map, mb, p } = f;
  const baseUid = opts.rescan ? 0 : (f.valid?.uid ?? 0);
  let metas: MessageMeta[] = [];
  if (mb.exists > 0 && (baseUid + 1 < mb.uidNext || opts.rescan)) metas = await source.messagesAfter(baseUid);
  metas.sort((a, b) => a.uid - b.uid);
  const maxListed = metas.length ? metas[metas.length - 1].uid : 0;
  if (opts.newestFirst) metas.reverse();
  ctx.progress.expect(metas.length);
  if (!ctx.checkpoint[p.local] || res.uidValidityReset || !f.valid) positionFolder(ctx, f, 0);

  const keys = await store.keys();
  let i = 0;
  while (i < metas.length) {
    // One chunk: up to N messages / B bytes.
    const chunk: MessageMeta[] = [];
    let bytes = 0;
    while (i < metas.length && chunk.length < (opts.chunkMessages ?? 200) && (chunk.length === 0 || bytes < (opts.chunkBytes ?? 16 << 20))) {
      chunk.push(metas[i]);
      bytes += metas[i].size;
      i++;
    }
    const want: MessageMeta[] = [];
    let skipped = 0;
    for (const m of chunk) {
      if (opts.maxSize !== undefined && m.size > opts.maxSize) {
        res.tooLarge++;
        skipped++;
        continue;
      }
      const known = map.entries.get(m.uid);
      // Two-way: a known UID whose file is gone was deleted or moved here (pass 2 sends it).
      if (known && (keys.has(known.key) || f.state)) {
        res.existing++;
        skipped++;
        continue;
      }
      want.push(m);
    }
    const got: { t: TmpMessage; key: string; letters: string; m: MessageMeta }[] = [];
    const keepArrived = async () => {
      if (f.state) await dropPendingMoves(ctx, f, got, keys);
      const r = await store.commitBatch(got);
      for (const g of got) map.set(g.m.uid, g.key, g.letters);
      res.fetched += r.added;
      res.existing += r.existing;
      res.bytes += got.reduce((s, g) => s + g.t.size, 0);
      ctx.result.fetched += r.added;
      ctx.result.bytes += got.reduce((s, g) => s + g.t.size, 0);
      bump(ctx, p.local, r.added, 0);
      ctx.progress.advance(
        got.length + skipped,
        got.reduce((s, g) => s + g.t.size, 0),
      );
    };
    const t0 = Date.now();
    try {
      await download(ctx, store, want, (m, t) => got.push({ t, m, key: messageKey(m.internalDate, t.sha256), letters: lettersOfFlags(m.flags) }));
    } catch (err) {
      // Keep every message that arrived whole; the checkpoint does not move past this chunk.
      await keepArrived();
      throw err;
    }
    const t1 = Date.now();
    await keepArrived();
    opts.log?.(`${p.local}: ${want.length} downloaded in ${t1 - t0} ms, stored in ${Date.now() - t1} ms`);
    if (!opts.newestFirst) positionFolder(ctx, f, chunk[chunk.length - 1].uid);
    if (dueCommit(ctx)) await commitNow(ctx);
  }
  return maxListed;
}

/** Fetches one account. Never throws: errors are in the result. */
export async function fetchAccount(repo: LockedRepo, account: Account, password: string, opts: FetchOptions = {}): Promise<AccountResult> {
  const result: AccountResult = { account: account.name, folders: [], refused: [], fetched: 0, bytes: 0, commits: [], warnings: [] };
  const source = (opts.source ?? imapSource)(account, password);
  const ctx: Ctx = {
    repo,
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
  };
  try {
    await source.connect();
    opts.log?.(`${account.name}: connected to ${account.host}:${account.port}`);
    const listed = await source.list();
    const planned = planFolders(ctx, listed);
    ctx.planned = planned.map((p) => p.local);
    for (const r of result.refused) opts.log?.(`${account.name}: skipping folder ${JSON.stringify(r.remote)}: ${r.reason}`);
    for (const p of planned) {
      if (unchanged(ctx, p)) continue;
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
  } catch (err) {
    const e = runError(err, account);
    try {
      await commitNow(ctx, true);
    } catch {
      /* the original error matters more */
    }
    if (e instanceof MailgitError) result.error = { message: e.message, code: e.code, exitCode: e.exitCode };
    else result.error = { message: `account ${account.name}: ${(e as Error)?.message ?? String(e)}`, code: 'EFETCH', exitCode: EX.SOFTWARE };
  } finally {
    await source.close();
  }
  return result;
}
