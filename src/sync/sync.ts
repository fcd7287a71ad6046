/**
 * `sync`: record local changes, then for each remote fetch, merge, apply, record what
 * a client did meanwhile, push. Order is important: the merged commit is applied (journal
 * first, see repo/apply.ts) before it is pushed, so a replica never advertises a head its
 * own Maildir does not hold; a push rejected because the remote moved on goes round again.
 * Each step first works out a plan (fetch, admit, merge: objects only) and then carries it
 * out; a dry run reports the plans and carries out none. The loop reaches history, refs
 * and remotes only through the history port (`src/store/commitStore.ts`) and the Maildir
 * only through {@link SyncReplica}.
 */
import type { LockedRepo } from '../repo/lock.js';
import type { Repo } from '../repo/repo.js';
import { EX, MailgitError, RaceError } from '../util/errors.js';
import { mergeHeads } from './mergeHeads.js';
import { describeDiff } from './describeDiff.js';
import { fetchedRef, fetchRef, fetchRemote } from './remotes.js';
import type { Fetched } from './remotes.js';
import { admitRemoteHead, mayMerge } from './admit.js';
import type { AdmitOptions } from './admit.js';
import { INCOMING, listRemotes, pusherName } from './remoteStatus.js';
import { UnknownRemoteError, noteSynced } from './remoteAdmin.js';
import { checkGitView } from '../repo/gitIndex.js';
import { MAIN } from '../store/commitStore.js';
import type { PathChange, RefEntry, Remote } from '../store/commitStore.js';
import { gitReplica, unappliedReplica } from './replica.js';
import { perfMark } from '../util/perf.js';
import type { SyncBars, SyncReplica } from './replica.js';

