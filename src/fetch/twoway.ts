/**
 * The two-way half of `mailgit fetch` (accounts with `sync: both`). After a folder's new
 * server mail is stored (fetch.ts), three passes bring repo and server level:
 *
 *  1. {@link reconcileFolder}, per folder: UIDs the server no longer has are deleted here
 *     (unless the disappearance is suspect); each flag of each message is compared
 *     three-way — repo, server, and the state both last agreed on (src/fetch/state.ts): the
 *     side that differs from the agreed state wins, so a change on each side to different
 *     flags keeps both, and no flag ping-pongs. Repo changes are collected into one STORE
 *     per flag and direction; server changes rename files.
 *  2. {@link pushRemovals}, per account: a message whose file left its folder is moved on
 *     the server when its key is now in another folder of the account (MOVE), else marked
 *     `\Deleted` (expunged only with the account's `expunge`).
 *  3. {@link uploadNew}, per folder: files whose key the state does not know are new in
 *     the repo → APPEND, once (see the function).
 *
 * Crash safety: every server command is idempotent given the state on disk (a STORE of a
 * flag already set, a `\Deleted` already there), or is recognised on the next run (a MOVE
 * shows as a UID gone here and a known key arriving there; an APPEND as a new server UID
 * whose content is a file already here). The state is written with the checkpoint in the
 * commit that records the files.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { OpenedFolder, StoredFlags } from './mailSource.js';
import type { FolderState } from './state.js';
import { keyHash, messageKey, type FolderStore, type Located } from './store.js';
import { counted } from '../util/words.js';

/** What the engine tells these passes about one two-way folder. */
export interface TwoWayFolder {
  remote: string;
  local: string;
  store: FolderStore;
  state: FolderState;
  opened: OpenedFolder;
  /** Server letters of UIDs whose flags may differ from the agreed state (all, after a scan). */
  serverLetters: Map<number, string>;
  /** UIDs the server has, or `null` when every known UID is there. */
  present: Set<number> | null;
  /** Known UIDs whose file is no longer in this folder (filled by pass 1). */
  missing: { uid: number; key: string }[];
  counts: TwoWayCounts;
}

/** What the passes did in one folder. */
export interface TwoWayCounts {
  flagsPushed: number;
  flagsPulled: number;
  deletedHere: number;
  movedOnServer: number;
  deletedOnServer: number;
  uploaded: number;
  held: number;
}

/** What the passes need from the fetch run. */
export interface TwoWayEnv {
  source: {
    open(path: string, opts?: { write?: boolean }): Promise<OpenedFolder>;
    storeFlags(uids: number[], flags: string[], how: 'add' | 'remove'): Promise<StoredFlags[]>;
    expunge(uids: number[]): Promise<void>;
    move(uids: number[], dest: string): Promise<Map<number, number>>;
    append(path: string, content: Buffer, flags: string[], date: Date): Promise<{ uid?: number; uidValidity?: string }>;
    searchMessageId(id: string): Promise<number[]>;
    downloadMany(uids: number[]): AsyncIterable<{ uid: number; content: Buffer }>;
  };
  expunge: boolean;
  /** Accept a mass disappearance of server messages as real. */
  acceptVanished: boolean;
  warn(line: string): void;
  /** Counts a change for the commit message and cadence. */
  changed(folder: string, n: number): void;
}

/** A held-keys marker: the folder's state is being built, nothing may be uploaded yet. */
export const RELEARN_MARK = '.relearn';

/** Fewer disappearances than this are never suspect. */
const SUSPECT_MIN = 10;

/** Empty counts. */
export function noCounts(): TwoWayCounts {
  return { flagsPushed: 0, flagsPulled: 0, deletedHere: 0, movedOnServer: 0, deletedOnServer: 0, uploaded: 0, held: 0 };
}

/**
 * Whether a disappearance of `gone` of `known` messages is suspect: at least
 * {@link SUSPECT_MIN} and more than half (a server answering with an empty folder by
 * mistake, an account pointed at another mailbox).
 */
export function suspectDisappearance(gone: number, known: number): boolean {
  return gone >= SUSPECT_MIN && gone * 2 > known;
}

