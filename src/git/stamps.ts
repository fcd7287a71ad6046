/**
 * Reading stamps and the history of a few messages from git, for last-writer-wins
 * (see `src/merge/lastChange.ts` and `src/merge/clock.ts`).
 */
import { git } from './run.js';
import { clockBehind } from '../merge/clock.js';
import { changeNamesOf } from '../merge/identity.js';
import type { ClockRecord, HistoryCommit } from '../merge/index.js';
import type { Stamp } from '../maildir/snapshot.js';

/** How far back a commit without a clock looks for one (commits listed). */
export const CLOCK_WALK_LIMIT = 256;

const FORMAT = '%H%x1f%P%x1f%ct%x1f%(trailers:key=Mailgit-Clock,valueonly,separator=%x20)%x1f%(trailers:key=Mailgit-Replica,valueonly,separator=%x20)%x1e';

interface LogRecord extends ClockRecord {
  commit: string;
  parents: string[];
  /** Committer time, ms. */
  time: number;
  replica: string;
}

function parseClock(v: string): number | null {
  const t = v.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : null;
}

async function logRecords(cwd: string, args: string[], input?: string): Promise<LogRecord[]> {
  const out = (await git(['log', `--format=${FORMAT}`, ...args], { cwd, input })).stdout.toString('utf8');
  const records: LogRecord[] = [];
  for (const raw of out.split('\x1e')) {
    const rec = raw.replace(/^\n+/, '');
    if (rec === '') continue;
    const [commit, parents, time, clock, replica] = rec.split('\x1f');
    records.push({
      commit: commit!,
      parents: parents!.split(' ').filter(Boolean),
      time: Number(time) * 1000,
      clock: parseClock(clock ?? ''),
      replica: (replica ?? '').trim(),
    });
  }
  return records;
}

function stampOf(r: LogRecord, behind: ReadonlyMap<string, ClockRecord>): Stamp {
  return r.clock !== null ? { clock: r.clock, replica: r.replica, commit: r.commit } : { clock: clockBehind(r.commit, behind), replica: '', commit: r.commit };
}

/**
 * The stamp of `commit`: its trailers, or for a commit without mailgit's trailers the clock
 * of its nearest ancestors that have one (`clockBehind`, at most {@link CLOCK_WALK_LIMIT}
 * commits back) and replica "". One `git log`.
 */
export async function readStamp(cwd: string, commit: string): Promise<Stamp> {
  const records = await logRecords(cwd, ['-n', String(CLOCK_WALK_LIMIT), commit]);
  const map = new Map(records.map((r) => [r.commit, r]));
  const me = map.get(records[0]?.commit ?? '');
  if (me === undefined) return { clock: 0, replica: '', commit };
  return stampOf(me, map);
}

/** Pathspecs matching every file of the keys of `keys` (change names), glob characters escaped. */
function globPathspecs(keys: readonly string[]): string[] {
  const esc = (k: string) => k.replace(/[*?[\\]/g, (c) => `\\${c}`);
  const unique = [...new Set(keys.map((k) => k.split('\0')[0]!))];
  return unique.filter((k) => k !== '' && !/[\n\r]/.test(k)).flatMap((k) => [`:(glob)**/${esc(k)}`, `:(glob)**/${esc(k)}:*`]);
}

/** The commits {@link readHistory} lists (reachable from `head`, from none of `exclude`) and the change names it looks for. */
export interface HistoryRange {
  head: string;
  exclude: readonly string[];
  keys: readonly string[];
}

/**
 * Lists the commits reachable from `head` and from none of `exclude`, with their stamps and,
 * per parent, which of `keys` (change names: `changeNamesOf`) they changed (see
 * `HistoryCommit`). Two `git log` processes, whatever the number of keys (the revisions and
 * pathspecs go through stdin), plus one {@link readStamp} per commit without trailers whose
 * parents lie outside the range.
 */
export async function readHistory(cwd: string, { head, exclude, keys }: HistoryRange): Promise<HistoryCommit[]> {
  const revs = `${[head, ...exclude.map((e) => `^${e}`)].join('\n')}\n`;
  const records = await logRecords(cwd, ['--stdin'], revs);
  const map = new Map<string, ClockRecord>(records.map((r) => [r.commit, r]));
  for (const r of records) {
    if (r.clock !== null) continue;
    for (const p of r.parents) if (!map.has(p)) map.set(p, { parents: [], clock: (await readStamp(cwd, p)).clock });
  }
  const touched = await touchedKeys(cwd, revs, new Set(keys));
  return records.map((r) => {
    const t = touched.get(r.commit) ?? new Map<string, Set<string>>();
    // A merge's diffs are named by parent; any other commit has one diff (a subject could mimic the name).
    const all = (): Set<string> => new Set([...t.values()].flatMap((s) => [...s]));
    const perParent = r.parents.length < 2 ? [all()] : r.parents.map((p) => t.get(p) ?? new Set<string>());
    return { commit: r.commit, parents: r.parents, stamp: stampOf(r, map), time: r.time, touched: perParent.map((s) => [...s].sort()) };
  });
}

/** Commit → parent ("" for a commit's only or no parent) → keys changed against it. */
async function touchedKeys(cwd: string, revs: string, keys: ReadonlySet<string>): Promise<Map<string, Map<string, Set<string>>>> {
  const out = new Map<string, Map<string, Set<string>>>();
  if (keys.size === 0) return out;
  const input = `${revs}--\n${globPathspecs([...keys]).join('\n')}\n`;
  const args = ['log', '-z', '-m', '--raw', '--no-renames', '--no-abbrev', '--full-history', '--pretty=oneline', '--no-decorate', '--stdin'];
  const tokens = (await git(args, { cwd, input })).stdout.toString('utf8').split('\0');
  let current: Set<string> | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!.replace(/^\n+/, '');
    if (tok.startsWith(':')) {
      for (const name of changeNamesOf(tokens[++i] ?? '')) if (keys.has(name)) current?.add(name);
      continue;
    }
    const m = /^([0-9a-f]{40,64})(?: \(from ([0-9a-f]{40,64})\))?/.exec(tok);
    if (!m) continue;
    let perParent = out.get(m[1]!);
    if (!perParent) out.set(m[1]!, (perParent = new Map()));
    const from = m[2] ?? '';
    current = perParent.get(from) ?? new Set();
    perParent.set(from, current);
  }
  return out;
}
