/**
 * Plain git in a repo made by mailgit, for real: `git status` agrees with mailgit after
 * every mailgit command; what would destroy mail (commit -a, pull, merge, rebase, reset
 * --hard to an old commit, deleting main) is refused by mailgit's hooks with a line
 * naming the mailgit command; what git can still do (stash, checkout -f, checkout of an
 * old commit, a stopped merge or stash pop, another branch, a deleted main) never
 * doubles or loses mail, and mailgit names the way back in one line.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { addFlags, addRemote, arrive, bareHub, cloneReplica, deliver, expectDiskIsHead, messagesAt, mg, remove } from '../helpers/replica.js';
import { startWatchChild } from './clients-helpers.js';
import type { WatchChild } from './clients-helpers.js';

/** Runs plain git as a person would (their identity given; hooks as installed). */
function plain(repo: string, args: string[]): { code: number; out: string } {
  const r = spawnSync('git', ['-c', 'user.name=Person', '-c', 'user.email=p@example.org', ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, GIT_EDITOR: 'true' },
  });
  return { code: r.status ?? 128, out: r.stdout + r.stderr };
}

/** `git status --porcelain` (untracked files included): empty when git agrees with HEAD. */
function gitStatus(repo: string): string {
  return gitOut(repo, ['status', '--porcelain', '--untracked-files=all']);
}

/** Message `k` is at exactly `paths` in the repo, the Maildir equals HEAD and `git status` is clean. */
function expectOnlyAt(a: string, k: string, paths: string[]): void {
  expect(
    messagesAt(a)
      .get(k)!
      .map((m) => m.path),
  ).toEqual(paths);
  expectDiskIsHead(a);
  expect(gitStatus(a)).toBe('');
}

/** Keys with more than one name in one folder in HEAD. */
function doubled(repo: string): string[] {
  const out: string[] = [];
  for (const [key, ms] of messagesAt(repo)) {
    const folders = ms.map((m) => m.folder);
    if (new Set(folders).size !== folders.length) out.push(key);
  }
  return out;
}

function adopted(): string {
  const repo = join(tempDir(), 'Mail');
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(repo, 'INBOX', sub), { recursive: true });
  for (let i = 0; i < 6; i++)
    writeFileSync(join(repo, 'INBOX', i % 2 ? 'cur' : 'new', `17000000${i}.M${i}P1.host${i % 2 ? ':2,S' : ''}`), `Subject: ${i}\r\n\r\nbody ${i}\r\n`);
  expect(mailgit(['init', repo, '--name', 'desk']).code).toBe(0);
  return repo;
}

const watches: WatchChild[] = [];
afterEach(async () => {
  for (const w of watches.splice(0)) await w.stop();
});

describe('git status is clean after every mailgit command', () => {
  it('init (adopt), commit, deliver, clone, sync with apply, watch', async () => {
    const a = adopted();
    expect(gitStatus(a)).toBe('');
    addFlags(a, '170000001.M1P1.host', 'R');
    mg(a, ['commit']);
    expect(gitStatus(a)).toBe('');
    deliver(a, 'delivered');
    expect(gitStatus(a)).toBe('');
    const hub = bareHub(join(tempDir(), 'hub.git'));
    addRemote(a, 'hub', hub);
    mg(a, ['sync']);
    const b = cloneReplica(hub, join(tempDir(), 'B'), 'laptop');
    expect(gitStatus(b)).toBe('');
    const k = arrive(b, 'from b');
    remove(b, '170000000.M0P1.host');
    mg(b, ['sync']);
    expect(gitStatus(b)).toBe('');
    mg(a, ['sync']); // fast-forward applied to a's Maildir
    expect(messagesAt(a).has(k)).toBe(true);
    expect(gitStatus(a)).toBe('');
    // A merge applied: both sides changed.
    arrive(a, 'from a');
    addFlags(b, k, 'F');
    mg(b, ['sync']);
    mg(a, ['sync']);
    expect(gitOut(a, ['rev-list', '--count', '--merges', 'HEAD']).trim()).not.toBe('0');
    expect(gitStatus(a)).toBe('');
    const w = await startWatchChild(a);
    watches.push(w);
    const from = w.events.length;
    arrive(a, 'seen by watch');
    await w.waitFor((x) => x.event === 'commit', 30_000, from);
    expect(gitStatus(a)).toBe('');
    expectDiskIsHead(a);
  });

  it('a repo whose index mailgit never wrote (made before this) is clean after its next command', () => {
    const a = adopted();
    gitOut(a, ['read-tree', '--empty']);
    const state = join(a, '.git', 'mailgit', 'index.json');
    spawnSync('rm', ['-f', state, join(a, '.git', 'hooks', 'pre-commit')]);
    expect(gitStatus(a)).not.toBe('');
    mg(a, ['commit']);
    expect(gitStatus(a)).toBe('');
    expect(existsSync(join(a, '.git', 'hooks', 'pre-commit'))).toBe(true);
  });

  it('an index write killed half way (its lock left in .git/mailgit) or a damaged index is rebuilt by the next command', () => {
    const a = adopted();
    writeFileSync(join(a, '.git', 'mailgit', 'index.next.lock'), '');
    arrive(a, 'one');
    mg(a, ['commit']);
    expect(gitStatus(a)).toBe('');
    expect(existsSync(join(a, '.git', 'index.lock'))).toBe(false);
    writeFileSync(join(a, '.git', 'index'), 'not an index');
    arrive(a, 'two');
    mg(a, ['commit']);
    mg(a, ['commit']);
    expect(gitStatus(a)).toBe('');
  });
});