/** Pass 1 for one folder; see the module comment. */
export async function reconcileFolder(env: TwoWayEnv, f: TwoWayFolder): Promise<void> {
  const keys = await f.store.keys();
  const live = [...f.state.entries].filter(([, e]) => e.flags !== null);
  const gone = f.present ? [...f.state.entries.keys()].filter((u) => !f.present!.has(u)) : [];
  // Only what would be deleted here counts: UIDs whose file already left (moved or deleted here) just go.
  // A key another UID still carries (moved away and back on the server) stays too.
  const threat = gone.filter((u) => {
    const e = f.state.entries.get(u)!;
    return e.flags !== null && keys.has(e.key) && !f.state.sharedKey(e.key, u);
  });
  if (threat.length && suspectDisappearance(threat.length, f.state.entries.size) && !env.acceptVanished) {
    env.warn(
      `folder ${f.local}: ${threat.length} of ${f.state.entries.size} messages vanished from the server at once; kept here (suspect). If it is real, run "mailgit fetch --accept-vanished"`,
    );
    const kept = new Set(threat);
    for (const u of kept) f.present!.add(u);
    gone.splice(0, gone.length, ...gone.filter((u) => !kept.has(u)));
  }
  // While the state is being built, what it knows came from this machine's one-way
  // fetches, which keep what the server expunged: forget the UID, keep the file.
  const relearning = f.state.held.has(RELEARN_MARK);
  for (const uid of gone) {
    const e = f.state.entries.get(uid)!;
    f.state.remove(uid);
    if (e.flags !== null && !relearning && !f.state.hasKey(e.key) && (await f.store.remove(e.key))) f.counts.deletedHere++;
  }
  if (gone.length) env.changed(f.local, gone.length);
  const push = new Map<string, number[]>(); // "+S" → UIDs
  for (const [uid, e] of f.state.entries) {
    // Deleted here and marked \Deleted there, but the file is back (a merge kept a
    // concurrent change to it): it is mail again — undelete it on the server.
    const back = e.flags === null && keys.get(e.key);
    if (!back || (f.present && !f.present.has(uid))) continue;
    const local = f.store.mirroredOf(back.name);
    // The file's flags are what the person last saw: send them (a STORE of a flag already set is harmless).
    for (const op of [...(local.includes('T') ? [] : ['-T']), ...[...local].map((l) => `+${l}`)]) push.set(op, [...(push.get(op) ?? []), uid]);
    f.state.set(uid, e.key, local);
  }
  for (const [uid, e] of live) {
    if (f.present && !f.present.has(uid)) continue;
    const loc = keys.get(e.key);
    if (!loc) {
      f.missing.push({ uid, key: e.key });
      continue;
    }
    const local = f.store.mirroredOf(loc.name);
    const server = f.serverLetters.get(uid) ?? e.flags!;
    const agreed = await settleFlags({ f, uid, key: e.key, base: e.flags!, local, server, push });
    f.state.set(uid, e.key, agreed);
    // Shown changed since the checkpoint (CONDSTORE): agreed as of now, even if unchanged.
    if (f.opened.condstore && f.serverLetters.has(uid)) f.state.restamp(uid);
  }
  await storePushed(env, f, push);
  await f.store.syncDirs();
}

/**
 * Sends the queued STOREs (the folder is still selected read-write by the fetch of its new
 * mail) and stamps each entry they agreed with the MODSEQ the server gave the message: a
 * replica that looked at the server after this run's SELECT but before these STOREs has
 * the same HIGHESTMODSEQ stamp on its older view, which must not win the merge. An entry
 * whose message the server answered with other flags (another client changed it at the
 * same time) keeps the older stamp: the next run sees that change and settles it.
 */
async function storePushed(env: TwoWayEnv, f: TwoWayFolder, push: Map<string, number[]>): Promise<void> {
  const answers = new Map<number, StoredFlags>();
  for (const [op, uids] of push) {
    for (const a of await env.source.storeFlags(uids, [f.store.flagOf(op[1])!], op[0] === '+' ? 'add' : 'remove')) answers.set(a.uid, a);
  }
  for (const [uid, a] of answers) {
    if (a.modseq !== undefined && f.store.lettersOf(a.flags) === f.state.entries.get(uid)?.flags) f.state.restamp(uid, a.modseq);
  }
}

