/**
 * `mailgit sync` end to end, with the real git CLI: replicas made by `init`/`clone`, a
 * bare hub, a checked-out peer, an unreachable remote, a push race. Every test asserts
 * concrete trees: identical tree ids, the Maildir on disk equal to HEAD, and which
 * messages exist with which flags in which folder.
 */
import { describe, expect, test, vi } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';

// Each test drives a dozen CLI runs (~0.5 s each idle); a busy shared CI box can be 5x slower.
vi.setConfig({ testTimeout: 600_000 });
import {
  addFlags,
  arrive,
  addRemote,
  cloneReplica,
  deliver,
  diskFiles,
  dropMessage,
  expectDiskIsHead,
  headFiles,
  headTree,
  hubPair as sharedHubPair,
  initReplica,
  listing,
  messagesAt,
  messageText,
  mg,
  moveTo,
  msg,
  remove,
  setFlags,
} from '../helpers/replica.js';

/** A replica A with `n` INBOX messages, synced to a fresh bare hub, and a clone B. */
function hubPair(n: number): { dir: string; hub: string; a: string; b: string; keys: string[] } {
  const dir = tempDir('mailgit-sync-');
  return { dir, ...sharedHubPair(dir, n) };
}

describe('sync through a bare hub', () => {
  test('concurrent deliveries, flags, moves and deletions on two replicas converge; an old third replica resurrects nothing', () => {
    const { dir, hub, a, b, keys } = hubPair(8);
    const [m0, m1, m2, m3, m4, m5, m6, m7] = keys as [string, string, string, string, string, string, string, string];
    // C is cloned now and stays offline until the end.
    const c = cloneReplica(hub, join(dir, 'c'), 'c');

    // A: deliver, read m0, delete m1, move m2, flag m4, move m7 and mark it read.
    const a1 = arrive(a, 'a1');
    setFlags(a, m0, 'S');
    remove(a, m1);
    moveTo(a, m2, 'Archive');
    setFlags(a, m4, 'F');
    moveTo(a, m7, 'Archive');
    addFlags(a, m7, 'S');
    // B: deliver into a new folder, flag m0 (A read it), read m3, move m5, delete m6.
    const b1 = deliver(b, 'b1', 'Lists/rust');
    setFlags(b, m0, 'F');
    setFlags(b, m3, 'S');
    moveTo(b, m5, 'Lists/rust');
    remove(b, m6);

    mg(a, ['sync']);
    mg(b, ['sync']);
    mg(a, ['sync']);

    expect(headTree(a)).toBe(headTree(b));
    expect(gitOut(hub, ['rev-parse', 'main^{tree}']).trim()).toBe(headTree(a));
    for (const r of [a, b]) {
      expectDiskIsHead(r);
      const all = messagesAt(r);
      expect(msg(r, m0)).toMatchObject({ folder: 'INBOX', sub: 'cur', flags: 'FS' });
      expect(all.has(m1)).toBe(false);
      expect(msg(r, m2).folder).toBe('Archive');
      expect(msg(r, m3).flags).toBe('S');
      expect(msg(r, m4).flags).toBe('F');
      expect(msg(r, m5).folder).toBe('Lists/rust');
      expect(all.has(m6)).toBe(false);
      expect(msg(r, m7)).toMatchObject({ folder: 'Archive', flags: 'S' });
      expect(msg(r, a1).folder).toBe('INBOX');
      expect(msg(r, b1).folder).toBe('Lists/rust');
      expect(all.size).toBe(8);
    }

    // A and B move on for a while (C's view gets old), deleting more.
    remove(a, m3);
    mg(a, ['sync']);
    arrive(b, 'b2');
    mg(b, ['sync']);
    mg(a, ['sync']);

    // C wakes up: it changed unrelated mail meanwhile; its stale copies of m1, m3, m6 stay as they were.
    const c1 = arrive(c, 'c1');
    setFlags(c, m4, 'S');
    mg(c, ['sync']);
    mg(a, ['sync']);
    mg(b, ['sync']);
    mg(c, ['sync']);
    const tree = headTree(a);
    for (const r of [a, b, c]) {
      expect(headTree(r)).toBe(tree);
      expectDiskIsHead(r);
      const all = messagesAt(r);
      for (const gone of [m1, m3, m6]) expect(all.has(gone), `${gone} resurrected in ${r}`).toBe(false);
      expect(msg(r, m4).flags).toBe('FS');
      expect(msg(r, c1).folder).toBe('INBOX');
    }
    // A later sync changes nothing (no ping-pong of merge commits).
    const heads = [a, b, c].map((r) => gitOut(r, ['rev-parse', 'HEAD']).trim());
    for (const r of [a, b, c]) mg(r, ['sync']);
    expect([a, b, c].map((r) => gitOut(r, ['rev-parse', 'HEAD']).trim())).toEqual(heads);
  });

  test.each([
    ['the deletion is later', 'delete'],
    ['the flag change is later', 'flag'],
  ])('delete on one replica, flag on the other: %s → it wins whatever the other side did since, reported and in the merge commit', (_label, newer) => {
    const { a, b, keys } = hubPair(2);
    const [m0] = keys as [string];
    const [early, late] = newer === 'delete' ? [b, a] : [a, b];
    if (newer === 'delete') addFlags(b, m0, 'F');
    else remove(a, m0);
    mg(early, ['commit']);
    // The earlier side goes on working: its head gets newer, its change to m0 does not.
    for (let i = 0; i < 3; i++) {
      arrive(early, `bump${i}`);
      mg(early, ['commit']);
    }
    if (newer === 'delete') remove(a, m0);
    else addFlags(b, m0, 'F');
    mg(late, ['commit']);
    mg(a, ['sync']);
    const r = mg(b, ['sync']); // B merges: no TTY, but a decision is always worth a line
    mg(a, ['sync']);
    expect(r.stdout).toMatch(/conflict/);
    expect(r.stdout).toContain(m0);
    expect(headTree(a)).toBe(headTree(b));
    for (const repo of [a, b]) {
      expectDiskIsHead(repo);
      if (newer === 'delete') expect(messagesAt(repo).has(m0)).toBe(false);
      else expect(msg(repo, m0).flags).toBe('F');
    }
    const merge = gitOut(b, ['log', '-1', '--merges', '--format=%B']);
    expect(merge).toMatch(/conflict: /);
    expect(merge).toContain(m0);
  });

  test('the same message fetched on both replicas is kept once; the same key with different content is kept twice', () => {
    const { a, b } = hubPair(1);
    const same = messageText('fetched twice');
    dropMessage(a, 'INBOX', '1700000000.twin.host', same, 'S');
    dropMessage(b, 'INBOX', '1700000000.twin.host', same, 'F');
    dropMessage(a, 'INBOX', '1700000001.clash.host', messageText('clash from a'));
    dropMessage(b, 'INBOX', '1700000001.clash.host', messageText('clash from b'));
    const clashBlobs = [a, b].map((r) => gitOut(r, ['hash-object', join(r, 'INBOX/cur/1700000001.clash.host:2,')]).trim());
    mg(a, ['sync']);
    mg(b, ['sync']);
    mg(a, ['sync']);
    expect(headTree(a)).toBe(headTree(b));
    for (const r of [a, b]) {
      expectDiskIsHead(r);
      expect(msg(r, '1700000000.twin.host')).toMatchObject({ folder: 'INBOX', flags: 'FS' });
      const blobs = [...messagesAt(r).values()].flat().map((m) => m.blob);
      for (const blob of clashBlobs) expect(blobs.filter((x) => x === blob)).toHaveLength(1);
      expect(blobs).toHaveLength(4);
    }
  });

  test('an empty folder created on one replica appears with cur/new/tmp on the other; its removal replicates', () => {
    const { a, b } = hubPair(1);
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(a, 'Empty', sub), { recursive: true });
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(a, 'Deep/Er/Folder', sub), { recursive: true });
    mg(a, ['sync']);
    mg(b, ['sync']);
    expect(headTree(a)).toBe(headTree(b));
    for (const sub of ['cur', 'new', 'tmp']) {
      expect(existsSync(join(b, 'Empty', sub)), `Empty/${sub}`).toBe(true);
      expect(existsSync(join(b, 'Deep/Er/Folder', sub)), `Deep/Er/Folder/${sub}`).toBe(true);
    }
    expectDiskIsHead(b);
    rmSync(join(a, 'Empty'), { recursive: true });
    mg(a, ['sync']);
    mg(b, ['sync']);
    expect(headTree(a)).toBe(headTree(b));
    expect(existsSync(join(b, 'Empty'))).toBe(false);
    expect([...headFiles(b).keys()].some((p) => p.startsWith('Empty/'))).toBe(false);
    expect(existsSync(join(b, 'Deep/Er/Folder/cur'))).toBe(true);
    expectDiskIsHead(b);
  });
});