describe('what would destroy mail is refused, naming the mailgit command', () => {
  it('git commit -a, git commit --no-verify, git merge, git pull, git rebase, git reset --hard to an old commit, deleting main', () => {
    const a = adopted();
    const hub = bareHub(join(tempDir(), 'hub.git'));
    addRemote(a, 'origin', hub);
    mg(a, ['sync']);
    gitOut(a, ['branch', '-q', '--set-upstream-to=origin/main', 'main']);
    const b = cloneReplica(hub, join(tempDir(), 'B'), 'laptop');
    const c = cloneReplica(hub, join(tempDir(), 'C'), 'phone');
    arrive(b, 'b1');
    mg(b, ['sync']);
    arrive(a, 'a1');
    mg(a, ['commit']);
    const head = gitOut(a, ['rev-parse', 'HEAD']).trim();
    const key = '170000003.M3P1.host';
    // Rebases before the client change: git itself refuses to rebase over one.
    for (const args of [
      ['pull', '-q', '--rebase'],
      ['fetch', '-q', 'origin'],
      ['rebase', '-q', 'origin/main'],
    ]) {
      if (args[0] === 'fetch') {
        expect(plain(a, args).code).toBe(0); // fetching alone harms nothing
        continue;
      }
      const r = plain(a, args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.out, args.join(' ')).toMatch(/mailgit sync/);
    }
    addFlags(a, key, 'R'); // an unrecorded client change
    const cases: [string[], RegExp][] = [
      [['commit', '-q', '-a', '-m', 'x'], /mailgit commit/],
      [['commit', '-q', '-a', '-n', '-m', 'x'], /mailgit commit/],
      [['pull', '-q', '--no-rebase'], /mailgit sync/],
      [['reset', '-q', '--hard', 'HEAD~1'], /mailgit commit/],
      [['update-ref', '-d', 'refs/heads/main'], /mailgit/],
    ];
    for (const [args, says] of cases) {
      const r = plain(a, args);
      expect(r.code, `git ${args.join(' ')}: ${r.out}`).not.toBe(0);
      expect(r.out, args.join(' ')).toMatch(says);
      expect(gitOut(a, ['rev-parse', 'HEAD']).trim(), args.join(' ')).toBe(head);
      // A refused merge commit leaves the merge half done, as git says: undo it as told.
      if (existsSync(join(a, '.git', 'MERGE_HEAD'))) expect(plain(a, ['merge', '--abort']).code).toBe(0);
    }
    // A fast-forward merge changes files before git moves the branch: the hook refuses the
    // move and says that the next mailgit command puts them back (`git reset --merge` does
    // too, but drops a message a person `git add`ed). A merge commit is refused before it
    // is made, naming `git merge --abort`.
    const cHead = gitOut(c, ['rev-parse', 'HEAD']).trim();
    expect(plain(c, ['fetch', '-q', 'origin']).code).toBe(0);
    const ff = plain(c, ['merge', '-q', 'origin/main']);
    expect(ff.code).not.toBe(0);
    expect(ff.out).toMatch(/put back by the next mailgit command/);
    expect(plain(c, ['reset', '-q', '--merge']).code).toBe(0);
    const noff = plain(c, ['merge', '-q', '--no-ff', 'origin/main']);
    expect(noff.code).not.toBe(0);
    expect(noff.out).toMatch(/git merge --abort.*mailgit sync/);
    expect(plain(c, ['merge', '--abort']).code).toBe(0);
    expect(gitOut(c, ['rev-parse', 'HEAD']).trim()).toBe(cHead);
    expectDiskIsHead(c);
    expect(gitStatus(c)).toBe('');
    // The client's change survived every refusal and is recorded once, by mailgit.
    mg(a, ['commit']);
    expect(
      messagesAt(a)
        .get(key)!
        .map((x) => x.flags),
    ).toEqual(['RS']);
    expect(doubled(a)).toEqual([]);
    expectDiskIsHead(a);
    expect(gitStatus(a)).toBe('');
    // And mailgit itself is never blocked by its hooks.
    mg(a, ['sync']);
    expect(gitStatus(a)).toBe('');
    expectDiskIsHead(a);
  });
});

