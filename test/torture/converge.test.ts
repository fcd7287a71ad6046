/**
 * Convergence fuzz with real repos and the real CLI: 3–5 replicas in a random topology
 * (hub, chain, ring, USB sticks = bare repos on a path shared by two machines, or a mix;
 * some replicas share a name, each peer has its own receive.denyCurrentBranch),
 * random client operations (deliver, new→cur, flag renames, moves keeping the name,
 * copy + delete under a new name, expunges, folder creation and removal), edits in place
 * (other bytes under the same name, into the file or renamed over it; drawn from a stream
 * of their own, so that a seed's other operations stay what they were), random commits,
 * statuses and syncs; replicas with skewed clocks (minutes to days either way) and busy
 * ones that commit after every change (so commit counts differ widely); then every
 * replica syncs until nothing changes. Then:
 *   - every replica has the same tree, its Maildir on disk equals HEAD, fsck is clean;
 *   - zero lost: a message no replica deleted is present exactly once;
 *   - zero resurrected: a message deleted by a replica that had seen every change made to
 *     it is absent (a deletion concurrent with a flag change or move is a conflict that
 *     last-writer-wins may decide either way: then at most one copy);
 *   - no message appears that no client made.
 * An edit is a new version of a message: the old bytes count as deleted by the editor,
 * the new ones as created, and a deletion of the old version never takes the new one (the
 * merge keeps an edit against a concurrent deletion, and a sync records an edit not
 * recorded yet before it writes over or removes the file: an edit made in place and then
 * lost to another replica's expunge is LOST here; a later deletion of the old version
 * deletes a copy of it the merge kept). Before the syncs to quiescence every replica
 * runs `status` once, as a person would: an edit written into a file of a folder that
 * changes no more is found there (and left to the next record), by design.
 * "Seen" is tracked with vector clocks that follow the syncs (a sync records first,
 * receives pushes left in its incoming refs, then fetches, merges and pushes).
 * Seeded; a failure prints the seed, the topology and the whole op log.
 */
import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { Rand, blobCounts, cli, diskVsHead, fsckStrict, git, longRun, mgOk, randomSkew, reproduce, seeds, skewEnv, tempDir, treeFiles } from './lib.js';
import { drop, editOp, messageText, newKey, randomFlags, randomOp } from './client.js';
import type { OpResult } from './client.js';

const FILE = 'test/torture/converge.test.ts';

type VC = Map<string, number>;
const copy = (v: VC): VC => new Map(v);
function join2(a: VC, b: VC): VC {
  const out = copy(a);
  for (const [k, n] of b) out.set(k, Math.max(out.get(k) ?? 0, n));
  return out;
}

interface Remote {
  name: string;
  /** A bare repo (hub, USB stick) or another replica. */
  kind: 'bare' | 'peer';
  target: string;
}

interface Replica {
  name: string;
  dir: string;
  remotes: Remote[];
  disk: VC;
  main: VC;
  incoming: Map<string, VC>;
  /** Runs this replica's mailgit with its clock skewed. */
  env: Record<string, string>;
  /** Commits after (almost) every change: many more commits than the others. */
  busy: boolean;
}

interface Event {
  replica: string;
  n: number;
}

const before = (e: Event, state: VC) => (state.get(e.replica) ?? 0) >= e.n;

