/**
 * `sync`: record local changes, then for each remote fetch, merge, apply, record what
 * a client did meanwhile, push. Order is important: the merged commit is applied (journal
 * first, see repo/apply.ts) before it is pushed, so a replica never advertises a head its
 * own Maildir does not hold; a push rejected because the remote moved on goes round again.
 */
import { git } from '../git/run.js';
import { diffTrees } from '../git/diff.js';
import { readHead } from '../git/commit.js';
import type { Repo } from '../repo/repo.js';
import type { LockedRepo } from '../repo/lock.js';
import { record } from '../repo/record.js';
import { applyCommit } from '../repo/apply.js';
import { MailgitError, RaceError, UsageError } from '../util/errors.js';
import { mergeHeads } from './mergeHeads.js';
import { gitCommitStore } from '../store/gitCommitStore.js';
import { describeDiff } from './describeDiff.js';
import { fetchedRef, fetchRef, fetchRemote, pushRemote } from './remotes.js';
import { admitRemoteHead, mayMerge } from './admit.js';
import type { AdmitOptions } from './admit.js';
import { listRemotes } from './remoteStatus.js';

/** Options for {@link syncRepo}. */
export interface SyncOptions extends AdmitOptions {
  /** Fetch and merge in memory only: report what would come in and go out. */
  dryRun?: boolean;
  /** Rounds of fetch+merge+push when the remote keeps moving (default 3). */
  maxRounds?: number;
}

/** What happened with one remote. */
export interface RemoteReport {
  remote: string;
  ok: boolean;
  /** Exit status this remote alone would give (0 when ok). */
  exitCode: number;
  error?: { code: string; message: string };
  /** What came in, per folder. */
  incoming: string[];
  /** What went out (the remote gained), per folder. */
  outgoing: string[];
  /** Conflicts decided by last-writer-wins or kept-both, as sentences. */
  decisions: string[];
  /** Where the push went: main, an incoming ref of a checked-out peer, or nowhere. */
  pushed: 'main' | 'incoming' | 'none';
}

/** What a whole sync did. */
export interface SyncReport {
  /** Local changes recorded before syncing (per-folder lines). */
  recorded: string[];
  /** Pushes received from peers into `refs/mailgit/incoming/*` and merged. */
  received: string[];
  remotes: RemoteReport[];
}

const INCOMING = 'refs/mailgit/incoming/';
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

async function mergeAndApply(
  repo: LockedRepo,
  theirs: string,
  origin: string,
  report: { incoming: string[]; decisions: string[] },
  dryRun: boolean,
): Promise<string | null> {
  const head = await readHead(repo.root);
  const outcome = await mergeHeads(gitCommitStore(repo.root), head, theirs, origin, repo.replica, (c) => describeDiff(repo.layout, c));
  if (outcome.kind === 'up-to-date') return head;
  const change = await diffTrees(repo.root, head ?? EMPTY_TREE, outcome.commit);
  report.incoming.push(...describeDiff(repo.layout, change));
  report.decisions.push(...outcome.decisions.map((d) => d.text));
  if (dryRun) return outcome.commit;
  if (head) report.decisions.push(...(await applyCommit(repo, head, outcome.commit, { changes: change, origin })).notes);
  else await git(['update-ref', 'refs/heads/main', outcome.commit], { cwd: repo.root });
  await record(repo, { message: 'record changes made during sync' });
  return readHead(repo.root);
}

/** The name shown for an incoming ref: its last part (`<id>/<name>`, or an older `<name>`). */
function pusherName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1);
}

/** Merges one peer's push `oid`; returns its lines and whether the ref is done with. */
async function receiveOne(repo: LockedRepo, from: string, oid: string, type: string, opts: SyncOptions): Promise<{ lines: string[]; done: boolean }> {
  if (type !== 'commit') return { lines: [`${from}: dropped a push that is a ${type}, not a commit`], done: true };
  const head = await readHead(repo.root);
  if (head && !opts.allowUnrelated && !(await mayMerge(gitCommitStore(repo.root), repo.root, head, oid))) {
    return { lines: [`${from}: refused its push: it shares no history with this replica; to merge it run mailgit sync --allow-unrelated`], done: false };
  }
  const r = { incoming: [] as string[], decisions: [] as string[] };
  await mergeAndApply(repo, oid, `${from} (pushed)`, r, opts.dryRun ?? false);
  return { lines: [...r.incoming.map((l) => `${from}: ${l}`), ...r.decisions.map((d) => `${from}: conflict: ${d}`)], done: true };
}

/**
 * Merges pushes that peers left in `refs/mailgit/incoming/*` (this repo's branch is checked
 * out). A ref that is not a commit holds no mail and is dropped with a line; a history
 * unrelated to ours waits, with a line, for `--allow-unrelated`; a ref that moved while
 * we merged it (the peer pushed again) is left for the next sync.
 */