describe('what git can still do never doubles or loses mail', () => {
  it('git stash (and pop), git checkout -f, git reset --hard: one name per key, the client change kept', () => {
    const a = adopted();
    const key = '170000001.M1P1.host';
    const undos: [string[], string][] = [
      [['stash', '-q'], 'F'],
      [['checkout', '-q', '-f'], 'R'],
      [['reset', '-q', '--hard'], 'T'],
    ];
    for (const [undo, flag] of undos) {
      addFlags(a, key, flag); // renamed by the client, not yet recorded
      const before = readdirSync(join(a, 'INBOX', 'cur')).length;
      expect(plain(a, undo).code, undo.join(' ')).toBe(0);
      expect(readdirSync(join(a, 'INBOX', 'cur')).length, `${undo.join(' ')} brings the old name back`).toBe(before + 1);
      mg(a, ['commit']);
      expect(messagesAt(a).get(key)!.length, undo.join(' ')).toBe(1);
      expect(doubled(a)).toEqual([]);
      expectDiskIsHead(a);
      expect(gitStatus(a)).toBe('');
    }
    expect(messagesAt(a).get(key)![0]!.flags).toBe('FRST');
    // The stash still holds the first rename, which git cannot put back over the later
    // ones: the pop stops on a conflict, mailgit names the way back, and nothing is lost.
    expect(plain(a, ['stash', 'pop', '-q']).code).not.toBe(0);
    const r = mailgit(['-C', a, 'commit']);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/unmerged paths.*run `git reset --merge`/);
    expect(plain(a, ['reset', '-q', '--merge']).code).toBe(0);
    mg(a, ['commit']);
    expect(messagesAt(a).get(key)!.length).toBe(1);
    expect(messagesAt(a).size).toBe(6);
    expectDiskIsHead(a);
    expect(gitStatus(a)).toBe('');
  });

  it("a refused git reset --hard HEAD~1 rewrote the Maildir: the next record puts HEAD's mail back and keeps what was done since", () => {
    const a = adopted();
    const [k0, k1, k5] = ['170000000.M0P1.host', '170000001.M1P1.host', '170000005.M5P1.host'];
    const since = arrive(a, 'arrived since HEAD~1');
    addFlags(a, k1, 'F');
    addFlags(a, k5, 'T');
    remove(a, k0);
    mg(a, ['commit']);
    const head = gitOut(a, ['rev-parse', 'HEAD']).trim();
    addFlags(a, k1, 'R'); // not recorded: git writes HEAD~1's name of k1 back beside it (seed 372404)
    const unrecorded = arrive(a, 'not recorded yet');
    const r = plain(a, ['reset', '-q', '--hard', 'HEAD~1']);
    expect(r.code).not.toBe(0);
    expect(gitOut(a, ['rev-parse', 'HEAD']).trim()).toBe(head);
    // git wrote HEAD~1's files before the hook refused: `since` gone, k0 back, k1 twice.
    expect(existsSync(join(a, 'INBOX', 'new', since))).toBe(false);
    expect(existsSync(join(a, 'INBOX', 'new', k0))).toBe(true);
    expect(readdirSync(join(a, 'INBOX', 'cur')).filter((n) => n.startsWith(k1))).toHaveLength(2);
    addFlags(a, k5, 'D'); // a client's change after the rewrite, to the name git wrote back
    const added = '1800000000.Madded.host';
    writeFileSync(join(a, 'INBOX', 'new', added), 'Subject: git add\r\n\r\nby hand\r\n');
    expect(plain(a, ['add', join('INBOX', 'new', added)]).code).toBe(0);
    const out = mailgit(['-C', a, 'commit']);
    expect(out.code, out.stderr).toBe(0);
    const m = messagesAt(a);
    for (const k of [since, unrecorded, added]) expect(m.has(k), k).toBe(true);
    expect(out.stderr).toMatch(/put HEAD's back/);
    expect(m.has(k0), 'a recorded deletion stays').toBe(false);
    expect(m.get(k1)!.map((x) => x.flags)).toEqual(['FRS']);
    expect(m.get(k5)!.map((x) => x.flags)).toEqual(['DST']);
    expect(doubled(a)).toEqual([]);
    expectDiskIsHead(a);
    expect(gitStatus(a)).toBe('');
    expect(existsSync(join(a, '.git', 'mailgit', 'refused-moves'))).toBe(false);
  });

  it("two refused moves before a record (reset --hard HEAD~1, then a fast-forward merge): HEAD's mail is put back from both", () => {
    const a = adopted();
    const hub = bareHub(join(tempDir(), 'hub.git'));
    addRemote(a, 'origin', hub);
    const k = arrive(a, 'recorded, then removed by the reset');
    mg(a, ['sync']);
    const b = cloneReplica(hub, join(tempDir(), 'B'), 'laptop');
    const kb = arrive(b, 'from b');
    mg(b, ['sync']);
    expect(plain(a, ['reset', '-q', '--hard', 'HEAD~1']).code).not.toBe(0);
    expect(existsSync(join(a, 'INBOX', 'new', k))).toBe(false);
    expect(plain(a, ['fetch', '-q', 'origin']).code).toBe(0);
    // git's two-way merge keeps the index's deletion of k (origin/main has k as HEAD has it) and adds kb (seed 831706).
    expect(plain(a, ['merge', '-q', 'origin/main']).code).not.toBe(0);
    expect(existsSync(join(a, 'INBOX', 'new', kb))).toBe(true);
    const out = mailgit(['-C', a, 'commit']);
    expect(out.code, out.stderr).toBe(0);
    expect(messagesAt(a).has(k), 'k is put back').toBe(true);
    expectDiskIsHead(a);
    expect(gitStatus(a)).toBe('');
    mg(a, ['sync']);
    expect(messagesAt(a).has(kb)).toBe(true);
    expect(messagesAt(a).has(k)).toBe(true);
  });

  it('a git stash of a refused reset --hard HEAD~1, popped after a record: the message the pop takes again is put back', () => {
    const a = adopted();
    const k = arrive(a, 'recorded, then removed by the reset');
    mg(a, ['commit']);
    expect(plain(a, ['reset', '-q', '--hard', 'HEAD~1']).code).not.toBe(0);
    expect(existsSync(join(a, 'INBOX', 'new', k))).toBe(false);
    const m0 = '170000000.M0P1.host';
    remove(a, m0); // the client's own deletion, stashed with git's rewrite
    expect(plain(a, ['stash', '-q']).code).toBe(0); // saves the deletion of k as a change, puts k back
    expect(existsSync(join(a, 'INBOX', 'new', k))).toBe(true);
    mg(a, ['commit']); // the index is HEAD's: nothing stands of the rewrite
    arrive(a, 'a record between');
    mg(a, ['commit']);
    const pop = plain(a, ['stash', 'pop', '-q']);
    expect(pop.code, pop.out).toBe(0);
    expect(existsSync(join(a, 'INBOX', 'new', k)), 'the pop takes k again (seeds 1156385, 1211818)').toBe(false);
    const out = mailgit(['-C', a, 'commit']);
    expect(out.code, out.stderr).toBe(0);
    expect(messagesAt(a).has(k), 'k is put back').toBe(true);
    expect(out.stderr).toMatch(/put HEAD's back/);
    expectDiskIsHead(a);
    expect(gitStatus(a)).toBe('');
    expect(doubled(a)).toEqual([]);
    expect(messagesAt(a).has(m0), "the client's deletion the pop brought back is kept").toBe(false);
    // The stash and its pop both before the next record (seed 1156385).
    const k2 = arrive(a, 'recorded, then removed by the second reset');
    mg(a, ['commit']);
    expect(plain(a, ['reset', '-q', '--hard', 'HEAD~1']).code).not.toBe(0);
    expect(plain(a, ['stash', '-q']).code).toBe(0);
    expect(plain(a, ['stash', 'pop', '-q']).code).toBe(0);
    expect(existsSync(join(a, 'INBOX', 'new', k2))).toBe(false);
    mg(a, ['commit']);
    expect(messagesAt(a).has(k2), 'k2 is put back').toBe(true);
    expectDiskIsHead(a);
    expect(gitStatus(a)).toBe('');
  });

  it('a refused git reset --hard that empties a cur/ leaves the folder whole at once, for the client before any mailgit command', () => {
    const a = adopted();
    const k = arrive(a, 'in Work', 'Work');
    mg(a, ['commit']);
    addFlags(a, k, 'S');
    mg(a, ['commit']);
    expect(plain(a, ['reset', '-q', '--hard', 'HEAD~1']).code).not.toBe(0);
    for (const sub of ['cur', 'new', 'tmp']) expect(existsSync(join(a, 'Work', sub)), `Work/${sub} after the reset`).toBe(true);
    addFlags(a, k, 'F'); // the client files it into cur/ (ENOENT when git removed cur/)
    mg(a, ['commit']);
    expectOnlyAt(a, k, [`Work/cur/${k}:2,FS`]);
  });

  it('git stash of a staged rename that was the only message of a cur/, and its pop, leave the folder whole', () => {
    const a = adopted();
    const k = arrive(a, 'in Work', 'Work');
    mg(a, ['commit']);
    addFlags(a, k, 'S'); // Work/new/k → Work/cur/k:2,S, the only message in Work/cur/
    expect(plain(a, ['add', '-A']).code).toBe(0);
    expect(plain(a, ['stash', '-q']).code).toBe(0);
    expect(existsSync(join(a, 'Work', 'cur')), 'Work/cur after the stash').toBe(true);
    expect(plain(a, ['stash', 'pop', '-q']).code).toBe(0);
    expect(existsSync(join(a, 'Work', 'new')), 'Work/new after the pop').toBe(true);
    mg(a, ['commit']);
    expectOnlyAt(a, k, [`Work/cur/${k}:2,S`]);
  });

  it('a name git add -A staged that the client renamed before the record, and an entry git rm --cached took out, leave the index with the record', () => {
    const a = adopted();
    const k = arrive(a, 'staged, then renamed');
    expect(plain(a, ['add', '-A']).code).toBe(0);
    addFlags(a, k, 'T'); // INBOX/new/k → INBOX/cur/k:2,T; the index still holds new/k (seed 309052)
    mg(a, ['commit']);
    expect(
      messagesAt(a)
        .get(k)!
        .map((m) => m.path),
    ).toEqual([`INBOX/cur/${k}:2,T`]);
    expect(gitStatus(a)).toBe('');
    // Nothing for the record to change: the index is brought back all the same.
    expect(plain(a, ['rm', '-q', '--cached', join('INBOX', 'new', '170000000.M0P1.host')]).code).toBe(0);
    mg(a, ['commit']);
    expect(gitStatus(a)).toBe('');
    // The same in a sync that records a's rename and applies b's change.
    const hub = bareHub(join(tempDir(), 'hub.git'));
    addRemote(a, 'hub', hub);
    mg(a, ['sync']);
    const b = cloneReplica(hub, join(tempDir(), 'B'), 'laptop');
    const k2 = arrive(a, 'staged on a');
    expect(plain(a, ['add', '-A']).code).toBe(0);
    addFlags(a, k2, 'S');
    arrive(b, 'from b');
    mg(b, ['sync']);
    mg(a, ['sync']);
    expectDiskIsHead(a);
    expect(gitStatus(a)).toBe('');
  });

  it("git stash brings HEAD's name back beside the client's rename and the client renames that one too: the message is recorded once", () => {
    const a = adopted();
    const k = '170000001.M1P1.host';
    const cur = join(a, 'INBOX', 'cur');
    addFlags(a, k, 'F'); // cur/k:2,S → cur/k:2,FS, not recorded
    expect(plain(a, ['stash', '-q']).code).toBe(0); // git writes cur/k:2,S back (seed 182348)
    expect(readdirSync(cur).filter((n) => n.startsWith(k))).toHaveLength(2);
    renameSync(join(cur, `${k}:2,S`), join(cur, `${k}:2,RS`)); // a flag on the name git wrote
    mg(a, ['commit']);
    expect(messagesAt(a).get(k)!.length).toBe(1);
    expect(doubled(a)).toEqual([]);
    expectDiskIsHead(a);
    expect(gitStatus(a)).toBe('');
  });

  it('two new names of one key with the same bytes are recorded once; different bytes are both kept', () => {
    const a = adopted();
    const dir = join(a, 'INBOX', 'cur');
    writeFileSync(join(dir, '1800.M1P1.x:2,S'), 'Subject: same\r\n\r\nx\r\n');
    writeFileSync(join(a, 'INBOX', 'new', '1800.M1P1.x'), 'Subject: same\r\n\r\nx\r\n');
    writeFileSync(join(dir, '1801.M1P1.y:2,'), 'Subject: one\r\n\r\n1\r\n');
    writeFileSync(join(dir, '1801.M1P1.y:2,S'), 'Subject: two\r\n\r\n2\r\n');
    mg(a, ['commit']);
    expect(
      messagesAt(a)
        .get('1800.M1P1.x')!
        .map((m) => m.path),
    ).toEqual(['INBOX/cur/1800.M1P1.x:2,S']);
    expect(messagesAt(a).get('1801.M1P1.y')!.length).toBe(2);
    expectDiskIsHead(a);
  });
});

describe('odd HEAD states: one line naming the way back, then nothing lost', () => {
  function refused(repo: string, way: RegExp): void {
    for (const verb of [['commit'], ['sync'], ['status']]) {
      const r = mailgit(['-C', repo, ...verb]);
      expect(r.code, `${verb[0]}: ${r.stderr}`).toBe(78);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(way);
    }
  }

  it('a checkout of an old commit (detached HEAD), another branch, a deleted main', () => {
    const a = adopted();
    const newer = arrive(a, 'newer');
    mg(a, ['commit']);
    const head = gitOut(a, ['rev-parse', 'HEAD']).trim();
    expect(plain(a, ['checkout', '-q', 'HEAD~1']).code).toBe(0);
    const later = arrive(a, 'arrived while detached');
    refused(a, /detached.*run `git checkout main`/);
    expect(plain(a, ['checkout', '-q', 'main']).code).toBe(0);
    mg(a, ['commit']);
    expect(messagesAt(a).has(newer) && messagesAt(a).has(later)).toBe(true);
    expect(gitStatus(a)).toBe('');

    expect(plain(a, ['checkout', '-q', '-b', 'other']).code).toBe(0);
    refused(a, /"other" is checked out.*run `git checkout main`/);
    expect(plain(a, ['checkout', '-q', 'main']).code).toBe(0);

    const now = gitOut(a, ['rev-parse', 'HEAD']).trim();
    expect(now).not.toBe(head);
    gitOut(a, ['-c', 'core.hooksPath=/dev/null', 'update-ref', '-d', 'refs/heads/main']);
    refused(a, new RegExp(`main is gone.*run \`git update-ref refs/heads/main ${now}\``));
    expect(plain(a, ['update-ref', 'refs/heads/main', now]).code).toBe(0); // the way back is not refused
    mg(a, ['commit']);
    expect(gitOut(a, ['rev-parse', 'HEAD']).trim()).toBe(now);
    expectDiskIsHead(a);
  });

  it('a checkout of an old commit and back leaves the folders it changed with cur/ new/ tmp/ (git removes a directory it emptied)', () => {
    const a = adopted();
    const only = arrive(a, 'the only one in Work', 'Work');
    addFlags(a, only, 'S');
    addFlags(a, arrive(a, 'in a folder removed since', 'Gone'), 'S');
    mg(a, ['commit']);
    remove(a, only);
    rmSync(join(a, 'Gone'), { recursive: true });
    mg(a, ['commit']);
    expect(plain(a, ['checkout', '-q', 'HEAD~1']).code).toBe(0);
    expect(existsSync(join(a, 'Work', 'cur', `${only}:2,S`))).toBe(true);
    expect(plain(a, ['checkout', '-q', 'main']).code).toBe(0);
    for (const sub of ['cur', 'new', 'tmp']) expect(existsSync(join(a, 'Work', sub)), `Work/${sub} after the checkout`).toBe(true);
    expect(existsSync(join(a, 'Gone')), 'a folder main removed is not made whole').toBe(false);
    mg(a, ['commit']);
    for (const sub of ['cur', 'new', 'tmp']) expect(existsSync(join(a, 'Work', sub)), `Work/${sub} after the commit`).toBe(true);
    expect(gitOut(a, ['ls-tree', '--name-only', 'HEAD', 'Work/']).trim()).toBe('Work/maildirfolder');
    expect(gitOut(a, ['ls-tree', '--name-only', 'HEAD', 'Gone/']).trim()).toBe('');
    expect(gitStatus(a)).toBe('');
    expectDiskIsHead(a);
  });

  it('a stopped merge, rebase and stash pop', () => {
    const a = adopted();
    const hub = bareHub(join(tempDir(), 'hub.git'));
    addRemote(a, 'origin', hub);
    mg(a, ['sync']);
    const b = cloneReplica(hub, join(tempDir(), 'B'), 'laptop');
    arrive(b, 'b1');
    mg(b, ['sync']);
    arrive(a, 'a1');
    mg(a, ['commit']);
    plain(a, ['fetch', '-q', 'origin']);
    // --no-commit: no hook runs, the merge stops half done.
    expect(plain(a, ['merge', '-q', '--no-ff', '--no-commit', 'origin/main']).code).toBe(0);
    refused(a, /merge is in progress.*run `git merge --abort`/);
    expect(plain(a, ['merge', '--abort']).code).toBe(0);
    mg(a, ['commit']);
    expect(gitStatus(a)).toBe('');

    // A rebase stopped by hand (rebase itself is refused by the hook, so start one without hooks).
    const r = plain(a, ['-c', 'core.hooksPath=/dev/null', 'rebase', '-q', '--exec', 'false', 'origin/main']);
    expect(r.code).not.toBe(0);
    refused(a, /rebase is in progress.*run `git rebase --abort`/);
    expect(plain(a, ['-c', 'core.hooksPath=/dev/null', 'rebase', '--abort']).code).toBe(0);
    mg(a, ['commit']);

    // A stash pop that stops on a conflict (a folder data file changed both ways).
    writeFileSync(join(a, 'INBOX', 'dovecot-keywords'), '0 one\n');
    mg(a, ['commit']);
    writeFileSync(join(a, 'INBOX', 'dovecot-keywords'), '0 two\n');
    expect(plain(a, ['stash', '-q']).code).toBe(0);
    writeFileSync(join(a, 'INBOX', 'dovecot-keywords'), '0 three\n');
    mg(a, ['commit']);
    expect(plain(a, ['stash', 'pop', '-q']).code).not.toBe(0);
    refused(a, /unmerged paths.*run `git reset --merge`/);
    expect(plain(a, ['reset', '-q', '--merge']).code).toBe(0);
    mg(a, ['commit']);
    expect(gitStatus(a)).toBe('');

    // The same conflict on a detached HEAD: the unmerged paths are named first, since git
    // refuses `git checkout main` while the index has them (seed 720840).
    writeFileSync(join(a, 'INBOX', 'dovecot-keywords'), '0 four\n');
    mg(a, ['commit']);
    writeFileSync(join(a, 'INBOX', 'dovecot-keywords'), '0 five\n');
    mg(a, ['commit']);
    writeFileSync(join(a, 'INBOX', 'dovecot-keywords'), '0 six\n');
    expect(plain(a, ['stash', '-q']).code).toBe(0);
    expect(plain(a, ['checkout', '-q', 'HEAD~1']).code).toBe(0);
    expect(plain(a, ['stash', 'pop', '-q']).code).not.toBe(0);
    refused(a, /unmerged paths.*run `git reset --merge`/);
    expect(plain(a, ['reset', '-q', '--merge']).code).toBe(0);
    refused(a, /detached.*run `git checkout main`/);
    expect(plain(a, ['checkout', '-q', 'main']).code).toBe(0);
    mg(a, ['commit']);
    expect(gitStatus(a)).toBe('');
    expect(doubled(a)).toEqual([]);
    expectDiskIsHead(a);
  });
});