async function runCase(seed: number): Promise<void> {
  const r = new Rand(seed);
  const n = r.int(3, longRun() ? 5 : 4);
  const topology = r.pick(['hub', 'chain', 'ring', 'usb', 'mixed'] as const);
  const root = tempDir();
  const log: string[] = [`seed ${seed}: ${n} replicas, topology ${topology}`];
  const fail = (msg: string) => new Error(`${reproduce(FILE, seed)}\n${msg}\n--- op log ---\n${log.join('\n')}`);

  const reps: Replica[] = [];
  for (let i = 0; i < n; i++) {
    const skew = randomSkew(r);
    const busy = r.chance(0.3);
    reps.push({ name: `r${i}`, dir: join(root, `r${i}`), remotes: [], disk: new Map(), main: new Map(), incoming: new Map(), env: skewEnv(skew), busy });
    log.push(`r${i}: clock ${skew === 0 ? 'true' : `${skew > 0 ? '+' : ''}${skew / 60_000} min`}${busy ? ', busy (commits after every change)' : ''}`);
  }
  const bare = new Map<string, VC>();

  // The base: r0 with some mail; the others are clones of it.
  await mgOk(['init', reps[0]!.dir, '--name', 'r0'], { env: reps[0]!.env });
  const created = new Set<string>();
  for (let i = 0; i < 12; i++)
    created.add(drop(reps[0]!.dir, r.chance(0.7) ? 'INBOX' : 'Lists/x', newKey(r, 'r0'), messageText(r, 'base'), r.chance(0.5) ? randomFlags(r) : undefined));
  await mgOk(['-C', reps[0]!.dir, 'commit'], { env: reps[0]!.env });
  for (const rep of reps.slice(1)) {
    // Replicas may share a name (names are for people; ids keep them apart), and a peer's
    // own receive.denyCurrentBranch must not decide where a push lands.
    const cliName = r.chance(0.3) ? 'laptop' : rep.name;
    const deny = r.pick(['refuse', 'ignore', 'warn', 'updateInstead'] as const);
    await mgOk(['clone', reps[0]!.dir, rep.dir, '--name', cliName], { env: rep.env });
    git(rep.dir, ['remote', 'remove', 'origin']);
    git(rep.dir, ['config', 'receive.denyCurrentBranch', deny]);
    log.push(`${rep.name}: cloned as --name ${cliName}, receive.denyCurrentBranch=${deny}`);
  }

  // Wiring.
  const peer = (i: number, j: number) => {
    if (i === j || reps[i]!.remotes.some((x) => x.target === reps[j]!.dir)) return;
    reps[i]!.remotes.push({ name: reps[j]!.name, kind: 'peer', target: reps[j]!.dir });
    reps[j]!.remotes.push({ name: reps[i]!.name, kind: 'peer', target: reps[i]!.dir });
  };
  const stick = (name: string, members: number[]) => {
    const dir = join(root, name);
    git(root, ['init', '-q', '--bare', '-b', 'main', dir]);
    bare.set(dir, new Map());
    for (const i of members) reps[i]!.remotes.push({ name, kind: 'bare', target: dir });
  };
  if (topology === 'hub')
    stick(
      'hub',
      reps.map((_, i) => i),
    );
  if (topology === 'chain' || topology === 'ring') for (let i = 0; i + 1 < n; i++) peer(i, i + 1);
  if (topology === 'ring') peer(n - 1, 0);
  if (topology === 'usb') for (let i = 0; i + 1 < n; i++) stick(`usb${i}`, [i, i + 1]);
  if (topology === 'mixed') {
    for (let i = 1; i < n; i++) {
      const j = r.int(0, i - 1);
      if (r.chance(0.5)) peer(i, j);
      else stick(`usb${i}`, [i, j]);
    }
    if (r.chance(0.5)) peer(r.int(0, n - 1), r.int(0, n - 1));
  }
  for (const rep of reps) for (const x of rep.remotes) git(rep.dir, ['remote', 'add', x.name, x.target]);
  log.push(...reps.map((x) => `${x.name} remotes: ${x.remotes.map((y) => `${y.name}(${y.kind})`).join(', ')}`));

  const mods = new Map<string, Event[]>();
  const dels = new Map<string, { ev: Event; seen: VC }[]>();
  /** A version an edit made → the version it replaced, and the edit. */
  const versions = new Map<string, { from: string; ev: Event }>();
  const edits = new Rand(seed * 7 + 3);
  const byDir = new Map(reps.map((x) => [x.dir, x]));

  const sync = async (rep: Replica, remote: Remote) => {
    log.push(`${rep.name}: sync ${remote.name}`);
    const res = await cli(['-C', rep.dir, 'sync', remote.name], { env: rep.env });
    if (res.code !== 0) throw fail(`${rep.name}: sync ${remote.name} exited ${res.code}: ${res.stderr}`);
    rep.main = copy(rep.disk);
    for (const [, v] of rep.incoming) rep.main = join2(rep.main, v);
    rep.incoming.clear();
    const theirs = remote.kind === 'bare' ? bare.get(remote.target)! : byDir.get(remote.target)!.main;
    rep.main = join2(rep.main, theirs);
    rep.disk = copy(rep.main);
    if (remote.kind === 'bare') bare.set(remote.target, copy(rep.main));
    else byDir.get(remote.target)!.incoming.set(rep.name, copy(rep.main));
  };

  const steps = longRun() ? r.int(15, 35) : 10;
  for (let s = 0; s < steps; s++) {
    const rep = r.pick(reps);
    const note = (op: OpResult): Event => {
      rep.disk.set(rep.name, (rep.disk.get(rep.name) ?? 0) + 1);
      const ev = { replica: rep.name, n: rep.disk.get(rep.name)! };
      log.push(`${rep.name}#${ev.n}: ${op.text}`);
      for (const b of op.created ?? []) created.add(b);
      for (const b of [...(op.modified ?? []), ...(op.moved ?? [])]) mods.set(b, [...(mods.get(b) ?? []), ev]);
      for (const b of op.deleted ?? []) dels.set(b, [...(dels.get(b) ?? []), { ev, seen: copy(rep.disk) }]);
      for (const e of op.edited ?? []) {
        dels.set(e.from, [...(dels.get(e.from) ?? []), { ev, seen: copy(rep.disk) }]);
        versions.set(e.to, { from: e.from, ev });
      }
      return ev;
    };
    for (let k = r.int(1, 3); k > 0; k--) {
      const op = randomOp(rep.dir, r, rep.name);
      if (!op) continue;
      note(op);
      const edit = edits.chance(0.2) ? editOp(rep.dir, edits, rep.name) : null;
      if (edit) note(edit);
      if (rep.busy && r.chance(0.8)) {
        await mgOk(['-C', rep.dir, 'commit'], { env: rep.env });
        rep.main = copy(rep.disk);
      }
    }
    if (edits.chance(0.1)) {
      log.push(`${rep.name}: status`);
      await mgOk(['-C', rep.dir, 'status'], { env: rep.env });
    }
    if (r.chance(0.15)) {
      log.push(`${rep.name}: commit`);
      await mgOk(['-C', rep.dir, 'commit'], { env: rep.env });
      rep.main = copy(rep.disk);
    } else if (r.chance(0.6) && rep.remotes.length > 0) await sync(rep, r.pick(rep.remotes));
  }

  // Quiescence: everyone syncs with all remotes until all trees agree and a round changes nothing.
  log.push('--- status on each replica, then sync to quiescence ---');
  for (const rep of reps) await mgOk(['-C', rep.dir, 'status'], { env: rep.env });
  let stable = false;
  for (let round = 0; round < 2 * n + 4 && !stable; round++) {
    const headsBefore = reps.map((x) => git(x.dir, ['rev-parse', 'HEAD']).trim()).join();
    for (const rep of reps) {
      const res = await cli(['-C', rep.dir, 'sync'], { env: rep.env });
      if (res.code !== 0) throw fail(`${rep.name}: sync (round ${round}) exited ${res.code}: ${res.stderr}`);
    }
    const heads = reps.map((x) => git(x.dir, ['rev-parse', 'HEAD']).trim()).join();
    const trees = new Set(reps.map((x) => git(x.dir, ['rev-parse', 'HEAD^{tree}']).trim()));
    const pending = reps.some((x) => git(x.dir, ['for-each-ref', 'refs/mailgit/incoming/']).trim() !== '');
    stable = trees.size === 1 && heads === headsBefore && !pending;
    log.push(`round ${round}: ${trees.size} distinct trees${pending ? ', incoming refs pending' : ''}`);
  }
  if (!stable) {
    const trees = reps.map((x) => `${x.name} ${git(x.dir, ['rev-parse', 'HEAD^{tree}']).trim()}`);
    throw fail(`no quiescence after ${2 * n + 4} rounds: ${trees.join(', ')}`);
  }

  for (const rep of reps) {
    const d = diskVsHead(rep.dir);
    if (d) throw fail(`${rep.name}: the Maildir differs from HEAD:\n${d}`);
    try {
      fsckStrict(rep.dir);
    } catch (e) {
      throw fail((e as Error).message);
    }
  }
  const files = treeFiles(reps[0]!.dir);
  const counts = blobCounts(files);
  const where = (b: string) =>
    [...files]
      .filter(([, o]) => o === b)
      .map(([p]) => p)
      .join(', ');
  const problems: string[] = [];
  for (const b of counts.keys()) if (!created.has(b)) problems.push(`unknown message ${b} at ${where(b)}`);
  for (const b of created) {
    const c = counts.get(b) ?? 0;
    const ds = [...(dels.get(b) ?? [])];
    const ms = [...(mods.get(b) ?? [])];
    // The versions this one replaced: their changes count for it too, their deletions do
    // not. One concurrent with the edit takes the old version only (the merge keeps an
    // edit against a deletion); one made after seeing the edit deletes a copy of the old
    // version that a merge kept (an edit concurrent with a move), not this one.
    for (let v = versions.get(b); v; v = versions.get(v.from)) ms.push(v.ev, ...(mods.get(v.from) ?? []));
    if (ds.length === 0) {
      if (c === 0) problems.push(`LOST ${b} (never deleted; changes: ${ms.map((e) => `${e.replica}#${e.n}`).join(' ') || 'none'})`);
      else if (c > 1) problems.push(`DOUBLED ${b}: ${where(b)}`);
    } else {
      const decisive = ds.find((d) => ms.every((m) => before(m, d.seen)));
      if (decisive && c > 0)
        problems.push(`RESURRECTED ${b} at ${where(b)}: deleted by ${decisive.ev.replica}#${decisive.ev.n} after seeing every change to it`);
      else if (c > 1) problems.push(`DOUBLED ${b} (deleted somewhere, concurrently changed): ${where(b)}`);
    }
  }
  if (problems.length > 0) throw fail(problems.join('\n'));
  expect(problems).toEqual([]);
}

describe('convergence fuzz: random topologies, client operations and sync orders', () => {
  test.each(seeds([1], 5))('seed %i', async (seed) => runCase(seed), 1_800_000);
});