/** Options for {@link syncRepo}. */
export interface SyncOptions extends AdmitOptions {
  /**
   * Run the same loop on {@link unappliedReplica}: fetch, and write the record and the
   * merges to the object store only, so the report is the plan a real sync carries out.
   */
  dryRun?: boolean;
  /** Progress bars for a person at a terminal (none under cron). */
  bars?: SyncBars;
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

/** A merge worked out (its objects written) but not applied. */
interface MergePlan {
  /** Our head it was made against. */
  head: string | null;
  /** The commit to move to. */
  commit: string;
  /** The head merged in. */
  theirs: string;
  /** From `head` to `commit`. */
  changes: PathChange[];
  origin: string;
  /** What comes in, per folder, and the conflicts decided. */
  incoming: string[];
  decisions: string[];
}

async function headOf(r: SyncReplica): Promise<string | null> {
  return (await r.store.readRef('HEAD'))?.oid ?? null;
}

/** Merges `theirs` into our head in the object store only; null when we already hold it. */
async function planMerge(r: SyncReplica, theirs: string, origin: string): Promise<MergePlan | null> {
  const head = await headOf(r);
  const restored = await r.restored?.(head, theirs);
  const describe = (c: PathChange[]) => describeDiff(r.layout, c, restored);
  const outcome = await mergeHeads({ store: r.store, ours: head, theirs, origin, replica: r.replica, describe, layout: r.layout });
  if (outcome.kind === 'up-to-date') return null;
  const changes = outcome.changes ?? (await r.store.diff(head, outcome.commit));
  return { head, commit: outcome.commit, theirs, changes, origin, incoming: describe(changes), decisions: outcome.decisions.map((d) => d.text) };
}

/**
 * Carries out a merge plan: records first the edits in place not recorded yet in the
 * messages it would overwrite or remove, and then merges again (so that such an edit is
 * merged as one, never taken for the old bytes); applies it (or starts the branch);
 * records what clients did meanwhile; returns the new head.
 */
async function applyMerge(r: SyncReplica, planned: MergePlan, report: { incoming: string[]; decisions: string[] }): Promise<string | null> {
  let plan: MergePlan | null = planned;
  if (plan.head && (await r.worktree.recordEdits(plan.changes))) plan = await planMerge(r, plan.theirs, plan.origin);
  if (!plan) return headOf(r);
  report.incoming.push(...plan.incoming);
  report.decisions.push(...plan.decisions);
  if (plan.head) report.decisions.push(...(await r.worktree.apply({ from: plan.head, to: plan.commit, changes: plan.changes, origin: plan.origin })));
  else if (!(await r.store.updateRef(MAIN, plan.commit, null))) throw new RaceError('the branch appeared while syncing; nothing applied, sync again');
  perfMark(`sync: applied ${plan.changes.length} paths from ${plan.origin}`);
  await r.worktree.record('record changes made during sync');
  perfMark('sync: recorded what a client did meanwhile');
  return headOf(r);
}

/** What to do with one peer's push: a refusal or drop (its line), or a merge plan; `done` when the ref is done with. */
async function planReceive(r: SyncReplica, ref: RefEntry, opts: AdmitOptions): Promise<{ refusal: string | null; plan: MergePlan | null; done: boolean }> {
  const from = pusherName(ref.ref);
  if (ref.type !== 'commit') return { refusal: `${from}: dropped a push that is a ${ref.type}, not a commit`, plan: null, done: true };
  const head = await headOf(r);
  if (head && !opts.allowUnrelated && !(await mayMerge(r.store, head, ref.oid))) {
    const refusal = `${from}: refused its push: it shares no history with this replica; to merge it run mailgit sync --allow-unrelated`;
    return { refusal, plan: null, done: false };
  }
  return { refusal: null, plan: await planMerge(r, ref.oid, `${from} (pushed)`), done: true };
}

/** The lines of a received push. */
function receivedLines(ref: RefEntry, refusal: string | null, merged: { incoming: string[]; decisions: string[] }): string[] {
  const from = pusherName(ref.ref);
  return [...(refusal ? [refusal] : []), ...merged.incoming.map((l) => `${from}: ${l}`), ...merged.decisions.map((d) => `${from}: conflict: ${d}`)];
}

/**
 * Merges pushes that peers left in `refs/mailgit/incoming/*` (this repo's branch is checked
 * out). A ref that is not a commit holds no mail and is dropped with a line; a history
 * unrelated to ours waits, with a line, for `--allow-unrelated`; a ref that moved while
 * we merged it (the peer pushed again) is left for the next sync.
 */
async function receiveIncoming(r: SyncReplica, opts: AdmitOptions): Promise<string[]> {
  const lines: string[] = [];
  for (const ref of await r.store.listRefs(INCOMING)) {
    const { refusal, plan, done } = await planReceive(r, ref, opts);
    const merged = { incoming: [] as string[], decisions: [] as string[] };
    if (plan) await applyMerge(r, plan, merged);
    lines.push(...receivedLines(ref, refusal, merged));
    if (done) await r.store.deleteRef(ref.ref, ref.oid).catch(() => false);
  }
  return lines;
}

/** Our incoming ref on a checked-out peer: named by our id, with our name for people. */
function incomingRef(r: SyncReplica): string {
  const name = /\.\.|\.$|\.lock$/.test(r.replica) ? 'replica' : r.replica;
  return `${INCOMING}${r.id}/${name}`;
}

/**
 * Pushes HEAD to the remote: to a checked-out replica's incoming ref (it advertises
 * `refs/mailgit/worktree`, or refuses a push to its branch), else to its `main`. Neither push
 * is forced: a rejection means someone else's work is there, to be fetched and merged first.
 */
async function pushHead(r: SyncReplica, remote: Remote, worktree: boolean): Promise<'main' | 'incoming' | 'rejected' | 'incoming-rejected'> {
  if (!worktree) {
    const res = await r.store.push(remote, MAIN);
    if (res !== 'checked-out') return res === 'pushed' ? 'main' : 'rejected';
  }
  return (await r.store.push(remote, incomingRef(r))) === 'pushed' ? 'incoming' : 'incoming-rejected';
}

/** One round's fetch, admission and merge, not yet applied. */
interface RoundPlan {
  fetched: Fetched;
  /** Their admitted main (null: none). */
  theirs: string | null;
  /** Our head when the round began. */
  head: string | null;
  merge: MergePlan | null;
}

/** One replica syncing with one remote. */
interface Leg {
  r: SyncReplica;
  remote: Remote;
  opts: SyncOptions;
}

async function planRound({ r, remote, opts }: Leg): Promise<RoundPlan> {
  const fetched = await fetchRemote(r.store, remote);
  perfMark(`sync: fetched ${remote.name}`);
  const head = await headOf(r);
  const theirs = await admitRemoteHead({ store: r.store, name: remote.name, fetched, ours: head, opts });
  return { fetched, theirs, head, merge: theirs ? await planMerge(r, theirs, remote.name) : null };
}

/** Admitted and merged (in memory only on a dry run): what we saw there from now on. */
async function accept({ r, remote }: Leg, round: RoundPlan): Promise<void> {
  if (round.theirs && round.theirs !== round.fetched.lastSeen) await r.store.updateRef(`refs/remotes/${remote.name}/main`, round.theirs);
}

/** What the remote at `theirs` gains from our `head`, per folder. */
async function gained(r: SyncReplica, theirs: string | null, head: string): Promise<string[]> {
  return describeDiff(r.layout, await r.store.diff(theirs, head), await r.restored?.(theirs, head));
}

/** Runs `step` for one remote's report; a mailgit error becomes that remote's failure. */
async function reported(name: string, step: (report: RemoteReport) => Promise<RemoteReport>): Promise<RemoteReport> {
  const report: RemoteReport = { remote: name, ok: true, exitCode: 0, incoming: [], outgoing: [], decisions: [], pushed: 'none' };
  try {
    return await step(report);
  } catch (e) {
    if (!(e instanceof MailgitError)) throw e;
    return { ...report, ok: false, exitCode: e.exitCode, error: { code: e.code, message: e.message } };
  }
}

async function syncOne(leg: Leg): Promise<RemoteReport> {
  const { r, remote, opts } = leg;
  const rounds = opts.maxRounds ?? 3;
  return reported(remote.name, async (report) => {
    for (let round = 1, ownIncoming = false; ; round++) {
      const plan = await planRound(leg);
      let head = plan.merge ? await applyMerge(r, plan.merge, report) : plan.head;
      await accept(leg, plan);
      if (ownIncoming) head = await mergeOwnIncoming(leg, report);
      if (!head || head === plan.theirs) return report;
      const outgoing = await gained(r, plan.theirs, head);
      const pushed = await pushHead(r, remote, plan.fetched.worktree);
      perfMark(`sync: pushed to ${remote.name} (${pushed})`);
      if (pushed === 'main' || pushed === 'incoming') return { ...report, outgoing, pushed };
      ownIncoming = pushed === 'incoming-rejected';
      if (round >= rounds) throw new RaceError(`remote ${remote.name} kept moving; gave up after ${rounds} rounds (run sync again)`);
    }
  });
}

/**
 * Fetches and merges what waits under our id on a checked-out peer but is not in our
 * history (a copy of this repo's directory, which has our id too, pushed it), so that our
 * next push there is a fast-forward and overwrites nothing. Returns the new head.
 */
async function mergeOwnIncoming({ r, remote, opts }: Leg, report: RemoteReport): Promise<string | null> {
  const waiting = await fetchRef(r.store, remote, { ref: incomingRef(r), dst: fetchedRef(remote.name, 'incoming') });
  const head = await headOf(r);
  if (!waiting) return head;
  await admitRemoteHead({ store: r.store, name: remote.name, fetched: { main: waiting, worktree: false, lastSeen: null }, ours: head, opts });
  const plan = await planMerge(r, waiting.oid, `${remote.name} (our id's incoming ref)`);
  return plan ? applyMerge(r, plan, report) : head;
}

/** Joins the reports of two rounds with one remote. */
function joinReports(a: RemoteReport, b: RemoteReport): RemoteReport {
  return {
    ...b,
    incoming: [...a.incoming, ...b.incoming],
    outgoing: [...a.outgoing, ...b.outgoing],
    decisions: [...a.decisions, ...b.decisions],
    pushed: b.pushed === 'none' ? a.pushed : b.pushed,
  };
}

/**
 * Syncs replica `r` with `remotes`: records, merges what peers pushed to it, then fetches,
 * merges, applies and pushes per remote. A failing remote is reported and the others are
 * still synced. A remote synced before a later one brought mail is synced once more, so
 * that one run leaves every reachable remote level.
 */
export async function syncReplica(r: SyncReplica, remotes: Remote[], opts: SyncOptions = {}): Promise<SyncReport> {
  perfMark('sync: start');
  const recorded = await r.worktree.record();
  const received = await receiveIncoming(r, opts);
  const reports: RemoteReport[] = [];
  const leftAt: (string | null)[] = [];
  for (const remote of remotes) {
    reports.push(await syncOne({ r, remote, opts }));
    leftAt.push(await headOf(r));
  }
  const head = await headOf(r);
  for (const [i, remote] of remotes.entries()) {
    if (reports[i]!.ok && leftAt[i] !== head) reports[i] = joinReports(reports[i]!, await syncOne({ r, remote, opts }));
  }
  return { recorded, received, remotes: reports };
}

/**
 * The remotes a sync with `names` talks to (all when empty); an unknown name is a usage
 * error (64).
 */
export async function chooseRemotes(repo: Repo, names: string[]): Promise<Remote[]> {
  const all = await listRemotes(repo);
  for (const n of names) if (!all.some((r) => r.name === n)) throw new UnknownRemoteError(n);
  return names.length === 0 ? all : all.filter((r) => names.includes(r.name));
}

/**
 * A sync with nothing to talk to and nothing pushed to it to merge: a configuration error
 * (78) naming the command that adds a remote; an odd git state (a detached HEAD, a stopped
 * merge) is named first, as commit and status name it.
 */
async function refuseIdle(repo: LockedRepo, r: SyncReplica, remotes: Remote[]): Promise<void> {
  if (remotes.length > 0 || (await r.store.listRefs(INCOMING)).length > 0) return;
  await checkGitView(repo, { readOnly: true });
  throw new MailgitError('no remotes to sync with; add one with: mailgit remote add NAME URL (--create makes a new hub there)', 'ENOREMOTE', EX.CONFIG);
}

/**
 * Syncs the repository with the named remotes (all when `names` is empty), noting when
 * each that answered was synced; with `dryRun` the same loop runs on a replica that applies
 * nothing ({@link unappliedReplica}), and its report is the plan. A replica without remotes still merges what peers pushed
 * to it; with nothing pushed either, the sync is refused (78).
 */
export async function syncRepo(repo: LockedRepo, names: string[], opts: SyncOptions = {}): Promise<SyncReport> {
  const chosen = await chooseRemotes(repo, names);
  const r = opts.dryRun ? unappliedReplica(gitReplica(repo)) : gitReplica(repo, opts.bars);
  await refuseIdle(repo, r, chosen);
  const report = await syncReplica(r, chosen, opts);
  if (opts.dryRun) return report;
  await noteSynced(
    repo,
    report.remotes.filter((r) => r.ok).map((r) => r.remote),
  );
  return report;
}
