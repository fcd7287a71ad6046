/**
 * The time machine end to end with the real CLI and git: `log --deleted`, `show`,
 * `restore` of messages and of a folder as of a time, across three replicas through a
 * hub, and every bad input with its exit status and nothing changed.
 */
import { describe, expect, test, vi } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { startWatchChild } from './clients-helpers.js';
import {
  addRemote,
  arrive,
  bareHub,
  cloneReplica,
  deliver,
  expectDiskIsHead,
  findOnDisk,
  headTree,
  initReplica,
  messagesAt,
  mg,
  moveTo,
  msg,
  remove,
  setFlags,
} from '../helpers/replica.js';

vi.setConfig({ testTimeout: 600_000 });

function letter(subject: string, from: string, id: string): string {
  return `From: ${from}\nTo: me@example.org\nSubject: ${subject}\nDate: Tue, 01 Dec 2026 10:00:00 +0000\nMessage-ID: <${id}>\n\n${subject}: the body\n`;
}

interface Deleted {
  key: string;
  folder: string;
  path: string;
  flags: string;
  subject: string | null;
  from: string | null;
  date: string | null;
  messageId: string | null;
  replica: string;
  commit: string;
  now: string | null;
}

function deletedList(repo: string, args: string[] = []): Deleted[] {
  return JSON.parse(mg(repo, ['log', '--deleted', '--json', ...args]).stdout) as Deleted[];
}

function oneRepo(): { dir: string; a: string } {
  const dir = tempDir('mailgit-tm-');
  return { dir, a: initReplica(join(dir, 'a'), 'laptop') };
}

describe('log --deleted and show', () => {
  test('lists deletions with headers, where, when and by which replica; flag changes and moves are not deletions', () => {
    const { a } = oneRepo();
    const k1 = deliver(a, 'x', 'INBOX', letter('Invoice 42', 'Ann <ann@example.org>', 'inv42@example.org'));
    const k2 = deliver(a, 'x', 'INBOX', letter('Lunch?', 'bob@example.org', 'lunch@example.org'));
    const k3 = deliver(a, 'x', 'Lists', letter('List post', 'list@example.org', 'post@example.org'));
    setFlags(a, k1, 'FS');
    moveTo(a, k2, 'Archive');
    mg(a, ['commit']);
    expect(deletedList(a)).toEqual([]);
    remove(a, k1);
    remove(a, k3);
    mg(a, ['commit']);

    const list = deletedList(a);
    expect(list.map((d) => [d.key, d.folder, d.flags, d.subject, d.from, d.messageId, d.replica, d.now]).sort()).toEqual(
      [
        [k1, 'INBOX', 'FS', 'Invoice 42', '"Ann" <ann@example.org>', '<inv42@example.org>', 'laptop', null],
        [k3, 'Lists', '', 'List post', 'list@example.org', '<post@example.org>', 'laptop', null],
      ].sort(),
    );
    expect(list[0]!.commit).toBe(gitOut(a, ['rev-parse', 'HEAD']).trim());
    expect(deletedList(a, ['--folder', 'Lists']).map((d) => d.key)).toEqual([k3]);
    expect(deletedList(a, ['--until', 'HEAD~1'])).toEqual([]);
    expect(deletedList(a, ['--since', 'HEAD~1']).length).toBe(2);
    expect(deletedList(a, ['--since', 'HEAD'])).toEqual([]);
    expect(deletedList(a, ['--since', '1 hour ago']).length).toBe(2);
    const text = mg(a, ['log', '--deleted']).stdout;
    expect(text).toContain(`deleted from INBOX: ${k1}`);
    expect(text).toContain('Invoice 42 — "Ann" <ann@example.org>, 2026-12-01');
  });

  test('show finds a message by key, file name, path or Message-ID, now or as it was, and --raw gives its bytes', () => {
    const { a } = oneRepo();
    const body = letter('Keep me', 'ann@example.org', 'keep@example.org');
    const k = deliver(a, 'x', 'INBOX', body);
    setFlags(a, k, 'S');
    mg(a, ['commit']);
    const path = findOnDisk(a, k);
    for (const x of [k, `${k}:2,S`, path, '<keep@example.org>', 'keep@example.org']) {
      const out = mg(a, ['show', x]).stdout;
      expect(out).toContain('Subject: Keep me');
      expect(out).toContain('Keep me: the body');
    }
    remove(a, k);
    mg(a, ['commit']);
    // Gone now: shown as it was just before the deletion, by key and by Message-ID.
    expect(mg(a, ['show', k]).stdout).toContain(`# ${path} (as of`);
    expect(mg(a, ['show', '<keep@example.org>']).stdout).toContain('Subject: Keep me');
    expect(mg(a, ['show', '--raw', k]).stdout).toBe(body);
    expect(mg(a, ['show', '--raw', '--at', 'HEAD~1', k]).stdout).toBe(body);
  });
});