/**
 * Decides one message's flags letter by letter: equal on both sides → agreed; else the
 * side that differs from the base wins. Queues the STOREs, renames the file for server
 * changes, and returns the letters now agreed.
 */
async function settleFlags(a: {
  f: TwoWayFolder;
  uid: number;
  key: string;
  base: string;
  local: string;
  server: string;
  push: Map<string, number[]>;
}): Promise<string> {
  let agreed = '';
  let pulled = false;
  for (const l of a.f.store.mirrored()) {
    const inLocal = a.local.includes(l);
    const inServer = a.server.includes(l);
    if (inLocal === inServer) {
      if (inLocal) agreed += l;
      continue;
    }
    if (inLocal !== a.base.includes(l)) {
      const op = (inLocal ? '+' : '-') + l;
      a.push.set(op, [...(a.push.get(op) ?? []), a.uid]);
      a.f.counts.flagsPushed++;
      if (inLocal) agreed += l;
    } else {
      pulled = true;
      if (inServer) agreed += l;
    }
  }
  if (pulled && (await a.f.store.setMapped(a.key, agreed))) a.f.counts.flagsPulled++;
  return agreed;
}

/** Pass 2 for all two-way folders of an account; see the module comment. */
export async function pushRemovals(env: TwoWayEnv, folders: TwoWayFolder[]): Promise<void> {
  for (const f of folders) {
    if (f.missing.length === 0) continue;
    if (!(await exists(f.store.abs))) {
      env.warn(
        `folder ${f.local} is missing here: its ${counted(f.missing.length, 'message')} ${f.missing.length === 1 ? 'is' : 'are'} not deleted on the server`,
      );
      continue;
    }
    const moves = new Map<TwoWayFolder, { uid: number; key: string }[]>();
    const deletes: { uid: number; key: string }[] = [];
    for (const m of f.missing) {
      const to = await movedTo(folders, f, m.key);
      if (to) moves.set(to, [...(moves.get(to) ?? []), m]);
      else deletes.push(m);
    }
    await env.source.open(f.remote, { write: true });
    for (const [to, list] of moves) {
      const map = await env.source.move(
        list.map((m) => m.uid),
        to.remote,
      );
      for (const m of list) {
        // Letters are per folder: the file and the agreed state get the destination's letters for the same keywords.
        await to.store.adoptLetters(m.key, f.store);
        const agreed = to.store.lettersFrom(f.store, f.serverLetters.get(m.uid) ?? f.state.entries.get(m.uid)?.flags ?? '');
        f.state.remove(m.uid);
        const nu = map.get(m.uid);
        if (nu !== undefined && to.state.uidValidity === to.opened.uidValidity) to.state.set(nu, m.key, agreed);
      }
      f.counts.movedOnServer += list.length;
    }
    if (deletes.length) {
      const uids = deletes.map((m) => m.uid);
      if (env.expunge) await env.source.expunge(uids);
      else await env.source.storeFlags(uids, ['\\Deleted'], 'add');
      for (const m of deletes) {
        if (env.expunge) f.state.remove(m.uid);
        else f.state.set(m.uid, m.key, null);
      }
      f.counts.deletedOnServer += deletes.length;
    }
    env.changed(f.local, f.missing.length);
  }
}

/** The folder a key was moved to: one of the account's other folders holds the file and does not know the key yet. */
async function movedTo(folders: TwoWayFolder[], from: TwoWayFolder, key: string): Promise<TwoWayFolder | undefined> {
  for (const g of folders) {
    if (g === from || g.state.hasKey(key)) continue;
    if ((await g.store.keys()).has(key)) return g;
  }
  return undefined;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(join(p, 'cur'));
    return true;
  } catch {
    return false;
  }
}

