/**
 * Convergence: replicas make random local changes and pull from each other in random order
 * (any topology, loops included), some far busier than others, some with clocks that are off
 * (an hour, or years ahead); users copy message files into other folders. Once everyone has
 * synced with everyone, all heads hold the same snapshot, no message that nobody deleted is
 * lost or duplicated, no deletion that nothing contested comes back, and where clocks are
 * right every conflict went to the change made later in real time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MessageEntry, Snapshot } from '../../src/maildir/snapshot.js';
import { flagsOf, sortFlags } from '../../src/maildir/name.js';
import { type Commit, Dag, withMessage } from './merge.dag.js';
import { show } from './merge.helpers.js';

const FOLDERS = ['INBOX', 'Archive', 'Trash', 'Lists/rust', ''];
const LETTERS = 'FRSTab';

type OpKind = 'deliver' | 'twin' | 'samekey' | 'seen' | 'flag' | 'move' | 'copymove' | 'copy' | 'delete' | 'checkpoint' | 'setting' | 'burst';
type Action =
  | { t: 'op'; replica: number; kind: OpKind; pick: number; folder: number; letter: number }
  | { t: 'sync'; a: number; b: number; noFastForward: boolean };

const opArb: fc.Arbitrary<Action> = fc.record({
  t: fc.constant('op' as const),
  replica: fc.nat(4),
  kind: fc.constantFrom<OpKind>(
    'deliver',
    'deliver',
    'twin',
    'samekey',
    'seen',
    'flag',
    'flag',
    'move',
    'copymove',
    'copy',
    'delete',
    'delete',
    'checkpoint',
    'setting',
    'burst',
  ),
  pick: fc.nat(50),
  folder: fc.nat(FOLDERS.length - 1),
  letter: fc.nat(LETTERS.length - 1),
});
const syncArb: fc.Arbitrary<Action> = fc.record({
  t: fc.constant('sync' as const),
  a: fc.nat(4),
  b: fc.nat(4),
  noFastForward: fc.boolean(),
});
/** How far each replica's clock is off: mostly right, sometimes an hour either way, or years ahead. */
const skewArb = fc.constantFrom(0, 0, 0, 3_600_000, -3_600_000, 10 * 365 * 86_400_000);
const scenarioArb = fc.record({
  replicas: fc.integer({ min: 3, max: 5 }),
  sharedRoot: fc.boolean(),
  skews: fc.oneof(fc.constant<number[]>([0, 0, 0, 0, 0]), fc.array(skewArb, { minLength: 5, maxLength: 5 })),
  actions: fc.array(fc.oneof({ weight: 3, arbitrary: opArb }, { weight: 2, arbitrary: syncArb }), {
    minLength: 5,
    maxLength: Number(process.env.MAILGIT_MERGE_ACTIONS ?? 70),
  }),
});

/** What the oracle needs to know about the history, beyond the graph. */
interface Log {
  /** Every blob ever delivered. */
  blobs: Set<string>;
  /** Blobs of messages somebody deleted outright (not by moving them). */
  deletedBlobs: Set<string>;
  /** Blobs of messages somebody moved (to another folder, or under a new key). */
  movedBlobs: Set<string>;
  /** Per blob, every file identity (`at`) a delivery, fetch or copy made of it. */
  made: Map<string, Set<string>>;
  /** Per blob, how many copies users made of it (`cp` into another folder). */
  copies: Map<string, number>;
  /** Keys of which a copy was made. */
  copiedKeys: Set<string>;
  /** Each copy made: the identity of its source and its own. */
  copyPairs: [string, string][];
  /** Per twin blob, how many replicas fetched it. */
  fetched: Map<string, number>;
  /** Keys that several replicas gave to different messages (rule 6 keeps both, renaming one). */
  sharedKeys: Set<string>;
  /** Deletions of messages under a shared key, followed by content (a rename moves the key). */
  sharedDeletes: { blob: string; key: string; commit: Commit }[];
}

/** The identity the oracle follows: a key in a folder (copies of one key differ by folder). */
function at(e: MessageEntry): string {
  return `${e.key}@${e.folder}`;
}

function cpContent(uidValidity: string, uid: number): string {
  return `${JSON.stringify({ INBOX: { uid, uidValidity } }, null, 2)}\n`;
}