describe('restore', () => {
  test('brings messages back with their flags and folder as a new commit; a second restore does nothing', () => {
    const { a } = oneRepo();
    const k1 = deliver(a, 'x', 'INBOX', letter('One', 'a@example.org', 'one@example.org'));
    const k2 = deliver(a, 'x', 'Work/2026', letter('Two', 'a@example.org', 'two@example.org'));
    setFlags(a, k1, 'FS');
    mg(a, ['commit']);
    const before = messagesAt(a);
    remove(a, k1);
    remove(a, k2);
    mg(a, ['commit']);
    const deletion = gitOut(a, ['rev-parse', 'HEAD']).trim();
    const out = mg(a, ['restore', k1, `Work/2026/new/${k2}`]).stdout;
    expect(out).toContain('INBOX: 1 restored');
    expect(out).toContain('Work/2026: 1 restored');
    expect(messagesAt(a)).toEqual(before);
    // A new commit on top of the deletion: history is not rewritten.
    expect(gitOut(a, ['rev-parse', 'HEAD^']).trim()).toBe(deletion);
    expectDiskIsHead(a);
    const head = gitOut(a, ['rev-parse', 'HEAD']).trim();
    expect(mg(a, ['restore', k1]).stdout).toContain(`already there: ${k1}`);
    expect(gitOut(a, ['rev-parse', 'HEAD']).trim()).toBe(head);
    expect(
      deletedList(a)
        .map((d) => d.now)
        .sort(),
    ).toEqual([msg(a, k1).path, msg(a, k2).path].sort());
  });

  test('a message moved since (another name, same content) is not restored twice; a Message-ID on several messages restores each once', () => {
    const { a } = oneRepo();
    const dup = letter('Twice', 'a@example.org', 'twice@example.org');
    const kA = deliver(a, 'x', 'INBOX', dup);
    const kB = deliver(a, 'x', 'Sent', dup);
    const kC = deliver(a, 'x', 'INBOX', letter('Moved', 'a@example.org', 'moved@example.org'));
    mg(a, ['commit']);
    // A client that saves by copy and delete: the content goes on under a new key.
    const old = findOnDisk(a, kC);
    const copy = readFileSync(join(a, old));
    remove(a, kC);
    deliver(a, 'x', 'Archive', copy.toString('utf8'));
    remove(a, kA);
    remove(a, kB);
    mg(a, ['commit']);
    const out = mg(a, ['restore', '<twice@example.org>', kC]).stdout;
    expect(out).toContain('INBOX: 1 restored');
    expect(out).toContain('Sent: 1 restored');
    expect(out).toContain(`already there: ${kC}`);
    expect(messagesAt(a).get(kA)!.length).toBe(1);
    expect(messagesAt(a).get(kB)!.length).toBe(1);
    expect(messagesAt(a).has(kC)).toBe(false);
    expectDiskIsHead(a);
    expect(mg(a, ['restore', 'twice@example.org']).stdout).toContain('nothing to restore');
  });

  test('restore --folder --as-of brings back what the folder held then, keeps what arrived since, and --dry-run changes nothing', () => {
    const { a } = oneRepo();
    const keys = [0, 1, 2, 3].map((i) => arrive(a, `m${i}`));
    mg(a, ['commit']);
    setFlags(a, keys[0]!, 'S');
    mg(a, ['commit']);
    const then = gitOut(a, ['rev-parse', 'HEAD']).trim();
    const held = messagesAt(a);
    moveTo(a, keys[3]!, 'Archive');
    for (const k of keys.slice(0, 3)) remove(a, k);
    const later = arrive(a, 'later');
    mg(a, ['commit']);
    const head = gitOut(a, ['rev-parse', 'HEAD']).trim();
    const dry = mg(a, ['restore', '--folder', 'INBOX', '--as-of', then, '--dry-run']).stdout;
    expect(dry).toContain('would restore 3 messages');
    expect(gitOut(a, ['rev-parse', 'HEAD']).trim()).toBe(head);
    // What a restore killed in its read-tree leaves (the restore torture met it): never in the way of the next one.
    writeFileSync(join(a, '.git', 'mailgit', 'restore.index.lock'), '');
    mg(a, ['restore', '--folder', 'INBOX', '--as-of', then]);
    const now = messagesAt(a);
    for (const k of keys.slice(0, 3)) expect(now.get(k)).toEqual(held.get(k));
    expect(now.get(keys[3]!)![0]!.folder).toBe('Archive');
    expect(now.get(later)![0]!.folder).toBe('INBOX');
    expectDiskIsHead(a);
  });

  test('a removed folder comes back whole (marker and cur/new/tmp); a maildir++ INBOX at the root too', () => {
    const { dir, a } = oneRepo();
    const keys = [0, 1].map((i) => arrive(a, `l${i}`, 'Lists/rust'));
    mg(a, ['commit']);
    const held = messagesAt(a);
    rmSync(join(a, 'Lists'), { recursive: true });
    mg(a, ['commit']);
    expect(gitOut(a, ['ls-tree', '-r', '--name-only', 'HEAD'])).not.toContain('Lists/');
    mg(a, ['restore', '--folder', 'Lists/rust', '--as-of', 'HEAD~1']);
    expect(messagesAt(a)).toEqual(held);
    expect(gitOut(a, ['ls-tree', '-r', '--name-only', 'HEAD'])).toContain('Lists/rust/maildirfolder');
    expectDiskIsHead(a);
    expect(keys.every((k) => messagesAt(a).has(k))).toBe(true);

    const p = join(dir, 'pp');
    expect(mailgit(['init', p, '--name', 'pp', '--layout', 'maildir++']).code).toBe(0);
    const k = deliver(p, 'root inbox');
    remove(p, k);
    mg(p, ['commit']);
    expect(deletedList(p).map((d) => [d.key, d.folder, d.path])).toEqual([[k, 'INBOX', `new/${k}`]]);
    expect(mg(p, ['restore', '--folder', 'INBOX', '--as-of', 'HEAD~1']).stdout).toContain('INBOX: 1 restored');
    expect(msg(p, k).path).toBe(`new/${k}`);
    expectDiskIsHead(p);
  });

  test('bad input: one line and its exit status, nothing changed', () => {
    const { a } = oneRepo();
    const k = arrive(a, 'm');
    mg(a, ['commit']);
    const head = gitOut(a, ['rev-parse', 'HEAD']).trim();
    const cases: [string[], number, RegExp][] = [
      [['restore', 'no-such-key'], 66, /no message "no-such-key"/],
      [['restore', '<nobody@example.org>'], 66, /no message/],
      [['restore', '--at', '1999-01-01', k], 64, /before this repo's first commit/],
      [['restore', '--at', 'next tuesday-ish', k], 64, /cannot read time/],
      [['restore', '--at', '0123456789abcdef', k], 64, /cannot read time/],
      [['restore', '--folder', 'INBOX'], 64, /needs --as-of/],
      [['restore', '--folder', 'Nowhere', '--as-of', 'HEAD'], 66, /held no mail/],
      [['restore', '--folder', '../etc', '--as-of', 'HEAD'], 64, /invalid folder name/],
      [['restore'], 64, /name the messages/],
      [['show', 'no-such-key'], 66, /no message/],
      // A glob character is part of a key, not a pattern; an option-like word is not a commit.
      [['show', '*'], 66, /no message "\*"/],
      [['show', '--at=--output=x', k], 64, /cannot read time/],
      [['undo', '--', '--output=x'], 64, /no commit/],
      [['log', '--deleted', '--since', 'soon'], 64, /cannot read time/],
      [['log', '--deleted', '--folder', '../x'], 64, /invalid folder name/],
    ];
    for (const [args, code, re] of cases) {
      const r = mailgit(['-C', a, ...args]);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), code]);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    }
    expect(gitOut(a, ['rev-parse', 'HEAD']).trim()).toBe(head);
    expectDiskIsHead(a);
  });
});

