/**
 * Names near the file-system limit and folders removed against delivery, with the real
 * CLI on three replicas and a hub: messages whose names are 235–255 bytes, flag changes
 * that a merge unites past 255 bytes, the same long key with different content on two
 * replicas (the keep-both rename lengthens it), folders removed on one replica while
 * another delivers into them or flags their mail, and syncs SIGKILLed at random moments.
 * Then every replica syncs until nothing changes, and:
 *   - every replica has the same tree, its Maildir equals HEAD, fsck is clean;
 *   - no name is longer than 255 bytes and every folder with mail has cur/ new/ tmp/;
 *   - nothing lost: a message no replica deleted (itself or with its folder) is present;
 *   - nothing doubled: no message is present twice.
 * Seeded; a failure prints the seed and the op log.
 */
import { describe, expect, test } from 'vitest';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rand, blobCounts, blobId, cli, diskVsHead, fsckStrict, git, isMessagePath, longRun, mgOk, reproduce, seeds, tempDir, treeFiles } from './lib.js';
import { blobOf, folders, messageText, messages } from './client.js';

const FILE = 'test/torture/names.test.ts';
const FOLDERS = ['INBOX', 'Lists', 'Work', 'Lists/rust'];

function bytes(s: string): number {
  return Buffer.byteLength(s);
}

/** Writes a message as an MDA does (short tmp name, then rename); returns its blob. */
function put(repo: string, folder: string, name: string, text: string): string {
  for (const s of ['cur', 'new', 'tmp']) mkdirSync(join(repo, folder, s), { recursive: true });
  const tmp = join(repo, folder, 'tmp', `t${process.pid}.${Math.random().toString(36).slice(2)}`);
  writeFileSync(tmp, text);
  renameSync(tmp, join(repo, folder, name.includes(':2,') ? 'cur' : 'new', name));
  return blobId(Buffer.from(text));
}

/** A key of `n` bytes (a Dovecot-like start padded with a replica's letter). */
function longKey(r: Rand, host: string, n: number): string {
  const start = `${1700000000 + r.int(0, 9_999_999)}.M${r.int(0, 999999)}.${host}.`;
  return start + 'x'.repeat(Math.max(1, n - start.length));
}

/**
 * Every path any commit of HEAD's history holds: each commit's paths are its first parent's
 * plus what its diff against that parent adds, so the diffs of all commits name them all.
 */
function historyPaths(repo: string): Set<string> {
  const out = git(repo, ['log', '--format=', '--name-only', '-z', '--diff-merges=first-parent', 'HEAD']);
  return new Set(out.split(/[\0\n]/).filter(Boolean));
}

interface World {
  r: Rand;
  log: string[];
  created: Set<string>;
  /** Blobs some replica deleted (alone or with their folder): they may be gone. */
  deleted: Set<string>;
  /** Long keys in use, for the same key with other content elsewhere. */
  keys: string[];
}

/** One random client operation on `repo`. */
function operate(w: World, repo: string, host: string): void {
  const { r } = w;
  const on = messages(repo);
  const op = r.pick(['long', 'long', 'flag', 'flag', 'samekey', 'rmfolder', 'deliver', 'rmmsg'] as const);
  if (op === 'long' || (op === 'samekey' && w.keys.length === 0)) {
    const flags = r.pick(['', 'S', 'FS', 'RS']);
    const info = flags === '' ? '' : `:2,${flags}`;
    const key = longKey(r, host, r.int(235, 255 - bytes(info)));
    w.keys.push(key);
    const b = put(repo, r.pick(FOLDERS), key + info, messageText(r, `long ${host}`));
    w.created.add(b);
    w.log.push(`${host}: new ${bytes(key + info)}-byte name (${b.slice(0, 7)})`);
  } else if (op === 'samekey') {
    // Another replica's key for a different message: never a key this replica has had, on
    // disk or anywhere in its history (Maildir keys are unique: recording takes a key that
    // left one name and arrived at another for a rename, and the merge reads other bytes
    // under a key the base had as that message edited in place, which a later deletion
    // elsewhere wins by rule 5 — a key reused after its message was deleted is that, not a
    // rule-6 clash of two new messages).
    const mine = new Set(on.map((m) => m.key));
    for (const p of historyPaths(repo)) if (isMessagePath(p)) mine.add(p.slice(p.lastIndexOf('/') + 1).split(':')[0]!);
    const free = w.keys.filter((k) => !mine.has(k));
    if (free.length === 0) return;
    const key = r.pick(free);
    const b = put(repo, 'INBOX', key, messageText(r, `same key ${host}`));
    w.created.add(b);
    w.log.push(`${host}: other content under a used ${bytes(key)}-byte key (${b.slice(0, 7)})`);
  } else if (op === 'flag' && on.length > 0) {
    const m = r.pick(on);
    const flags = [...new Set(m.flags + r.pick(['F', 'R', 'T', 'S', 'a', 'b']))].sort().join('');
    const name = `${m.key}:2,${flags}`;
    if (bytes(name) > 255) return;
    renameSync(join(repo, m.path), join(repo, m.folder, 'cur', name));
    w.log.push(`${host}: flags ${flags} on a ${bytes(name)}-byte name`);
  } else if (op === 'rmfolder') {
    const candidates = folders(repo).filter((x) => x !== 'INBOX');
    if (candidates.length === 0) return;
    const f = r.pick(candidates);
    for (const m of on) if (m.folder === f || m.folder.startsWith(`${f}/`)) w.deleted.add(blobOf(repo, m));
    rmSync(join(repo, f), { recursive: true });
    w.log.push(`${host}: removed folder ${f}`);
  } else if (op === 'deliver') {
    const folder = r.pick(FOLDERS);
    const b = put(repo, folder, `${1700000000 + r.int(0, 9_999_999)}.M${r.int(0, 999999)}.${host}`, messageText(r, `deliver ${host}`));
    w.created.add(b);
    w.log.push(`${host}: delivered into ${folder} (${b.slice(0, 7)})`);
  } else if (op === 'rmmsg' && on.length > 0) {
    const m = r.pick(on);
    const b = blobOf(repo, m);
    w.deleted.add(b);
    rmSync(join(repo, m.path));
    w.log.push(`${host}: deleted a message in ${m.folder} (${b.slice(0, 7)})`);
  }
}