/** Notes a file a delivery, fetch or copy made. */
function made(log: Log, e: MessageEntry): void {
  log.made.set(e.blob, new Set([...(log.made.get(e.blob) ?? []), at(e)]));
}

/** Applies one local change; returns false when it does not apply (nothing to act on). */
function applyOp(dag: Dag, name: string, a: Extract<Action, { t: 'op' }>, counter: number, log: Log): void {
  const head = dag.heads.get(name)!;
  const s = head.snapshot;
  const ids = [...s.messages.keys()].sort();
  const target = ids.length > 0 ? ids[a.pick % ids.length]! : undefined;
  const e = target === undefined ? undefined : s.messages.get(target)!;
  const folder = FOLDERS[a.folder]!;
  switch (a.kind) {
    case 'deliver': {
      const id = `m${counter}`;
      log.blobs.add(`B${counter}`);
      const e = { folder, sub: 'new' as const, key: id, info: '', blob: `B${counter}` };
      made(log, e);
      dag.change(name, withMessage(s, id, e), [at(e)], []);
      return;
    }
    case 'burst': {
      // A busy replica (watch records every change): many unrelated commits in a row.
      for (let i = 0; i <= a.pick % 12; i++) {
        const files = new Map(dag.heads.get(name)!.snapshot.files);
        files.set(`.mailgit/busy-${name}.json`, { blob: `busy${counter}.${i}`, content: String(i) });
        dag.change(name, { messages: dag.heads.get(name)!.snapshot.messages, files }, [], []);
        dag.now += 1000;
      }
      return;
    }
    case 'twin': {
      // The same message fetched on several replicas: same id, same blob, each at most once.
      const id = `t${a.pick % 6}`;
      if (head.seen.has(id)) return;
      log.blobs.add(`T${id}`);
      log.fetched.set(`T${id}`, (log.fetched.get(`T${id}`) ?? 0) + 1);
      const e = { folder: FOLDERS[a.pick % 2]!, sub: 'new' as const, key: id, info: '', blob: `T${id}` };
      made(log, e);
      dag.change(name, withMessage(s, id, e), [at(e)], []);
      return;
    }
    case 'samekey': {
      // Another replica's key for a different message, in any folder (a restored backup,
      // two machines naming alike): never a key this replica has had.
      const id = `k${a.pick % 4}`;
      if (head.seen.has(id)) return;
      log.blobs.add(`S${counter}`);
      log.sharedKeys.add(id);
      const e = { folder, sub: 'new' as const, key: id, info: '', blob: `S${counter}` };
      dag.change(name, withMessage(s, id, e), [at(e)], []);
      return;
    }
    case 'seen': {
      const news = ids.filter((i) => s.messages.get(i)!.sub === 'new');
      if (news.length === 0) return;
      const id = news[a.pick % news.length]!;
      const n = s.messages.get(id)!;
      dag.change(name, withMessage(s, id, { ...n, sub: 'cur', info: `:2,${sortFlags(`${flagsOf(n.info)}S`)}` }), [at(n)], []);
      return;
    }
    case 'flag': {
      if (e === undefined) return;
      const letter = LETTERS[a.letter]!;
      const f = flagsOf(e.info);
      const flags = f.includes(letter) ? f.replace(letter, '') : sortFlags(f + letter);
      dag.change(name, withMessage(s, target!, { ...e, sub: 'cur', info: `:2,${flags}` }), [at(e)], []);
      return;
    }
    case 'move': {
      if (e === undefined || e.folder === folder || ids.some((i) => s.messages.get(i)!.key === e.key && s.messages.get(i)!.folder === folder)) return;
      log.movedBlobs.add(e.blob);
      dag.change(name, withMessage(s, target!, { ...e, folder }), [at(e), at({ ...e, folder })], []);
      return;
    }
    case 'copymove': {
      if (e === undefined) return;
      const id = `c${counter}`;
      const moved: MessageEntry = { ...e, key: id, folder, sub: 'cur', info: e.info === '' ? ':2,' : e.info };
      log.movedBlobs.add(e.blob);
      dag.change(name, withMessage(withMessage(s, target!, undefined), id, moved), [at(e), at(moved)], [at(e)]);
      return;
    }
    case 'copy': {
      // A user's cp of a message file into another folder: the same key and content twice.
      if (e === undefined || ids.some((i) => s.messages.get(i)!.key === e.key && s.messages.get(i)!.folder === folder)) return;
      log.copies.set(e.blob, (log.copies.get(e.blob) ?? 0) + 1);
      log.copiedKeys.add(e.key);
      const copy = { ...e, folder };
      log.copyPairs.push([at(e), at(copy)]);
      made(log, copy);
      dag.change(name, withMessage(s, `${e.key}\0copy`, copy), [at(copy)], []);
      return;
    }
    case 'delete': {
      if (e === undefined) return;
      log.deletedBlobs.add(e.blob);
      dag.change(name, withMessage(s, target!, undefined), [at(e)], [at(e)]);
      const shared = [...log.sharedKeys].find((k) => e.key.startsWith(k));
      if (shared !== undefined) log.sharedDeletes.push({ blob: e.blob, key: shared, commit: dag.heads.get(name)! });
      return;
    }
    case 'checkpoint': {
      const path = '.mailgit/checkpoints/acct.json';
      const old = s.files.get(path);
      const cur = old?.content === undefined ? { INBOX: { uidValidity: '1', uid: 0 } } : JSON.parse(old.content);
      const validity = a.letter === 0 ? String(Number(cur.INBOX.uidValidity) + 1) : cur.INBOX.uidValidity;
      const uid = a.letter === 0 ? a.pick : cur.INBOX.uid + 1 + (a.pick % 5);
      const files = new Map(s.files);
      const content = cpContent(validity, uid);
      files.set(path, { blob: `cp:${content}`, content });
      dag.change(name, { messages: s.messages, files }, [], []);
      return;
    }
    case 'setting': {
      const files = new Map(s.files);
      files.set('.mailgit/accounts.json', { blob: `acct${counter}`, content: String(counter) });
      dag.change(name, { messages: s.messages, files }, [], []);
      return;
    }
  }
}