describe('restore across replicas', () => {
  test('restored here, synced: present everywhere, also on a replica that never saw the deletion and changed the message meanwhile', () => {
    const dir = tempDir('mailgit-tm3-');
    const a = initReplica(join(dir, 'a'), 'a');
    const keys = [0, 1, 2].map((i) => arrive(a, `m${i}`));
    const hub = bareHub(join(dir, 'hub.git'));
    addRemote(a, 'hub', hub);
    mg(a, ['sync']);
    const b = cloneReplica(hub, join(dir, 'b'), 'b');
    const c = cloneReplica(hub, join(dir, 'c'), 'c');
    const [m0, m1, m2] = keys as [string, string, string];

    // A deletes m0 and m1; B sees the deletion; C stays offline and flags m0 meanwhile.
    remove(a, m0);
    remove(a, m1);
    mg(a, ['sync']);
    mg(b, ['sync']);
    expect(messagesAt(b).has(m0)).toBe(false);
    setFlags(c, m0, 'F');
    mg(c, ['commit']);

    // A restores both; then everyone syncs, C last and then A and B again.
    mg(a, ['restore', m0, m1]);
    mg(a, ['sync']);
    mg(b, ['sync']);
    mg(c, ['sync']);
    mg(a, ['sync']);
    mg(b, ['sync']);

    for (const r of [a, b, c]) {
      expect(headTree(r)).toBe(headTree(a));
      expect(msg(r, m1).folder).toBe('INBOX');
      // C's flag, set without knowing of the deletion, is kept: the restore changed nothing of m0.
      expect(msg(r, m0).flags).toBe('F');
      expect(msg(r, m2).folder).toBe('INBOX');
      expectDiskIsHead(r);
    }
    // B, which had the deletion, does not delete them again at its next syncs.
    mg(b, ['sync']);
    mg(a, ['sync']);
    expect(messagesAt(a).has(m0) && messagesAt(a).has(m1)).toBe(true);
  });
});