async function receiveIncoming(repo: LockedRepo, opts: SyncOptions): Promise<string[]> {
  const out = await git(['for-each-ref', '--format=%(refname) %(objectname) %(objecttype)', INCOMING], { cwd: repo.root });
  const lines: string[] = [];
  for (const line of out.stdout.toString('utf8').split('\n').filter(Boolean)) {
    const [ref, oid, type] = line.split(' ') as [string, string, string];
    const one = await receiveOne(repo, pusherName(ref), oid, type, opts);
    lines.push(...one.lines);
    if (one.done && !opts.dryRun) await git(['update-ref', '-d', ref, oid], { cwd: repo.root }).catch(() => undefined);
  }
  return lines;
}

/** Our incoming ref on a checked-out peer: named by our id, with our name for people. */
function incomingRef(repo: Repo): string {
  const name = /\.\.|\.$|\.lock$/.test(repo.replica) ? 'replica' : repo.replica;
  return `${INCOMING}${repo.id}/${name}`;
}

/**
 * Pushes HEAD to the remote: to a checked-out replica's incoming ref (it advertises
 * `refs/mailgit/worktree`, or refuses a push to its branch), else to its `main`. Neither push
 * is forced: a rejection means someone else's work is there, to be fetched and merged first.
 */
async function pushHead(repo: Repo, name: string, url: string, worktree: boolean): Promise<'main' | 'incoming' | 'rejected' | 'incoming-rejected'> {
  if (!worktree) {
    const r = await pushRemote(repo.root, name, url, 'refs/heads/main');
    if (r !== 'checked-out') return r === 'pushed' ? 'main' : 'rejected';
  }
  return (await pushRemote(repo.root, name, url, incomingRef(repo))) === 'pushed' ? 'incoming' : 'incoming-rejected';
}

async function syncOne(repo: LockedRepo, name: string, url: string, opts: SyncOptions): Promise<RemoteReport> {
  const report: RemoteReport = { remote: name, ok: true, exitCode: 0, incoming: [], outgoing: [], decisions: [], pushed: 'none' };
  const rounds = opts.maxRounds ?? 3;
  const dryRun = opts.dryRun ?? false;
  const store = gitCommitStore(repo.root);
  try {
    for (let round = 1, ownIncoming = false; ; round++) {
      const fetched = await fetchRemote(repo.root, name, url);
      let head = await readHead(repo.root);
      const theirs = await admitRemoteHead(store, repo.root, name, fetched, head, opts);
      if (theirs) head = await mergeAndApply(repo, theirs, name, report, dryRun);
      // Admitted and merged (in memory on a dry run): what we saw there from now on.
      if (theirs && theirs !== fetched.lastSeen) await git(['update-ref', `refs/remotes/${name}/main`, theirs], { cwd: repo.root });
      if (ownIncoming) head = await mergeOwnIncoming(repo, name, url, report, opts);
      if (!head || head === theirs) return report;
      const gained = describeDiff(repo.layout, await diffTrees(repo.root, theirs ?? EMPTY_TREE, head));
      if (dryRun) return { ...report, outgoing: gained };
      const pushed = await pushHead(repo, name, url, fetched.worktree);
      if (pushed === 'main' || pushed === 'incoming') return { ...report, outgoing: gained, pushed };
      ownIncoming = pushed === 'incoming-rejected';
      if (round >= rounds) throw new RaceError(`remote ${name} kept moving; gave up after ${rounds} rounds (run sync again)`);
    }
  } catch (e) {
    if (!(e instanceof MailgitError)) throw e;
    return { ...report, ok: false, exitCode: e.exitCode, error: { code: e.code, message: e.message } };
  }
}

/**
 * Fetches and merges what waits under our id on a checked-out peer but is not in our
 * history (a copy of this repo's directory, which has our id too, pushed it), so that our
 * next push there is a fast-forward and overwrites nothing. Returns the new head.
 */
async function mergeOwnIncoming(repo: LockedRepo, name: string, url: string, report: RemoteReport, opts: AdmitOptions): Promise<string | null> {
  const waiting = await fetchRef(repo.root, name, url, incomingRef(repo), fetchedRef(name, 'incoming'));
  const head = await readHead(repo.root);
  if (!waiting) return head;
  await admitRemoteHead(gitCommitStore(repo.root), repo.root, name, { main: waiting, worktree: false, lastSeen: null }, head, opts);
  return mergeAndApply(repo, waiting.oid, `${name} (our id's incoming ref)`, report, false);
}

/**
 * Syncs with the named remotes (all when `names` is empty).
 * A failing remote is reported and the others are still synced.
 */
export async function syncRepo(repo: LockedRepo, names: string[], opts: SyncOptions = {}): Promise<SyncReport> {
  const all = await listRemotes(repo);
  for (const n of names) if (!all.some((r) => r.name === n)) throw new UsageError(`no such remote: ${n} (see git remote -v, or mailgit remote add)`);
  const chosen = names.length === 0 ? all : all.filter((r) => names.includes(r.name));
  const recorded = opts.dryRun ? [] : ((await record(repo))?.summary ?? []);
  const received = await receiveIncoming(repo, opts);
  const remotes: RemoteReport[] = [];
  for (const r of chosen) remotes.push(await syncOne(repo, r.name, r.url, opts));
  return { recorded, received, remotes };
}