/** Runs a scenario and returns the graph and the log. */
function run(scenario: { replicas: number; sharedRoot: boolean; skews: readonly number[]; actions: Action[] }): { dag: Dag; log: Log; names: string[] } {
  const dag = new Dag();
  const log: Log = {
    blobs: new Set(),
    deletedBlobs: new Set(),
    movedBlobs: new Set(),
    made: new Map(),
    copies: new Map(),
    copiedKeys: new Set(),
    copyPairs: [],
    fetched: new Map(),
    sharedKeys: new Set(),
    sharedDeletes: [],
  };
  const names = Array.from({ length: scenario.replicas }, (_, i) => `r${i}`);
  for (const [i, name] of names.entries()) dag.skew.set(name, scenario.skews[i] ?? 0);
  const initial: Snapshot = { messages: new Map(), files: new Map() };
  for (let i = 0; i < 4; i++) {
    const id = `i${i}`;
    const e = { folder: 'INBOX', sub: i % 2 === 0 ? ('cur' as const) : ('new' as const), key: id, info: i % 2 === 0 ? ':2,S' : '', blob: `I${i}` };
    initial.messages.set(id, e);
    made(log, e);
    log.blobs.add(`I${i}`);
  }
  const root = dag.commit('r0', [], initial);
  for (const name of names) {
    dag.heads.set(name, scenario.sharedRoot || name === 'r0' ? root : dag.commit(name, [], { messages: new Map(), files: new Map() }));
  }
  let counter = 0;
  for (const a of scenario.actions) {
    counter++;
    dag.now += 60_000;
    if (a.t === 'op') applyOp(dag, names[a.replica % names.length]!, a, counter, log);
    else {
      const x = names[a.a % names.length]!;
      const y = names[a.b % names.length]!;
      if (x !== y) dag.pull(x, y, a.noFastForward);
    }
  }
  // Quiesce: everyone pulls everyone, twice.
  for (let round = 0; round < 2; round++) {
    for (const x of names)
      for (const y of names) {
        dag.now += 1000;
        if (x !== y) dag.pull(x, y);
      }
  }
  return { dag, log, names };
}

/**
 * Each conflict between changes made on machines with right clocks went to the change made
 * later in real time, even after their clocks met one far ahead: for each decision of a
 * merge, the latest local commit that touched the message on each side (and not on the
 * other) decides. `find` groups the ids that moves made one message.
 */
