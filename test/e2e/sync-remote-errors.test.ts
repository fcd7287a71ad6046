/**
 * Remotes that are not what sync expects: a stranger's mailbox (no shared history), a
 * damaged repository (truncated pack, missing object, a main that points to a missing
 * commit or to a blob), a hub another user owns, a hub whose main went back or was
 * replaced. Each gives one line naming the remote, what is wrong and what to do, with a
 * sysexits status; nothing of ours is pushed over it, and the other remotes still sync.
 */
import { describe, expect, test, vi } from 'vitest';
import { readFileSync, readdirSync, renameSync, rmSync, truncateSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import type { Run } from '../helpers/cli.js';
import { sshdPerSuite, sshdUnavailable } from '../helpers/sshd.js';
import type { Sshd } from '../helpers/sshd.js';
import { addRemote, arrive, bareHub, cloneReplica, expectDiskIsHead, initReplica, messagesAt, mg } from '../helpers/replica.js';

vi.setConfig({ testTimeout: 600_000 });

const root = process.getuid?.() === 0;

/** `mailgit -C repo ARGS`, whatever its exit status. */
function run(repo: string, args: string[], env?: Record<string, string>): Run {
  return mailgit(['-C', repo, ...args], { cwd: repo, env });
}

/** The run failed with `code` and said so on exactly one line that names `remote`. */
function expectOneLine(r: Run, code: number, remote: string, what: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`remote ${remote}\\b`));
  expect(lines[0]).toMatch(what);
  expect(r.stderr).not.toMatch(/ at .*\.js:\d+/);
}

const rev = (repo: string, ref: string) => gitOut(repo, ['rev-parse', ref]).trim();

/**
 * A with mail on hub `bad` (and a fresh hub `good`); C, a clone of the hub, pushes new
 * mail there that A has not fetched yet, so the damage done next lies in what A must fetch.
 */
function twoHubs(
  url: (path: string) => string = (p) => p,
  env: Record<string, string> = {},
): { dir: string; a: string; bad: string; good: string; newBlob: string } {
  const dir = tempDir('mailgit-damaged-');
  const a = initReplica(join(dir, 'a'), 'a');
  arrive(a, 'a0');
  const bad = bareHub(join(dir, 'bad.git'));
  addRemote(a, 'bad', url(bad));
  mg(a, ['sync', 'bad'], env);
  const c = cloneReplica(bad, join(dir, 'c'), 'c');
  const c1 = arrive(c, 'c1');
  mg(c, ['sync']);
  const newBlob = messagesAt(c).get(c1)![0]!.blob;
  const good = bareHub(join(dir, 'good.git'));
  addRemote(a, 'good', good);
  arrive(a, 'a1');
  return { dir, a, bad, good, newBlob };
}

/**
 * Makes every object of a bare repo loose (a hub keeps each push as a pack): each pack
 * is moved out of the repository and unpacked into it.
 */
function explodePacks(repo: string): void {
  const dir = join(repo, 'objects', 'pack');
  for (const pack of readdirSync(dir).filter((f) => f.endsWith('.pack'))) {
    const out = join(repo, `${pack}.unpacking`);
    renameSync(join(dir, pack), out);
    const r = spawnSync('git', ['unpack-objects', '-q'], { cwd: repo, input: readFileSync(out) });
    expect(r.status, r.stderr?.toString()).toBe(0);
    for (const ext of ['.idx', '.rev']) rmSync(join(dir, pack.replace(/\.pack$/, ext)), { force: true });
    rmSync(out);
  }
}

/** The loose object files of a bare repo. */
function looseObjects(repo: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(repo, 'objects'))) {
    if (/^[0-9a-f]{2}$/.test(d)) for (const f of readdirSync(join(repo, 'objects', d))) out.push(join(repo, 'objects', d, f));
  }
  return out;
}

describe('a damaged remote: one line, exit 65, the other remote still syncs', () => {
  const cases: [string, (hub: string, newBlob: string) => void][] = [
    [
      'a truncated pack',
      (hub) => {
        gitOut(hub, ['repack', '-adq']);
        const pack = readdirSync(join(hub, 'objects', 'pack')).find((f) => f.endsWith('.pack'))!;
        const file = join(hub, 'objects', 'pack', pack);
        truncateSync(file, statSync(file).size - 200);
      },
    ],
    [
      'a missing object',
      (hub, blob) => {
        explodePacks(hub);
        const file = looseObjects(hub).find((f) => f.endsWith(blob.slice(2)));
        expect(file, 'the blob is a loose object on the hub').toBeDefined();
        unlinkSync(file!);
      },
    ],
    ['a main that points to a missing commit', (hub) => writeFileSync(join(hub, 'refs', 'heads', 'main'), `${'1234567890'.repeat(4)}\n`)],
    [
      'a main that points to a blob',
      (hub) => writeFileSync(join(hub, 'refs', 'heads', 'main'), `${gitOut(hub, ['rev-parse', 'main:.mailgit/config.json']).trim()}\n`),
    ],
  ];
  const check = (what: string, damage: (hub: string, newBlob: string) => void, sshd?: Sshd) => {
    const { a, bad, good, newBlob } = twoHubs(sshd && ((p) => sshd.url(p)), sshd?.env);
    damage(bad, newBlob);
    mg(a, ['commit']);
    const head = rev(a, 'HEAD');
    const r = run(a, ['sync'], sshd?.env);
    expectOneLine(r, 65, 'bad', /damaged|not a commit/);
    expect(r.stderr).toMatch(/repair|point its main/);
    expect(rev(good, 'main'), 'the good remote was synced').toBe(rev(a, 'HEAD'));
    expect(rev(a, 'HEAD'), `${what}: nothing of the damaged remote was merged`).toBe(head);
    expectDiskIsHead(a);
  };
  for (const [what, damage] of cases) test(`${what}, by path`, () => check(what, damage));
  describe.skipIf(sshdUnavailable() !== null)('over ssh', () => {
    const sshd = sshdPerSuite();
    for (const [what, damage] of cases) test(`${what}, over ssh`, () => check(what, damage, sshd));
  });

  test.skipIf(!root)('a hub owned by another user: 77, one line with what to do', () => {
    const { dir, a, bad, good } = twoHubs();
    spawnSync('chmod', ['755', dir]);
    spawnSync('chown', ['-R', 'nobody', bad]);
    const r = run(a, ['sync']);
    expectOneLine(r, 77, 'bad', /belongs to another user.*safe\.directory/);
    expect(rev(good, 'main')).toBe(rev(a, 'HEAD'));
  });
});

