/**
 * Reading a moment of history as a person gives it: a date or date and time
 * (`2026-12-01`, `2026-12-01 14:30`), a relative time (`2 days ago`, `yesterday`) or a
 * commit. A moment resolves to the commit this replica's branch was at then: the newest
 * commit on the first-parent chain of HEAD made at or before that time.
 */
import { git } from '../git/run.js';
import { resolveCommit } from '../git/commit.js';
import { UsageError } from '../util/errors.js';
import type { Repo } from './repo.js';

/** A moment of history. */
export interface Moment {
  /** The commit the branch was at. */
  commit: string;
  /** The time asked for, in seconds since the epoch (null when a commit was named). */
  time: number | null;
}

const UNITS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86_400, week: 604_800, month: 2_629_746, year: 31_556_952 };

/**
 * Parses a date, a date and time or a relative time into seconds since the epoch, or
 * returns null when `spec` is none of these. `now` is in milliseconds.
 */
export function parseTime(spec: string, now: number): number | null {
  const s = spec.trim().toLowerCase();
  if (s === 'now') return Math.floor(now / 1000);
  if (s === 'today') return Math.floor(new Date(new Date(now).toDateString()).getTime() / 1000);
  if (s === 'yesterday') return Math.floor(now / 1000) - UNITS.day!;
  const rel = /^(\d+)\s*(second|minute|hour|day|week|month|year)s?\s+ago$/.exec(s);
  if (rel) return Math.floor(now / 1000) - Number(rel[1]) * UNITS[rel[2]!]!;
  if (!/^\d{4}-\d{2}-\d{2}([ t]\d{2}:\d{2}(:\d{2})?(\.\d+)?)?(z|[+-]\d{2}:?\d{2})?$/.test(s)) return null;
  // A date alone is local midnight, like a date with a time (JavaScript reads it as UTC).
  const text = spec.trim().replace(' ', 'T');
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00` : text);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}

/** The commit a revision (`abc1234`, `HEAD~2`) names, or null; never an option-like word. */
export async function commitOf(repo: Repo, spec: string): Promise<string | null> {
  return /^[\w./@{}~^-]+$/.test(spec) && !spec.startsWith('-') ? resolveCommit(repo.root, spec) : null;
}

/** The commit `spec` names; a {@link UsageError} when it is neither a time nor a commit. */
async function commitNamed(repo: Repo, spec: string): Promise<string> {
  const commit = await commitOf(repo, spec);
  if (!commit) throw new UsageError(`cannot read time ${JSON.stringify(spec)}: give a date (2026-12-01 14:30), a relative time ("2 days ago") or a commit`);
  return commit;
}

/** Whether `commit` is `of` or one of its ancestors. */
export async function isAncestor(repo: Repo, commit: string, of: string): Promise<boolean> {
  return (await git(['merge-base', '--is-ancestor', commit, of], { cwd: repo.root, okCodes: [1] })).code === 0;
}

/**
 * Resolves `spec` (see the module comment) against HEAD. Throws a {@link UsageError}
 * (exit 64) for a time it cannot read, a commit outside this replica's history, or a
 * time before the repo's first commit.
 */
export async function resolveMoment(repo: Repo, head: string, spec: string): Promise<Moment> {
  const time = parseTime(spec, Date.now());
  if (time === null) {
    const commit = await commitNamed(repo, spec);
    if (!(await isAncestor(repo, commit, head))) throw new UsageError(`commit ${spec} is not in this replica's history`);
    return { commit, time: null };
  }
  const out = await git(['rev-list', '-1', '--first-parent', `--before=@${time}`, head], { cwd: repo.root });
  const commit = out.stdout.toString('utf8').trim();
  if (commit === '') {
    const first = await git(['log', '--first-parent', '--max-parents=0', '--format=%ct', head], { cwd: repo.root });
    const t = Number(first.stdout.toString('utf8').trim().split('\n')[0]);
    throw new UsageError(`${JSON.stringify(spec)} is before this repo's first commit (${new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 16)})`);
  }
  return { commit, time };
}

/**
 * Reads `spec` as a bound for filtering history (`log --deleted --since`): a time (date
 * or relative), or a commit, which bounds exactly by ancestry rather than by clock.
 * Throws a {@link UsageError} for anything else.
 */
export async function readBound(repo: Repo, spec: string): Promise<{ time: number } | { commit: string }> {
  const time = parseTime(spec, Date.now());
  return time !== null ? { time } : { commit: await commitNamed(repo, spec) };
}
