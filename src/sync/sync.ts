/**
 * `sync`: record local changes, then for each remote fetch, merge, apply, record what
 * a client did meanwhile, push. Order is important: the merged commit is applied (journal
 * first, see repo/apply.ts) before it is pushed, so a replica never advertises a head its
 * own Maildir does not hold; a push rejected because the remote moved on goes round again.
 */
import { git } from '../git/run.js';
import { diffTrees } from '../git/diff.js';
import { readHead, resolveCommit } from '../git/commit.js';
import type { Repo } from '../repo/repo.js';
import { record } from '../repo/record.js';
import { applyCommit } from '../repo/apply.js';
import { MailgitError, UsageError, EX } from '../util/errors.js';
import { mergeHeads } from './mergeHeads.js';
import { gitCommitStore } from '../store/gitCommitStore.js';
import { describeDiff } from './describeDiff.js';
import { fetchRemote, pushRemote } from './remotes.js';
import { listRemotes } from './remoteStatus.js';

/** Options for {@link syncRepo}. */
export interface SyncOptions {
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

async function mergeAndApply(repo: Repo, theirs: string, origin: string, report: { incoming: string[]; decisions: string[] }, dryRun: boolean): Promise<string | null> {
  const head = await readHead(repo.root);
  const outcome = await mergeHeads(gitCommitStore(repo.root), head, theirs, origin, repo.replica, (c) => describeDiff(repo.layout, c));
  if (outcome.kind === 'up-to-date') return head;
  const change = await diffTrees(repo.root, head ?? '4b825dc642cb6eb9a060e54bf8d69288fbee4904', outcome.commit);
  report.incoming.push(...describeDiff(repo.layout, change));
  report.decisions.push(...outcome.decisions.map((d) => d.text));
  if (dryRun) return outcome.commit;
  if (head) report.decisions.push(...(await applyCommit(repo, head, outcome.commit, { changes: change, origin })).notes);
  else await git(['update-ref', 'refs/heads/main', outcome.commit], { cwd: repo.root });
  await record(repo, { message: 'record changes made during sync' });
  return readHead(repo.root);
}

/** Merges pushes that peers left in `refs/mailgit/incoming/*` (this repo's branch was checked out). */
async function receiveIncoming(repo: Repo, dryRun: boolean): Promise<string[]> {
  const refs = (await git(['for-each-ref', '--format=%(refname) %(objectname)', INCOMING], { cwd: repo.root })).stdout.toString('utf8').split('\n').filter(Boolean);
  const lines: string[] = [];
  for (const line of refs) {
    const [ref, oid] = line.split(' ') as [string, string];
    const from = ref.slice(INCOMING.length);
    const r = { incoming: [] as string[], decisions: [] as string[] };
    await mergeAndApply(repo, oid, `${from} (pushed)`, r, dryRun);
    lines.push(...r.incoming.map((l) => `${from}: ${l}`), ...r.decisions.map((d) => `${from}: conflict: ${d}`));
    if (!dryRun) await git(['update-ref', '-d', ref, oid], { cwd: repo.root });
  }
  return lines;
}

async function syncOne(repo: Repo, name: string, url: string, opts: SyncOptions): Promise<RemoteReport> {
  const report: RemoteReport = { remote: name, ok: true, exitCode: 0, incoming: [], outgoing: [], decisions: [], pushed: 'none' };
  const rounds = opts.maxRounds ?? 3;
  try {
    for (let round = 1; ; round++) {
      await fetchRemote(repo.root, name, url);
      const theirs = await resolveCommit(repo.root, `refs/remotes/${name}/main`);
      let head = await readHead(repo.root);
      if (theirs) head = await mergeAndApply(repo, theirs, name, report, opts.dryRun ?? false);
      if (!head || head === theirs) return report;
      const gained = describeDiff(repo.layout, await diffTrees(repo.root, theirs ?? '4b825dc642cb6eb9a060e54bf8d69288fbee4904', head));
      if (opts.dryRun) {
        report.outgoing = gained;
        return report;
      }
      const pushed = await pushRemote(repo.root, name, url, 'refs/heads/main');
      if (pushed === 'pushed') {
        report.outgoing = gained;
        report.pushed = 'main';
        return report;
      }
      if (pushed === 'checked-out') {
        await pushRemote(repo.root, name, url, `${INCOMING}${repo.replica}`, true);
        report.outgoing = gained;
        report.pushed = 'incoming';
        return report;
      }
      if (round >= rounds) throw new MailgitError(`remote ${name} kept moving; gave up after ${rounds} rounds (run sync again)`, 'ERACE', EX.TEMPFAIL);
    }
  } catch (e) {
    if (!(e instanceof MailgitError)) throw e;
    return { ...report, ok: false, exitCode: e.exitCode, error: { code: e.code, message: e.message } };
  }
}

/**
 * Syncs with the named remotes (all when `names` is empty). The caller holds the lock.
 * A failing remote is reported and the others are still synced.
 */
export async function syncRepo(repo: Repo, names: string[], opts: SyncOptions = {}): Promise<SyncReport> {
  const all = await listRemotes(repo);
  for (const n of names) if (!all.some((r) => r.name === n)) throw new UsageError(`no such remote: ${n} (see git remote -v, or mailgit remote add)`);
  const chosen = names.length === 0 ? all : all.filter((r) => names.includes(r.name));
  const recorded = opts.dryRun ? [] : ((await record(repo))?.summary ?? []);
  const received = await receiveIncoming(repo, opts.dryRun ?? false);
  const remotes: RemoteReport[] = [];
  for (const r of chosen) remotes.push(await syncOne(repo, r.name, r.url, opts));
  return { recorded, received, remotes };
}