function checkLaterWins(dag: Dag, find: (id: string) => string, copied: ReadonlySet<string>): void {
  const right = (c: Commit) => (dag.skew.get(c.replica) ?? 0) === 0;
  const local = dag.commits.filter((c) => c.touched.length > 0);
  const keyOf = (t: string) => t.slice(0, t.lastIndexOf('@'));
  for (const m of dag.commits) {
    if (m.parents.length !== 2) continue;
    const [ours, theirs] = m.parents as [Commit, Commit];
    for (const d of m.decisions) {
      if (d.kind !== 'delete-vs-change' && d.kind !== 'move-conflict') continue;
      const key = d.id.split('\0')[0]!;
      // Copies are told apart by folder, which this oracle's identities cannot follow through moves.
      if ([...copied].some((k) => key === k || key.startsWith(`${k}.mg`))) continue;
      const groups = new Set(local.flatMap((c) => c.touched.filter((t) => keyOf(t) === key).map(find)));
      // A copy + delete move gives the message another key; its later changes under that key
      // (a deletion of the new key on one side) are dated in history by the move: not followed here.
      if (local.some((c) => c.touched.some((t) => groups.has(find(t)) && keyOf(t) !== key))) continue;
      // Changes made on machines whose clocks are off are dated by their clocks: only right ones are checked.
      if (local.some((c) => !right(c) && c.touched.some((t) => groups.has(find(t))))) continue;
      const last = (side: Commit, other: Commit) =>
        Math.max(-1, ...local.filter((c) => side.anc.has(c.n) && !other.anc.has(c.n) && c.touched.some((t) => groups.has(find(t)))).map((c) => c.real));
      const [to, tt] = [last(ours, theirs), last(theirs, ours)];
      if (to < 0 || tt < 0) continue;
      expect(d.winner, `${d.text} (latest changes: here ${to}, there ${tt})`).toBe(to > tt ? 'ours' : 'theirs');
    }
  }
}

/** The blobs of the messages a local commit touched (in it or in its parent). */
function blobsTouched(c: Commit): Set<string> {
  const out = new Set<string>();
  for (const snap of [c.snapshot, ...c.parents.map((p) => p.snapshot)]) for (const e of snap.messages.values()) if (c.touched.includes(at(e))) out.add(e.blob);
  return out;
}