describe('a remote whose main went back or was replaced', () => {
  test('rewound to an older commit: refused (65) and not pushed over; --allow-rewound pushes our mail back', () => {
    const dir = tempDir('mailgit-rewound-');
    const a = initReplica(join(dir, 'a'), 'a');
    const hub = bareHub(join(dir, 'hub.git'));
    addRemote(a, 'hub', hub);
    arrive(a, 'a0');
    mg(a, ['sync']);
    const old = rev(hub, 'main');
    arrive(a, 'a1');
    mg(a, ['sync']);
    gitOut(hub, ['update-ref', 'refs/heads/main', old]);
    arrive(a, 'a2');
    const r = run(a, ['sync']);
    expectOneLine(r, 65, 'hub', /went back to an older commit.*--allow-rewound hub/);
    expect(rev(hub, 'main'), 'the hub was not pushed over').toBe(old);
    expect(run(a, ['sync']).code, 'still refused on the next sync').toBe(65);
    mg(a, ['sync', '--allow-rewound', 'hub']);
    expect(rev(hub, 'main')).toBe(rev(a, 'HEAD'));
    mg(a, ['sync']);
  });

  test('replaced by another history: refused (65); --allow-rewound merges it and keeps both sides', () => {
    const dir = tempDir('mailgit-replaced-');
    const a = initReplica(join(dir, 'a'), 'a');
    const hub = bareHub(join(dir, 'hub.git'));
    addRemote(a, 'hub', hub);
    const a0 = arrive(a, 'a0');
    mg(a, ['sync']);
    const c = cloneReplica(hub, join(dir, 'c'), 'c');
    const a1 = arrive(a, 'a1');
    mg(a, ['sync']);
    const c1 = arrive(c, 'c1');
    mg(c, ['commit']);
    gitOut(c, ['push', '-q', '--force', 'origin', 'main']); // plain git, over what A pushed
    const r = run(a, ['sync']);
    expectOneLine(r, 65, 'hub', /replaced by another history.*--allow-rewound hub/);
    mg(a, ['sync', '--allow-rewound']);
    for (const k of [a0, a1, c1]) expect(messagesAt(a).has(k), k).toBe(true);
    expect(rev(hub, 'main')).toBe(rev(a, 'HEAD'));
    expectDiskIsHead(a);
  });
});

describe('a remote that shares no history with ours', () => {
  test('is refused with one line naming the remote and --allow-unrelated (65); with it both mailboxes are merged', () => {
    const dir = tempDir('mailgit-unrelated-');
    const a = initReplica(join(dir, 'a'), 'a');
    const mine = arrive(a, 'mine');
    mg(a, ['commit']);
    const s = initReplica(join(dir, 's'), 'stranger');
    const theirs = arrive(s, 'theirs');
    const hub = bareHub(join(dir, 'hub.git'));
    addRemote(s, 'hub', hub);
    mg(s, ['sync']);
    addRemote(a, 'stranger', hub);
    const head = rev(a, 'HEAD');
    const r = run(a, ['sync', 'stranger']);
    expectOneLine(r, 65, 'stranger', /shares no history.*--allow-unrelated stranger/);
    expect(rev(a, 'HEAD')).toBe(head);
    expect(rev(hub, 'main')).toBe(rev(s, 'HEAD'));
    mg(a, ['sync', '--allow-unrelated', 'stranger']);
    expect(messagesAt(a).has(mine)).toBe(true);
    expect(messagesAt(a).has(theirs)).toBe(true);
    expect(rev(hub, 'main')).toBe(rev(a, 'HEAD'));
    mg(a, ['sync', 'stranger']); // related from now on
  });

  test('a new replica with no mail yet joins a hub without the option, and a new hub is filled', () => {
    const dir = tempDir('mailgit-join-');
    const a = initReplica(join(dir, 'a'), 'a');
    const k = arrive(a, 'k');
    const hub = bareHub(join(dir, 'hub.git'));
    addRemote(a, 'hub', hub);
    mg(a, ['sync']);
    const b = initReplica(join(dir, 'b'), 'b');
    addRemote(b, 'hub', hub);
    mg(b, ['sync']);
    expect(messagesAt(b).has(k)).toBe(true);
    expectDiskIsHead(b);
  });
});