describe('undo', () => {
  test('undo of a mass deletion brings the mail back everywhere; undo of a delivery removes it; a second undo does nothing', () => {
    const dir = tempDir('mailgit-undo-');
    const a = initReplica(join(dir, 'a'), 'a');
    const keys = [0, 1, 2, 3, 4].map((i) => arrive(a, `m${i}`));
    setFlags(a, keys[0]!, 'FS');
    const hub = bareHub(join(dir, 'hub.git'));
    addRemote(a, 'hub', hub);
    mg(a, ['sync']);
    const b = cloneReplica(hub, join(dir, 'b'), 'b');
    const c = cloneReplica(hub, join(dir, 'c'), 'c');
    const held = messagesAt(a);
    // B's client deletes everything; A and C see it.
    for (const k of keys) remove(b, k);
    mg(b, ['sync']);
    mg(a, ['sync']);
    mg(c, ['sync']);
    expect(messagesAt(a).size).toBe(0);
    const massDeletion = gitOut(b, ['rev-parse', 'HEAD']).trim();
    const out = mg(c, ['undo', massDeletion]).stdout;
    expect(out).toContain('INBOX: 5 restored');
    mg(c, ['sync']);
    mg(a, ['sync']);
    mg(b, ['sync']);
    for (const r of [a, b, c]) {
      expect(messagesAt(r)).toEqual(held);
      expectDiskIsHead(r);
    }
    const head = gitOut(c, ['rev-parse', 'HEAD']).trim();
    expect(mg(c, ['undo', massDeletion]).stdout).toContain('undone already');
    expect(gitOut(c, ['rev-parse', 'HEAD']).trim()).toBe(head);
    // Undo of a delivery takes it away again.
    const late = deliver(a, 'late');
    mg(a, ['undo', 'HEAD']);
    expect(messagesAt(a).has(late)).toBe(false);
    expectDiskIsHead(a);
  });

  test('undo of a merge undoes its conflict decisions only: the deleted-and-flagged message comes back flagged, the rest of the merge stays', () => {
    const dir = tempDir('mailgit-undo-merge-');
    const a = initReplica(join(dir, 'a'), 'a');
    const [m0, m1] = [0, 1].map((i) => arrive(a, `m${i}`)) as [string, string];
    const hub = bareHub(join(dir, 'hub.git'));
    addRemote(a, 'hub', hub);
    mg(a, ['sync']);
    const b = cloneReplica(hub, join(dir, 'b'), 'b');
    // Concurrently: A flags m0; B deletes m0 and reads m1. B's stamp wins (same clock, "b" > "a").
    setFlags(a, m0, 'F');
    mg(a, ['commit']);
    remove(b, m0);
    setFlags(b, m1, 'S');
    mg(b, ['sync']);
    const merged = mg(a, ['sync']).stdout;
    expect(merged).toMatch(/conflict: .*deleted it/);
    expect(messagesAt(a).has(m0)).toBe(false);
    const out = mg(a, ['undo', 'HEAD']).stdout;
    expect(out).toContain('INBOX: 1 restored');
    expect(msg(a, m0).flags).toBe('F');
    expect(msg(a, m1).flags).toBe('S');
    mg(a, ['sync']);
    mg(b, ['sync']);
    expect(headTree(b)).toBe(headTree(a));
    expect(msg(b, m0).flags).toBe('F');
    expectDiskIsHead(b);
  });

  test("refuses, naming the messages, where later changes make the undo ambiguous; refuses a commit that is not mailgit's", () => {
    const { a } = oneRepo();
    const k1 = arrive(a, 'one');
    const k2 = arrive(a, 'two');
    mg(a, ['commit']);
    setFlags(a, k1, 'S');
    setFlags(a, k2, 'S');
    mg(a, ['commit']);
    const flagged = gitOut(a, ['rev-parse', 'HEAD']).trim();
    setFlags(a, k1, 'FS');
    mg(a, ['commit']);
    const head = gitOut(a, ['rev-parse', 'HEAD']).trim();
    const r = mailgit(['-C', a, 'undo', flagged]);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(`${k1} (now INBOX/cur/${k1}:2,FS)`);
    expect(r.stderr).not.toContain(k2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(gitOut(a, ['rev-parse', 'HEAD']).trim()).toBe(head);
    // A commit made with plain git past mailgit's guards (hooks off): same tree, no trailers.
    const plainCommit = gitOut(a, ['-c', 'user.name=x', '-c', 'user.email=x@y', 'commit-tree', 'HEAD^{tree}', '-p', 'HEAD', '-m', 'plain']).trim();
    gitOut(a, ['-c', 'core.hooksPath=/dev/null', 'update-ref', 'refs/heads/main', plainCommit]);
    const plain = mailgit(['-C', a, 'undo', 'HEAD']);
    expect([plain.code, /not a mailgit commit/.test(plain.stderr)]).toEqual([65, true]);
    expect(mailgit(['-C', a, 'undo', 'nope']).code).toBe(64);
    expectDiskIsHead(a);
  });
});

describe('check', () => {
  test('finds an in-place edit, a removed file, a stray file, a missing tmp/ and an unreplicable name; --repair fixes what it can, nothing lost', () => {
    const { a } = oneRepo();
    const keys = [0, 1, 2].map((i) => arrive(a, `m${i}`));
    mg(a, ['commit']);
    expect(mg(a, ['check']).stdout).toContain('all good');
    const edited = findOnDisk(a, keys[0]!);
    const original = readFileSync(join(a, edited));
    writeFileSync(join(a, edited), `${original.toString('utf8')}tampered\n`);
    const gone = findOnDisk(a, keys[1]!);
    rmSync(join(a, gone));
    writeFileSync(join(a, 'INBOX/cur/stray:2,S'), 'Subject: stray\n\nx\n');
    writeFileSync(join(a, 'INBOX/cur/bad\u0001name'), 'x');
    rmSync(join(a, 'INBOX/tmp'), { recursive: true });
    const head = gitOut(a, ['rev-parse', 'HEAD']).trim();

    const r = mailgit(['-C', a, 'check']);
    expect(r.code).toBe(65);
    for (const line of [
      `edited in place: ${edited}`,
      `missing: ${gone}`,
      'not recorded: INBOX/cur/stray:2,S',
      'folder directory missing: INBOX/tmp/',
      'cannot replicate: "INBOX/cur/bad\\u0001name"',
    ])
      expect(r.stdout).toContain(line);
    expect(gitOut(a, ['rev-parse', 'HEAD']).trim()).toBe(head);

    const fix = mailgit(['-C', a, 'check', '--repair']);
    expect(fix.code).toBe(65); // the unreplicable name stays, reported
    expect(fix.stderr).toMatch(/1 problem left .*cannot replicate/);
    // The recorded bytes are back under the name; the edited ones live on under a new key.
    expect(readFileSync(join(a, edited))).toEqual(original);
    const copies = [...messagesAt(a).keys()].filter((k) => k.startsWith(`${keys[0]}.edited-`));
    expect(copies).toHaveLength(1);
    expect(messagesAt(a).has('stray')).toBe(true);
    expect(messagesAt(a).has(keys[1]!)).toBe(false);
    expect(fix.stdout).toContain('recorded as deleted');
    rmSync(join(a, 'INBOX/cur/bad\u0001name'));
    expectDiskIsHead(a);
    expect(mg(a, ['check']).stdout).toContain('all good');
    // The removed message is in history: restore brings it back.
    mg(a, ['restore', keys[1]!]);
    expect(messagesAt(a).has(keys[1]!)).toBe(true);
  });

  test('check --remote says whether two replicas hold the same mail, and what differs', () => {
    const dir = tempDir('mailgit-chk-');
    const a = initReplica(join(dir, 'a'), 'a');
    arrive(a, 'm0');
    const hub = bareHub(join(dir, 'hub.git'));
    addRemote(a, 'hub', hub);
    mg(a, ['sync']);
    expect(mg(a, ['check', '--remote', 'hub']).stdout).toContain('same mail as hub');
    arrive(a, 'm1');
    mg(a, ['commit']);
    const r = mailgit(['-C', a, 'check', '--remote', 'hub']);
    expect(r.code).toBe(65);
    expect(r.stdout).toContain('INBOX: 1 delivered');
    expect(mailgit(['-C', a, 'check', '--remote', 'nowhere']).code).toBe(64);
  });
});

describe('restore while watch runs', () => {
  test('watch records the deletion; a restore then lands without watch recording it again or taking it back', async () => {
    const { a } = oneRepo();
    const keys = [0, 1, 2].map((i) => arrive(a, `w${i}`));
    mg(a, ['commit']);
    const w = await startWatchChild(a, ['--debounce', '100']);
    try {
      const from = w.events.length;
      for (const k of keys) remove(a, k);
      const deletion = await w.waitFor((e) => e.event === 'commit', 30_000, from);
      expect(deletion.summary).toEqual(['INBOX: 3 deleted']);
      // (The watch child's output waits in its pipe while this runs.)
      expect(mg(a, ['restore', '--folder', 'INBOX', '--as-of', 'HEAD~1']).stderr).toBe('');
      const restored = gitOut(a, ['rev-parse', 'HEAD']).trim();
      // The restore's own files raise events; watch finds nothing to record.
      await new Promise((res) => setTimeout(res, 1500));
      expect(gitOut(a, ['rev-parse', 'HEAD']).trim()).toBe(restored);
      expect(keys.every((k) => messagesAt(a).has(k))).toBe(true);
      expectDiskIsHead(a);
    } finally {
      await w.stop();
    }
  });
});