describe('sync with a checked-out peer', () => {
  test('a push to a non-bare peer waits in its incoming ref; the peer merges it at its next sync and keeps its client changes', () => {
    const dir = tempDir('mailgit-sync-peer-');
    const a = initReplica(join(dir, 'a'), 'a');
    const [m0, m1, m2] = [arrive(a, 'm0'), arrive(a, 'm1'), arrive(a, 'm2')];
    mg(a, ['commit']);
    const b = cloneReplica(a, join(dir, 'b'), 'b');
    gitOut(b, ['remote', 'remove', 'origin']); // B only learns from what A pushes
    // Whatever B's git config says (a global `ignore` would move B's HEAD under its Maildir).
    gitOut(b, ['config', 'receive.denyCurrentBranch', 'ignore']);
    addRemote(a, 'b', b);

    const a1 = arrive(a, 'a1');
    setFlags(a, m0, 'S');
    remove(a, m1);
    // B's mail client is in use: flags m0, reads m2, gets new mail from an MDA outside mailgit.
    setFlags(b, m0, 'F');
    setFlags(b, m2, 'S');
    setFlags(b, m1, 'F'); // A deletes it: a conflict, decided when B merges A's push
    dropMessage(b, 'INBOX', '1700000002.local.b', messageText('local on b'), 'S');
    const bHead = gitOut(b, ['rev-parse', 'HEAD']).trim();
    const bDisk = listing(diskFiles(b));

    const r = mg(a, ['sync', '--json']);
    const report = JSON.parse(r.stdout) as { remotes: { remote: string; ok: boolean; pushed: string }[] };
    expect(report.remotes).toEqual([expect.objectContaining({ remote: 'b', ok: true, pushed: 'incoming' })]);
    const aId = gitOut(a, ['config', 'mailgit.id']).trim();
    expect(gitOut(b, ['rev-parse', `refs/mailgit/incoming/${aId}/a`]).trim()).toBe(gitOut(a, ['rev-parse', 'HEAD']).trim());
    expect(gitOut(b, ['rev-parse', 'HEAD']).trim()).toBe(bHead);
    expect(listing(diskFiles(b))).toEqual(bDisk);

    const merged = mg(b, ['sync']);
    // No TTY: silent, except for the conflict decision.
    expect(merged.stdout).toMatch(new RegExp(`^a: conflict: .*${m1}`, 'm'));
    expect(gitOut(b, ['log', '-1', '--merges', '--format=%B'])).toContain(m1);
    expect(gitOut(b, ['for-each-ref', 'refs/mailgit/incoming/']).trim()).toBe('');
    expectDiskIsHead(b);
    expect(msg(b, m0).flags).toBe('FS');
    expect(msg(b, m2).flags).toBe('S');
    expect(msg(b, a1).folder).toBe('INBOX');
    expect(msg(b, '1700000002.local.b').flags).toBe('S');
    // And back: A syncs again and gets B's merge (through the incoming ref, merged on B).
    mg(a, ['sync']);
    expect(headTree(a)).toBe(headTree(b));
    expectDiskIsHead(a);
  });
});

