/**
 * Hostile remotes: bare repos built by hand with git plumbing whose `main` holds what a
 * mail repo must never contain. `sync` and `clone` from each must exit 65 naming the
 * path, leave the local branch and Maildir as they were, write nothing outside the
 * repo, and `clone` must leave no directory behind.
 */
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { addRemote, arrive, diskFiles, initReplica, listing, mg } from '../helpers/replica.js';
import { blob, commitMain, entriesOf, plumb, type Entry } from '../helpers/plumbing.js';

// Each test drives a dozen CLI runs (~0.5 s each idle); a busy shared CI box can be 5x slower.
vi.setConfig({ testTimeout: 600_000 });

/** Each hostile thing: extra entries added to a valid mail tree, and a path the error must name. */
const HOSTILE: { name: string; add: (g: string) => Entry[]; names: string | RegExp; env?: Record<string, string> }[] = [
  { name: 'a ../ path', add: (g) => [{ path: '../x', mode: '100644', oid: blob(g, 'x') }], names: '"../x"' },
  {
    name: 'a .git/hooks file',
    add: (g) => [{ path: '.git/hooks/post-checkout', mode: '100755', oid: blob(g, '#!/bin/sh\ntouch "$HOME/PWNED"\n') }],
    names: '.git/hooks/post-checkout',
  },
  { name: 'a symlink', add: (g) => [{ path: 'INBOX/cur/evil', mode: '120000', oid: blob(g, '/etc/passwd') }], names: /"INBOX\/cur\/evil": symbolic link/ },
  {
    name: 'a submodule',
    add: () => [{ path: 'INBOX/cur/sub', mode: '160000', oid: '1234567890123456789012345678901234567890' }],
    names: /"INBOX\/cur\/sub": submodule/,
  },
  {
    name: 'an executable message',
    add: (g) => [{ path: 'INBOX/cur/x:2,S', mode: '100755', oid: blob(g, 'Subject: x\n\nx\n') }],
    names: /"INBOX\/cur\/x:2,S": executable/,
  },
  {
    name: 'a name with a newline',
    add: (g) => [{ path: 'INBOX/cur/a\nb:2,S', mode: '100644', oid: blob(g, 'Subject: x\n\nx\n') }],
    names: 'INBOX/cur/a\\nb:2,S',
  },
  {
    name: 'a .mailgit/config.json that is not JSON',
    add: (g) => [{ path: '.mailgit/config.json', mode: '100644', oid: blob(g, '{ not json') }],
    names: /"\.mailgit\/config\.json": not valid JSON/,
  },
  {
    name: 'a message over the size limit (limit lowered through MAILGIT_MAX_MESSAGE_BYTES)',
    add: (g) => [{ path: 'INBOX/cur/big:2,S', mode: '100644', oid: blob(g, Buffer.alloc(64 * 1024, 'a')) }],
    names: /"INBOX\/cur\/big:2,S": 65536 bytes is too large/,
    env: { MAILGIT_MAX_MESSAGE_BYTES: String(32 * 1024) },
  },
];

describe('hostile remotes are refused by sync and clone', () => {
  let dir: string;
  let a: string;
  let home: string;
  beforeAll(() => {
    dir = tempDir('mailgit-hostile-');
    home = join(dir, 'home');
    a = initReplica(join(dir, 'a'), 'a');
    arrive(a, 'm0');
    arrive(a, 'm1');
    mg(a, ['commit']);
  });

  test.each(HOSTILE)('$name', ({ add, names, env }) => {
    const slug = String(HOSTILE.findIndex((h) => h.add === add));
    // The sync remote: A's history plus one commit that adds the hostile entry.
    const evil = join(dir, `evil-${slug}.git`);
    gitOut(dir, ['clone', '-q', '--bare', a, evil]);
    const base = entriesOf(evil, 'main');
    const extra = add(evil);
    const keep = base.filter((e) => !extra.some((x) => x.path === e.path));
    commitMain(evil, [...keep, ...extra], plumb(evil, ['rev-parse', 'main']));
    // The clone source: a root commit with a valid mail tree plus the hostile entry.
    const evilRoot = join(dir, `evil-root-${slug}.git`);
    gitOut(dir, ['init', '-q', '--bare', '-b', 'main', evilRoot]);
    const rootEntries = base.map((e) => ({ ...e, oid: blob(evilRoot, gitOut(a, ['cat-file', 'blob', e.oid])) }));
    const extraRoot = add(evilRoot);
    commitMain(evilRoot, [...rootEntries.filter((e) => !extraRoot.some((x) => x.path === e.path)), ...extraRoot], null);

    const runEnv = { HOME: home, ...env };
    const before = { head: gitOut(a, ['rev-parse', 'HEAD']).trim(), disk: listing(diskFiles(a)), outside: readdirSync(dir).sort() };
    gitOut(a, ['remote', 'add', `evil${slug}`, evil]);
    const s = mailgit(['-C', a, 'sync', `evil${slug}`], { cwd: a, env: runEnv });
    expect(s.code, s.stderr).toBe(65);
    if (typeof names === 'string') expect(s.stderr).toContain(names);
    else expect(s.stderr).toMatch(names);
    expect(s.stderr).toMatch(/refusing changes from evil\d+.*nothing was applied/);
    expect(gitOut(a, ['rev-parse', 'HEAD']).trim()).toBe(before.head);
    expect(listing(diskFiles(a))).toEqual(before.disk);
    expect(existsSync(join(a, '.git/mailgit/apply.json'))).toBe(false);
    expect(existsSync(join(dir, 'x'))).toBe(false);
    expect(existsSync(join(a, 'INBOX/cur/evil'))).toBe(false);
    // Nothing was pushed to the hostile remote either.
    expect(plumb(evil, ['rev-parse', 'main'])).not.toBe(before.head);
    gitOut(a, ['remote', 'remove', `evil${slug}`]);

    for (const src of [evil, evilRoot]) {
      const target = join(dir, `clone-${slug}`);
      const c = mailgit(['clone', src, target, '--name', 'c'], { cwd: dir, env: runEnv });
      expect(c.code, c.stderr).toBe(65);
      if (typeof names === 'string') expect(c.stderr).toContain(names);
      else expect(c.stderr).toMatch(names);
      expect(existsSync(target)).toBe(false);
    }
    // Nothing written outside the repos: no ../x, no hook ran, no new entries in the parent.
    expect(existsSync(join(home, 'PWNED'))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(before.outside);
  });

  test('a remote built the same way with a valid new message is accepted (control)', () => {
    const ok = join(dir, 'ok.git');
    gitOut(dir, ['clone', '-q', '--bare', a, ok]);
    const base = entriesOf(ok, 'main');
    commitMain(
      ok,
      [...base, { path: 'INBOX/cur/1700000009.fine.host:2,S', mode: '100644', oid: blob(ok, 'Subject: fine\n\nfine\n') }],
      plumb(ok, ['rev-parse', 'main']),
    );
    addRemote(a, 'ok', ok);
    mg(a, ['sync', 'ok']);
    expect(existsSync(join(a, 'INBOX/cur/1700000009.fine.host:2,S'))).toBe(true);
    expect(listing(diskFiles(a))).toContain(`INBOX/cur/1700000009.fine.host:2,S 100644 ${plumb(ok, ['rev-parse', 'main:INBOX/cur/1700000009.fine.host:2,S'])}`);
  });
});
