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
 */
import { join } from 'node:path';
import type { Repo } from '../repo/repo.js';
import { record } from '../repo/record.js';
import { folderDir } from '../maildir/layout.js';
import { MailgitError, PermissionError, UnavailableError, EX } from '../util/errors.js';
import type { Account } from './account.js';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { folderSelected, localFolderName, matchesPattern, slashPath, unsafeFolderReason } from './folders.js';
import { FolderStore, lettersOfFlags, messageKey, type TmpMessage } from './store.js';
import { UidMap } from './uidmap.js';
import { silentProgress, type Progress } from './progress.js';
import { MailSourceError, type MailSource, type MessageMeta, type SourceFolder } from './mailSource.js';
import { imapSource } from './imapSource.js';

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
  error?: { message: string; code: string; exitCode: number };
}

interface Ctx {
  repo: Repo;
  account: Account;
  source: MailSource;
  opts: FetchOptions;
  progress: Progress;
  checkpoint: Checkpoint;
  result: AccountResult;
  /** New messages / renames since the last commit. */
  pending: number;
  pendingFolders: Map<string, { fetched: number; flags: number }>;
  lastCommit: number;
  maps: UidMap[];
}

/** Maps a mail source failure to wrong password (77), unreachable/TLS/lost (69) or protocol (76). */
export function sourceError(e: MailSourceError, account: Account): MailgitError {
  const where = `${account.host}:${account.port}`;
  switch (e.kind) {
    case 'auth':
      return new PermissionError(`account ${account.name}: login as ${account.user} on ${where} failed: wrong user or password`);
    case 'tls':
      return new UnavailableError(`account ${account.name}: cannot connect to ${where}: TLS failure (${e.detail}); for a self-signed server use "mailgit account add … --insecure"`);
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
  const prev = await readCheckpoint(ctx.repo.root, ctx.account.name);
  if (JSON.stringify(prev) !== JSON.stringify(ctx.checkpoint)) await writeCheckpoint(ctx.repo, ctx.account.name, ctx.checkpoint);
  if (ctx.pending === 0 && JSON.stringify(prev) === JSON.stringify(ctx.checkpoint) && !final) return;
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
    const reason = local.includes('\u0000') ? 'a name segment contains "/"' : unsafeFolderReason(local, ctx.repo.layout);
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

/** Whether LIST-STATUS shows nothing new in a folder since the checkpoint. */
function unchanged(ctx: Ctx, p: Planned): boolean {
  const st = p.list.status;
  const cp = ctx.checkpoint[p.local];
  if (!st || !cp || ctx.opts.rescan) return false;
  if (st.uidValidity !== cp.uidValidity) return false;
  if (st.uidNext - 1 > cp.uid) return false;
  if (st.highestModseq !== undefined && (cp.modseq === undefined || st.highestModseq !== cp.modseq)) return false;
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

async function fetchFolder(ctx: Ctx, p: Planned): Promise<FolderResult> {
  const res: FolderResult = { folder: p.local, remote: p.remote, fetched: 0, bytes: 0, existing: 0, tooLarge: 0, flagsUpdated: 0, uidValidityReset: false };
  ctx.result.folders.push(res);
  const { source, repo, opts } = ctx;
  const dir = folderDir(repo.layout, p.local);
  const store = new FolderStore(join(repo.root, dir));
  await store.prepare(repo.root, dir);
  ctx.progress.label(`${ctx.account.name}/${p.local}`);

  const mb = await source.open(p.remote);
  const uidValidity = mb.uidValidity;
  const hms = mb.condstore ? mb.highestModseq : undefined;
  const old = ctx.checkpoint[p.local];
  res.uidValidityReset = old !== undefined && old.uidValidity !== uidValidity;
  if (res.uidValidityReset) opts.log?.(`${p.local}: UIDVALIDITY changed (${old!.uidValidity} → ${uidValidity}): re-reading the folder`);
  const valid = old !== undefined && !res.uidValidityReset ? old : undefined;
  const map = await UidMap.load(repo.gitDir, ctx.account.name, p.local, uidValidity);
  ctx.maps.push(map);

  // 2. Server flag changes on what was fetched before.
  let flagsCurrent = hms !== undefined && (valid === undefined || valid.uid === 0);
  if (valid && valid.uid > 0 && hms !== undefined && valid.modseq !== undefined) {
    if (BigInt(hms) > BigInt(valid.modseq)) {
      const changed = await source.changedSince(valid.modseq, valid.uid);
      const unknown: MessageMeta[] = [];
      for (const c of changed) {
        const e = map.entries.get(c.uid);
        if (!e) {
          unknown.push(c);
          continue;
        }
        const letters = lettersOfFlags(c.flags);
        if (await store.applyFlags(e.key, e.flags, letters)) res.flagsUpdated++;
        if (letters !== e.flags) map.set(c.uid, e.key, letters);
      }
      if (unknown.length) {
        // Fetched by another replica (or the map was lost): learn the key from the content.
        const learned: { m: MessageMeta; t: TmpMessage }[] = [];
        await download(ctx, store, unknown, (m, t) => learned.push({ m, t }));
        for (const { m, t } of learned) {
          await store.discard(t);
          const key = messageKey(m.internalDate, t.sha256);
          const letters = lettersOfFlags(m.flags);
          if (await store.applyFlags(key, null, letters)) res.flagsUpdated++;
          map.set(m.uid, key, letters);
        }
      }
      await store.syncDirs();
      if (res.flagsUpdated) bump(ctx, p.local, 0, res.flagsUpdated);
    }
    flagsCurrent = true;
  }

  // 3. New messages.
  const baseUid = opts.rescan ? 0 : (valid?.uid ?? 0);
  const from = baseUid + 1;
  let metas: MessageMeta[] = [];
  if (mb.exists > 0 && (from < mb.uidNext || opts.rescan)) metas = await source.messagesAfter(baseUid);
  metas.sort((a, b) => a.uid - b.uid);
  const maxListed = metas.length ? metas[metas.length - 1].uid : 0;
  if (opts.newestFirst) metas.reverse();
  ctx.progress.expect(metas.length);

  const position = (uid: number): void => {
    const keep = valid?.uid ?? 0;
    const modseq = flagsCurrent ? hms : valid?.modseq;
    ctx.checkpoint[p.local] = { uidValidity, uid: Math.max(keep, uid), ...(modseq !== undefined ? { modseq } : {}) };
  };
  if (!ctx.checkpoint[p.local] || res.uidValidityReset) position(0);

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
      if (known && keys.has(known.key)) {
        res.existing++;
        skipped++;
        continue;
      }
      want.push(m);
    }
    const got: { t: TmpMessage; key: string; letters: string; m: MessageMeta }[] = [];
    const keepArrived = async () => {
      const r = await store.commitBatch(got);
      for (const g of got) map.set(g.m.uid, g.key, g.letters);
      res.fetched += r.added;
      res.existing += r.existing;
      res.bytes += got.reduce((s, g) => s + g.t.size, 0);
      ctx.result.fetched += r.added;
      ctx.result.bytes += got.reduce((s, g) => s + g.t.size, 0);
      bump(ctx, p.local, r.added, 0);
      ctx.progress.advance(got.length + skipped, got.reduce((s, g) => s + g.t.size, 0));
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
    if (!opts.newestFirst) position(chunk[chunk.length - 1].uid);
    if (dueCommit(ctx)) await commitNow(ctx);
  }
  // Folder complete: every UID below UIDNEXT at SELECT time was listed and handled.
  position(Math.max(maxListed, mb.uidNext - 1));
  return res;
}

/** Fetches one account (the caller holds the repo lock). Never throws: errors are in the result. */
export async function fetchAccount(repo: Repo, account: Account, password: string, opts: FetchOptions = {}): Promise<AccountResult> {
  const result: AccountResult = { account: account.name, folders: [], refused: [], fetched: 0, bytes: 0, commits: [] };
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
  };
  try {
    await source.connect();
    opts.log?.(`${account.name}: connected to ${account.host}:${account.port}`);
    const listed = await source.list();
    const planned = planFolders(ctx, listed);
    for (const r of result.refused) opts.log?.(`${account.name}: skipping folder ${JSON.stringify(r.remote)}: ${r.reason}`);
    for (const p of planned) {
      if (unchanged(ctx, p)) continue;
      await fetchFolder(ctx, p);
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