/** Folders holding HEAD's mail that lack cur/, new/ or tmp/ on disk, and names over 255 bytes. */
function shapeProblems(repo: string): string[] {
  const out: string[] = [];
  for (const p of treeFiles(repo).keys()) {
    const m = /^(.*)\/(cur|new)\/([^/]+)$/.exec(p);
    if (!m) continue;
    if (bytes(m[3]!) > 255) out.push(`name of ${bytes(m[3]!)} bytes: ${p}`);
    for (const s of ['cur', 'new', 'tmp']) {
      const d = join(repo, m[1]!, s);
      if (!existsSync(d) || !statSync(d).isDirectory()) out.push(`folder ${m[1]} has no ${s}/`);
    }
  }
  return [...new Set(out)];
}

async function runCase(seed: number): Promise<void> {
  const r = new Rand(seed);
  const root = tempDir('mailgit-names-');
  const w: World = { r, log: [`seed ${seed} in ${root}`], created: new Set(), deleted: new Set(), keys: [] };
  const fail = (msg: string) => new Error(`${reproduce(FILE, seed)}\n${msg}\n--- op log ---\n${w.log.join('\n')}`);
  const hub = join(root, 'hub.git');
  git(root, ['init', '-q', '--bare', '-b', 'main', hub]);
  const reps = ['a', 'b', 'c'].map((n) => ({ name: n, dir: join(root, n) }));
  await mgOk(['init', reps[0]!.dir, '--name', 'a']);
  for (let i = 0; i < 6; i++) operate(w, reps[0]!.dir, 'a');
  git(reps[0]!.dir, ['remote', 'add', 'origin', hub]);
  await mgOk(['-C', reps[0]!.dir, 'sync']);
  for (const rep of reps.slice(1)) await mgOk(['clone', hub, rep.dir, '--name', rep.name]);

  const rounds = longRun() ? 10 : 5;
  for (let round = 0; round < rounds; round++) {
    for (const rep of reps) for (let i = r.int(1, 3); i > 0; i--) operate(w, rep.dir, rep.name);
    for (const rep of r.shuffle([...reps])) {
      if (r.chance(0.3)) continue;
      const kill = r.chance(0.25) ? r.int(50, 900) : undefined;
      const s = await cli(['-C', rep.dir, 'sync'], { cwd: rep.dir, killAfterMs: kill });
      w.log.push(`${rep.name}: sync ${s.killed ? `killed after ${kill} ms` : `exit ${s.code}`}`);
      if (!s.killed && s.code !== 0) throw fail(`${rep.name}: sync exited ${s.code}: ${s.stderr}`);
      if (s.killed) {
        const c = await cli(['-C', rep.dir, 'commit'], { cwd: rep.dir });
        if (c.code !== 0) throw fail(`${rep.name}: commit after a killed sync exited ${c.code}: ${c.stderr}`);
        const d = diskVsHead(rep.dir);
        if (d) throw fail(`${rep.name}: after a killed sync and a commit the Maildir differs from HEAD:\n${d}`);
      }
    }
  }

  let stable = false;
  for (let round = 0; round < 8 && !stable; round++) {
    for (const rep of reps) {
      const s = await cli(['-C', rep.dir, 'sync'], { cwd: rep.dir });
      if (s.code !== 0) throw fail(`${rep.name}: quiescence sync exited ${s.code}: ${s.stderr}`);
    }
    stable = new Set(reps.map((x) => git(x.dir, ['rev-parse', 'HEAD^{tree}']).trim())).size === 1;
  }
  if (!stable) throw fail('no quiescence after 8 rounds');

  const problems: string[] = [];
  for (const rep of reps) {
    const d = diskVsHead(rep.dir);
    if (d) problems.push(`${rep.name}: the Maildir differs from HEAD:\n${d}`);
    problems.push(...shapeProblems(rep.dir).map((p) => `${rep.name}: ${p}`));
    try {
      fsckStrict(rep.dir);
    } catch (e) {
      problems.push((e as Error).message);
    }
    const tmpLeft = folders(rep.dir).flatMap((f) => readdirSync(join(rep.dir, f, 'tmp')).filter((n) => n.startsWith('.mailgit-')));
    if (tmpLeft.length > 0 && !w.log.some((l) => l.startsWith(`${rep.name}: sync killed`))) problems.push(`${rep.name}: apply left ${tmpLeft.join(', ')}`);
  }
  const counts = blobCounts(treeFiles(reps[0]!.dir));
  for (const b of w.created) {
    const c = counts.get(b) ?? 0;
    if (c === 0 && !w.deleted.has(b)) problems.push(`LOST ${b}`);
    if (c > 1) problems.push(`DOUBLED ${b} (${c} copies)`);
  }
  if (problems.length > 0) throw fail(problems.join('\n'));
  expect(problems).toEqual([]);
}

describe('names near the limit and folder removal against delivery, with SIGKILLed syncs', () => {
  test.each(seeds([3], 11))('seed %i', async (seed) => runCase(seed), 1_800_000);
});