/** Checks the promises on a finished run. */
function check(dag: Dag, log: Log, names: string[]): void {
  const final = dag.heads.get(names[0]!)!.snapshot;
  for (const name of names) expect(show(dag.heads.get(name)!.snapshot)).toEqual(show(final));
  for (const name of names) expect(dag.heads.get(name)!.snapshot).toEqual(final);

  // Nothing lost that nobody deleted (moves may change the id, never the blob); nothing doubled.
  const count = new Map<string, number>();
  for (const e of final.messages.values()) count.set(e.blob, (count.get(e.blob) ?? 0) + 1);
  for (const blob of log.blobs) {
    // A copy makes a second file. Once a message fetched on several replicas has a copy, that
    // copy can be renamed under another key (copy + delete), and then a side holds the content
    // under two keys: two messages to the merge, which pairs neither with the other fetches.
    const copies = log.copies.get(blob) ?? 0;
    const most = 1 + copies + (copies > 0 ? (log.fetched.get(blob) ?? 1) - 1 : 0);
    if (!log.deletedBlobs.has(blob)) expect(count.get(blob) ?? 0, `files of ${blob}`).toBeGreaterThanOrEqual(1);
    expect(count.get(blob) ?? 0, `files of ${blob}`).toBeLessThanOrEqual(most);
  }

  // No resurrection: a deletion that no concurrent change to the same message contested
  // stays. A copy + delete move makes the old and the new id one message (rule 7 carries a
  // change of the old id over to the new one), so ids are grouped by moves.
  const local = dag.commits.filter((c) => c.touched.length > 0);
  const parent = new Map<string, string>();
  const find = (id: string): string => {
    const p = parent.get(id);
    if (p === undefined || p === id) return id;
    const r = find(p);
    parent.set(id, r);
    return r;
  };
  // A copy whose source is deleted outright, here or anywhere, leaves the key in the copy's folder
  // alone: to a merge whose base predates the copy that is a move of the source (a message
  // is its key wherever it moves), so the two are one message.
  // (A copy + delete under a new key is a move to that key: its source is not left to the copy.)
  const deleted = new Set(local.filter((c) => c.touched.length === 1).flatMap((c) => c.deleted));
  const moves = [
    ...local.filter((c) => c.touched.length === 2).map((c) => c.touched as [string, string]),
    ...log.copyPairs.filter(([src]) => deleted.has(src)),
  ];
  for (const [a, b] of moves) parent.set(find(b), find(a));
  const present = new Set([...final.messages.values()].map(at));
  const shared = (id: string) => [...log.sharedKeys].some((k) => id.startsWith(k));
  // No copy lost: of a message nobody deleted or moved, every file a delivery, fetch or cp
  // made (a key in a folder) is there at the end (two cps into two folders are two files).
  for (const [blob, files] of log.made) {
    if (log.deletedBlobs.has(blob) || log.movedBlobs.has(blob) || [...files].some(shared)) continue;
    for (const file of files) expect(present.has(file), `lost ${file}`).toBe(true);
  }
  for (const d of local) {
    for (const id of d.deleted) {
      // A shared key may name another message by now: those deletions are checked by blob below.
      if (shared(id)) continue;
      const group = find(id);
      // Contested by a concurrent change to the same message, or undone by a later one (a move back).
      const contested = local.some((x: Commit) => x !== d && !d.anc.has(x.n) && x.touched.some((t) => find(t) === group));
      if (!contested) expect(present.has(id), `resurrected ${id} (deleted in commit ${d.n})`).toBe(false);
    }
  }

  // Under a shared key the message is its blob: a deleted one stays deleted unless a
  // concurrent change touched that same message.
  const finalBlobs = new Set([...final.messages.values()].map((e) => e.blob));
  for (const { blob, commit: d } of log.sharedDeletes) {
    if (log.copies.has(blob)) continue; // another copy of it may stay
    const contested = local.some((x) => x !== d && !d.anc.has(x.n) && blobsTouched(x).has(blob));
    if (!contested) expect(finalBlobs.has(blob), `resurrected ${blob} (deleted in commit ${d.n})`).toBe(false);
  }

  checkLaterWins(dag, find, new Set([...log.copiedKeys, ...log.sharedKeys]));

  // Hybrid logical clocks: the writer's wall time, or one more than the parents.
  for (const c of dag.commits) {
    expect(c.clock).toBe(Math.max(c.time, 1 + Math.max(0, ...c.parents.map((p) => p.clock))));
  }
}

describe('merge convergence over a random commit graph', () => {
  it('converges with git-recursive virtual bases, loses nothing, resurrects nothing', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { dag, log, names } = run(scenario);
        check(dag, log, names);
      }),
      { numRuns: Number(process.env.MAILGIT_MERGE_RUNS ?? 300), examples: replay(), ...seed(process.env.MAILGIT_MERGE_SEED) },
    );
  });
});

/** `MAILGIT_MERGE_SEED=N` fixes fast-check's seed, so that a long run can be named and run again. */
function seed(text: string | undefined): { seed?: number } {
  return text === undefined ? {} : { seed: Number(text) };
}

/**
 * `MAILGIT_MERGE_REPLAY='[{"replicas":3,…}]'` (a counterexample as fast-check prints it)
 * runs that scenario first, so that a failure found by a long run can be replayed and fixed.
 */
function replay(): [Parameters<typeof run>[0]][] {
  const text = process.env.MAILGIT_MERGE_REPLAY;
  return text ? [JSON.parse(text) as [Parameters<typeof run>[0]]] : [];
}

describe('the random histories exercise the rules', () => {
  it('produce every kind of message decision and criss-cross merges', () => {
    const kinds = new Map<string, number>();
    let crissCross = 0;
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { dag } = run(scenario);
        for (const c of dag.commits) {
          for (const d of c.decisions) kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
          if (c.parents.length === 2 && dag.mergeBases(c.parents[0]!, [c.parents[1]!]).length > 1) crissCross++;
        }
      }),
      { numRuns: 200, seed: 42 },
    );
    for (const kind of ['move-conflict', 'delete-vs-change', 'flag-vs-move', 'file-conflict', 'duplicate-key']) {
      expect(kinds.get(kind) ?? 0, kind).toBeGreaterThan(0);
    }
    expect(crissCross).toBeGreaterThan(0);
  });
});