describe('sync failures and races', () => {
  test('an unreachable remote exits 69 with a clear line, and the other remote is still synced', () => {
    const { dir, hub, a } = hubPair(1);
    addRemote(a, 'dead', join(dir, 'no-such-dir', 'hub.git'));
    arrive(a, 'new');
    const r = mailgit(['-C', a, 'sync'], { cwd: a });
    expect(r.code).toBe(69);
    expect(r.stderr).toMatch(/dead.*unreachable/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(gitOut(hub, ['rev-parse', 'main']).trim()).toBe(gitOut(a, ['rev-parse', 'HEAD']).trim());
    expectDiskIsHead(a);
  });

  test('a push rejected because the hub moved on is merged and retried', () => {
    const { dir, hub, a, b, keys } = hubPair(3);
    const [m0, m1] = keys as [string, string];
    // A records a change and can put it on the hub; B changes something else.
    setFlags(a, m0, 'S');
    const a1 = arrive(a, 'a1');
    mg(a, ['commit']);
    setFlags(b, m1, 'F');
    const b1 = arrive(b, 'b1');
    // B's git: just before B's first push, A's head lands on the hub (as if A pushed then).
    const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const mark = join(dir, 'race-once');
    writeFileSync(mark, '');
    writeFileSync(
      join(bin, 'git'),
      `#!/bin/sh\nfor x in "$@"; do if [ "$x" = push ] && [ -e '${mark}' ]; then rm -f '${mark}'; '${real}' -C '${a}' push -q hub HEAD:refs/heads/main || exit 99; fi; done\nexec '${real}' "$@"\n`,
    );
    chmodSync(join(bin, 'git'), 0o755);
    const r = mailgit(['-C', b, 'sync', '--json'], { cwd: b, env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(mark)).toBe(false);
    const report = JSON.parse(r.stdout) as { remotes: { ok: boolean; pushed: string; incoming: string[] }[] };
    expect(report.remotes[0]).toMatchObject({ ok: true, pushed: 'main' });
    // The hub holds B's merge of A's change, and A gets everything at its next sync.
    const hubHead = gitOut(hub, ['rev-parse', 'main']).trim();
    expect(hubHead).toBe(gitOut(b, ['rev-parse', 'HEAD']).trim());
    gitOut(hub, ['merge-base', '--is-ancestor', gitOut(a, ['rev-parse', 'HEAD']).trim(), hubHead]);
    mg(a, ['sync']);
    expect(headTree(a)).toBe(headTree(b));
    for (const r2 of [a, b]) {
      expectDiskIsHead(r2);
      expect(msg(r2, m0).flags).toBe('S');
      expect(msg(r2, m1).flags).toBe('F');
      expect(messagesAt(r2).has(a1)).toBe(true);
      expect(messagesAt(r2).has(b1)).toBe(true);
    }
  });

  test('replicas that sync with the hub at the same time all end up identical', async () => {
    const { dir, hub, a, b, keys } = hubPair(4);
    const c = cloneReplica(hub, join(dir, 'c'), 'c');
    const reps = [a, b, c];
    const { spawn } = await import('node:child_process');
    const run = (repo: string) =>
      new Promise<number>((res) => {
        const p = spawn(process.execPath, [join(__dirname, '../../bin/mailgit.js'), '-C', repo, 'sync'], { stdio: 'ignore' });
        p.on('exit', (code) => res(code ?? 128));
      });
    for (let round = 0; round < 2; round++) {
      reps.forEach((r, i) => {
        arrive(r, `r${round}-${i}`);
        addFlags(r, keys[(round + i) % keys.length]!, 'FSR'[i]!);
      });
      const codes = await Promise.all(reps.map(run));
      // A sync may give up after its rounds (75) when the hub keeps moving; never anything else.
      for (const code of codes) expect([0, 75]).toContain(code);
    }
    for (let i = 0; i < 2; i++) for (const r of reps) mg(r, ['sync']);
    const tree = headTree(a);
    for (const r of reps) {
      expect(headTree(r)).toBe(tree);
      expectDiskIsHead(r);
      expect(messagesAt(r).size).toBe(4 + 6);
    }
    expect(gitOut(hub, ['rev-parse', 'main^{tree}']).trim()).toBe(tree);
  }, 300_000);
});

describe('dry run, json, status', () => {
  test('--dry-run changes nothing; --json reports per remote; status shows ahead/behind/identical', () => {
    const { hub, a, b, keys } = hubPair(2);
    const [m0, m1] = keys as [string, string];
    setFlags(a, m0, 'S');
    arrive(a, 'a1');
    mg(a, ['sync']);
    setFlags(b, m1, 'F'); // unrecorded client change on B
    const before = {
      head: gitOut(b, ['rev-parse', 'HEAD']).trim(),
      disk: listing(diskFiles(b)),
      hub: gitOut(hub, ['rev-parse', 'main']).trim(),
      log: gitOut(b, ['rev-list', '--all']),
    };
    const dry = mg(b, ['sync', '--dry-run']);
    expect(dry.stdout).toMatch(/origin: would sync/);
    expect(dry.stdout).toMatch(/in +INBOX/);
    expect(gitOut(b, ['rev-parse', 'HEAD']).trim()).toBe(before.head);
    expect(listing(diskFiles(b))).toEqual(before.disk);
    expect(gitOut(hub, ['rev-parse', 'main']).trim()).toBe(before.hub);
    expect(existsSync(join(b, '.git/mailgit/apply.json'))).toBe(false);
    expect(gitOut(b, ['for-each-ref', 'refs/heads/']).trim().split('\n')).toHaveLength(1);

    // status (from the last fetch, which the dry run made): B is 1+ behind, 0 ahead.
    const st = JSON.parse(mg(b, ['status', '--json']).stdout) as {
      clean: boolean;
      remotes: { name: string; ahead: number; behind: number; identical: boolean }[];
    };
    expect(st.clean).toBe(false);
    expect(st.remotes).toEqual([expect.objectContaining({ name: 'origin', ahead: 0, identical: false })]);
    expect(st.remotes[0]!.behind).toBeGreaterThan(0);

    const r = mg(b, ['sync', '--json']);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(report).toEqual({
      recorded: [expect.stringMatching(/^INBOX: /)],
      received: [],
      remotes: [
        {
          remote: 'origin',
          ok: true,
          exitCode: 0,
          incoming: expect.arrayContaining([expect.stringMatching(/^INBOX: /)]),
          outgoing: expect.arrayContaining([expect.stringMatching(/^INBOX: /)]),
          decisions: [],
          pushed: 'main',
        },
      ],
    });
    const st2 = JSON.parse(mg(b, ['status', '--json']).stdout) as { remotes: { ahead: number; behind: number; identical: boolean }[] };
    expect(st2.remotes[0]).toMatchObject({ ahead: 0, behind: 0, identical: true });
    const text = mg(b, ['status']).stdout;
    expect(text).toMatch(/^remote origin \(hub\): last sync \d{4}-\d\d-\d\d \d\d:\d\d, identical$/m);
    // A has not fetched yet: after a plain fetch its status shows it is behind.
    gitOut(a, ['fetch', '-q', 'hub', '+refs/heads/main:refs/remotes/hub/main']);
    expect(mg(a, ['status']).stdout).toMatch(/^remote hub \(hub\): last sync .*, 0 ahead, [1-9]\d* behind$/m);
    mg(a, ['sync']);
    expect(headTree(a)).toBe(headTree(b));
    expect(readFileSync(join(a, '.mailgit/config.json'), 'utf8')).toContain('"layout"');
  });
});