/**
 * Pass 3 for one folder. Files whose key the state does not know (nor holds) are new in
 * the repo. Each is first renamed to its deterministic fetch name (INTERNALDATE seconds
 * from its name or mtime + content hash), so that the copy any replica later downloads
 * from the server has the same key and is recognised, not stored twice — a replica that
 * still has the old name drops it as a duplicate of the downloaded one. Before the
 * APPEND, the server is searched for the Message-ID and a hit with the same content is
 * taken as already uploaded (by another replica, or by this one before a crash). APPENDUID
 * goes into the state in the same commit, so the next run does not download it back.
 * While the folder's state is being (re)built (first two-way run, UIDVALIDITY change),
 * such files are held instead: they were here before, and uploading them could bring
 * back mail deleted on the server.
 */
export async function uploadNew(env: TwoWayEnv, f: TwoWayFolder): Promise<void> {
  const keys = await f.store.keys();
  const candidates = unsentKeys(f.state, keys).sort();
  if (f.state.held.has(RELEARN_MARK)) {
    for (const k of candidates) f.state.hold(k);
    f.state.unhold(RELEARN_MARK);
    f.counts.held += candidates.length;
    return;
  }
  if (candidates.length === 0) return;
  await env.source.open(f.remote, { write: true });
  for (const key of candidates) {
    const loc = keys.get(key)!;
    const path = join(f.store.abs, loc.sub, loc.name);
    const content = await readFile(path);
    const sha = createHash('sha256').update(content).digest('hex');
    const secs = /^(\d{9,11})\./.exec(key)?.[1];
    const date = secs ? new Date(Number(secs) * 1000) : (await stat(path)).mtime;
    const final = messageKey(date, sha);
    if (final !== key) {
      if (keys.has(final)) {
        await f.store.remove(key); // the same message under its fetch name: a duplicate
        env.changed(f.local, 1);
        continue;
      }
      await f.store.rekey(key, final);
    }
    const letters = f.store.mirroredOf(keys.get(final)!.name);
    const already = await onServer(env, content, sha);
    const uid =
      already ??
      (
        await env.source.append(
          f.remote,
          content,
          [...letters].map((l) => f.store.flagOf(l)!),
          date,
        )
      ).uid;
    if (already === undefined) f.counts.uploaded++;
    if (uid !== undefined) f.state.set(uid, final, letters);
    env.changed(f.local, 1);
  }
  await f.store.syncDirs();
}

/** The keys of a folder's files that are new in the repo: its state neither knows nor holds them. */
function unsentKeys(state: FolderState, keys: Map<string, Located>): string[] {
  return [...keys.keys()].filter((k) => !state.hasKey(k) && !state.held.has(k));
}

/**
 * A folder's files new in the repo, by content hash (16 hex digits) → key. A file under
 * its fetch name has the hash in its name; one under a mail client's name (not yet
 * renamed by {@link uploadNew}) is read and hashed — only those, so the cost is the new
 * files'.
 */
export async function unsentByHash(store: FolderStore, state: FolderState): Promise<Map<string, string>> {
  const keys = await store.keys();
  const out = new Map<string, string>();
  for (const key of unsentKeys(state, keys)) {
    const loc = keys.get(key)!;
    const hash =
      keyHash(key) ??
      createHash('sha256')
        .update(await readFile(join(store.abs, loc.sub, loc.name)))
        .digest('hex')
        .slice(0, 16);
    out.set(hash, key);
  }
  return out;
}

/** The UID of a server message (open folder) with this Message-ID and the same content, if any. */
async function onServer(env: TwoWayEnv, content: Buffer, sha: string): Promise<number | undefined> {
  const head = content
    .subarray(0, Math.min(content.length, 64 << 10))
    .toString('latin1')
    .split(/\r?\n\r?\n/)[0];
  const id = /^message-id:[ \t]*(<[^>\r\n]+>)/im.exec(head)?.[1];
  if (!id) return undefined;
  const hits = await env.source.searchMessageId(id);
  if (hits.length === 0) return undefined;
  for await (const m of env.source.downloadMany(hits)) {
    if (createHash('sha256').update(m.content).digest('hex') === sha) return m.uid;
  }
  return undefined;
}
