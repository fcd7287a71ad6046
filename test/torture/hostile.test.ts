/**
 * Hostile remotes beyond the sync tests' basics (test/e2e/sync-hostile.test.ts covers
 * `../`, `.git/hooks`, symlinks, submodules, executables, a newline in a name, invalid
 * JSON and the lowered size limit):
 *   - a commit adding 100k files: accepted cleanly (clone, and sync in the long run; CI
 *     syncs 10k) with the Maildir equal to HEAD and bounded memory;
 *   - names with control characters (tab, ESC, DEL, C1 CSI, invalid UTF-8): refused (65),
 *     and the error line carries no raw control bytes to the terminal;
 *   - `.mailgit/` files that are not what they claim (wrong types, a layout switch, a path
 *     as the layout, deeply nested JSON, binary, a password command in a synced account);
 *   - a 2 GB sparse message (long run; CI: 3 MB against a 1 MiB limit): refused by size,
 *     without reading it into memory.
 * Every case: local mail intact, a canary directory next to the repo untouched.
 */
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, diskFiles, diskVsHead, fsckStrict, git, lines, longRun, mgOk, tempDir, treeFiles } from './lib.js';
import { drop } from './client.js';
import { blob, commitMain, entriesOf, plumb, type Entry } from '../helpers/plumbing.js';

/** A repo `a` with mail, a canary directory beside it, and a way to make evil remotes from it. */
async function setup(): Promise<{
  root: string;
  a: string;
  canary: string;
  evil: (name: string, extra: (g: string) => Entry[]) => string;
  snapshot: () => string;
}> {
  const root = tempDir('mailgit-hostile-');
  const a = join(root, 'a');
  await mgOk(['init', a, '--name', 'a']);
  for (let i = 0; i < 5; i++) drop(a, 'INBOX', `1700000${i}.M1P1.a`, `Subject: local ${i}\n\nlocal mail ${i}\n`, 'S');
  await mgOk(['-C', a, 'commit']);
  const canary = join(root, 'canary');
  mkdirSync(canary);
  writeFileSync(join(canary, 'keep'), 'canary\n');
  const snapshot = () => {
    const st = (p: string) => `${p}:${statSync(join(root, p)).mtimeMs}`;
    return JSON.stringify({
      head: git(a, ['rev-parse', 'HEAD']).trim(),
      disk: lines(diskFiles(a)),
      canary: readdirSync(canary).map((n) => st(`canary/${n}`)),
      root: readdirSync(root).sort(),
      tmp: existsSync('/tmp/mailgit-pwned'),
    });
  };
  const evil = (name: string, extra: (g: string) => Entry[]) => {
    const g = join(root, `${name}.git`);
    git(root, ['clone', '-q', '--bare', a, g]);
    const base = entriesOf(g, 'main');
    const add = extra(g);
    const addPaths = new Set(add.map((e) => String(e.path)));
    commitMain(g, [...base.filter((e) => !addPaths.has(String(e.path))), ...add], plumb(g, ['rev-parse', 'main']));
    git(a, ['remote', 'add', name, g]);
    return g;
  };
  return { root, a, canary, evil, snapshot };
}

/** No raw control characters other than the final newline (C0, DEL, C1). */
function hasRawControl(s: string): boolean {
  return /[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f]/.test(s);
}

describe('hostile remotes: names with control characters', () => {
  const NAMES: [string, Buffer][] = [
    ['tab', Buffer.from('INBOX/cur/a\tb:2,S')],
    ['escape sequence', Buffer.from('INBOX/cur/\x1b[31mred\x1b]0;title\x07:2,S')],
    ['DEL', Buffer.from('INBOX/cur/a\x7fb:2,S')],
    ['C1 CSI (U+009B)', Buffer.from('INBOX/cur/a\u009b31mb:2,S')],
    ['invalid UTF-8', Buffer.concat([Buffer.from('INBOX/cur/a'), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from(':2,S')])],
    ['carriage return in a folder name', Buffer.from('IN\rBOX/cur/x:2,S')],
  ];
  test('each is refused with exit 65, an escaped error line, and nothing changed', async () => {
    const { a, evil, snapshot } = await setup();
    const bad: string[] = [];
    for (const [i, [what, path]] of NAMES.entries()) {
      evil(`ctl${i}`, (g) => [{ path, mode: '100644', oid: blob(g, `Subject: ${what}\n\nx\n`) }]);
      const before = snapshot();
      const r = await cli(['-C', a, 'sync', `ctl${i}`]);
      if (r.code !== 65) bad.push(`${what}: exit ${r.code}: ${JSON.stringify(r.stderr)}`);
      if (hasRawControl(r.stderr.replace(/\n$/, ''))) bad.push(`${what}: raw control characters in the error line ${JSON.stringify(r.stderr)}`);
      if (snapshot() !== before) bad.push(`${what}: something changed`);
    }
    expect(bad).toEqual([]);
    expect(diskVsHead(a)).toBe('');
  });
});

describe('names a remote would refuse are not recorded locally either', () => {
  test('a client file named with a tab or C1 control is left out of the commit, so it cannot poison the hub for every other replica', async () => {
    const { root, a } = await setup();
    const hub = join(root, 'hub.git');
    git(root, ['init', '-q', '--bare', '-b', 'main', hub]);
    git(a, ['remote', 'add', 'hub', hub]);
    await mgOk(['-C', a, 'sync']);
    const b = join(root, 'b');
    await mgOk(['clone', hub, b, '--name', 'b']);
    drop(a, 'INBOX', '1700000077.tab\there', 'Subject: tab\n\nx\n', 'S');
    drop(a, 'INBOX', '1700000078.csi\u009bhere', 'Subject: csi\n\nx\n', 'S');
    drop(a, 'INBOX', '1700000079.fine', 'Subject: fine\n\nx\n', 'S');
    await mgOk(['-C', a, 'sync']);
    const names = [...treeFiles(a).keys()];
    expect(names).toContain('INBOX/cur/1700000079.fine:2,S');
    expect(names.filter((n) => /[\u0000-\u001f\u007f-\u009f]/.test(n))).toEqual([]);
    const rb = await cli(['-C', b, 'sync']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(existsSync(join(b, 'INBOX/cur/1700000079.fine:2,S'))).toBe(true);
  }, 300_000);
});

describe('hostile remotes: .mailgit files that are not what they claim', () => {
  const CASES: [string, string, string | Buffer][] = [
    ['config layout is a path', '.mailgit/config.json', '{"layout": "../../../../tmp/mailgit-pwned"}'],
    ['config layout is a number', '.mailgit/config.json', '{"layout": 5}'],
    ['config is an array of nonsense inside an object', '.mailgit/config.json', '{"layout": ["fs"], "extra": {"__proto__": {"polluted": true}}}'],
    ['checkpoint of the wrong shape', '.mailgit/checkpoints/work.json', '{"INBOX": "yesterday", "Sent": {"uidValidity": -1, "uid": 1e400}}'],
    ['deeply nested JSON', '.mailgit/checkpoints/deep.json', `{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`],
    ['binary where JSON is expected', '.mailgit/accounts/x.json', Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x7d])],
    [
      'an account that carries a password command',
      '.mailgit/accounts/evil.json',
      '{"host": "imap.example.org", "port": 993, "user": "me", "passwordCommand": ["touch", "/tmp/mailgit-pwned"]}',
    ],
    ['a file that is not JSON at all', '.mailgit/notes', 'hello'],
  ];
  test.each(CASES)('%s: refused, or accepted without harm; later commands still work', async (what, path, content) => {
    const { a, evil, snapshot } = await setup();
    const localBefore = lines(diskFiles(a));
    evil('meta', (g) => [{ path, mode: '100644', oid: blob(g, content) }]);
    const before = snapshot();
    const r = await cli(['-C', a, 'sync', 'meta']);
    expect([0, 65], `${what}: ${r.stderr}`).toContain(r.code);
    expect(r.stderr).not.toMatch(/internal error/);
    if (r.code === 65) expect(snapshot()).toBe(before);
    // Whatever happened, the repo still works and local mail is where it was.
    for (const args of [['status'], ['commit'], ['log', '-n', '3']]) {
      const x = await cli(['-C', a, ...args]);
      expect(x.code, `${what}: mailgit ${args.join(' ')} after the sync: ${x.stderr}`).toBe(0);
    }
    const disk = lines(diskFiles(a));
    for (const l of localBefore) expect(disk, what).toContain(l);
    expect(existsSync('/tmp/mailgit-pwned'), what).toBe(false);
    expect(diskVsHead(a)).toBe('');
    fsckStrict(a);
  });
});

describe('hostile remotes: size', () => {
  test('a sparse message over the limit is refused without reading it into memory', async () => {
    const { root, a, evil, snapshot } = await setup();
    const long = longRun();
    const size = long ? 2 * 1024 * 1024 * 1024 : 3 * 1024 * 1024;
    const env: Record<string, string> = long ? {} : { MAILGIT_MAX_MESSAGE_BYTES: String(1024 * 1024) };
    const sparse = join(root, 'sparse');
    spawnSync('truncate', ['-s', String(size), sparse]);
    evil('big', (g) => [{ path: 'INBOX/cur/1700000099.M1P1.big:2,S', mode: '100644', oid: plumb(g, ['hash-object', '-w', sparse]) }]);
    const before = snapshot();
    const r = await cli(['-C', a, 'sync', 'big'], { env, wrap: ['/usr/bin/time', '-f', 'maxrss=%M'], timeoutMs: 1_200_000 });
    expect(r.code, r.stderr).toBe(65);
    expect(r.stderr).toMatch(new RegExp(`${size} bytes is too large`));
    const rss = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1]);
    expect(rss).toBeLessThan(400 * 1024); // KB: the message was never held in memory
    expect(snapshot()).toBe(before);
  }, 1_800_000);
});

describe('hostile remotes: a commit with very many files', () => {
  /** Adds N small messages in one directory, built with fast-import (blobs) and mktree. */
  function many(g: string, n: number, tag: string): Entry[] {
    let s = '';
    for (let i = 0; i < n; i++) {
      const d = `Subject: ${tag} ${i}\n\n${tag} body ${i}\n`;
      s += `blob\nmark :${i + 1}\ndata ${Buffer.byteLength(d)}\n${d}\n`;
    }
    const marks = join(g, 'marks');
    plumb(g, ['fast-import', '--quiet', `--export-marks=${marks}`], s);
    const oid = new Map<number, string>();
    // Read as a file: through a pipe (spawnSync's 1 MiB default buffer) the 100k marks were cut short.
    for (const l of readFileSync(marks, 'utf8').trim().split('\n')) {
      const [m, o] = l.split(' ');
      oid.set(Number(m!.slice(1)), o!);
    }
    if (oid.size !== n) throw new Error(`fast-import marked ${oid.size} of ${n} blobs`);
    return Array.from({ length: n }, (_, i) => ({ path: `Bulk/cur/17${String(i).padStart(8, '0')}.M1P1.${tag}:2,S`, mode: '100644', oid: oid.get(i + 1)! }));
  }

  test('clone of a 20k-file commit and sync of a 5k-file commit (both 100k in the long run): accepted, Maildir equal to HEAD, memory bounded', async () => {
    const { root, a, evil, snapshot } = await setup();
    const nClone = longRun() ? 100_000 : 20_000;
    const g = evil('many', (gd) => [...many(gd, nClone, 'bulk'), { path: 'Bulk/maildirfolder', mode: '100644', oid: blob(gd, '') }]);
    const c = join(root, 'c');
    const t0 = Date.now();
    const rc = await cli(['clone', g, c, '--name', 'c'], { wrap: ['/usr/bin/time', '-f', 'maxrss=%M'], timeoutMs: 1_200_000 });
    const cloneMs = Date.now() - t0;
    expect(rc.code, rc.stderr).toBe(0);
    expect(readdirSync(join(c, 'Bulk/cur')).length).toBe(nClone);
    expect(Number(/maxrss=(\d+)/.exec(rc.stderr)?.[1])).toBeLessThan(1024 * 1024);
    git(a, ['remote', 'remove', 'many']);

    const nSync = longRun() ? 100_000 : 5_000;
    const before = snapshot();
    const g2 = evil('many2', (gd) => many(gd, nSync, 'sync'));
    void g2;
    const t1 = Date.now();
    const rs = await cli(['-C', a, 'sync', 'many2'], { wrap: ['/usr/bin/time', '-f', 'maxrss=%M'], timeoutMs: 1_800_000 });
    const syncMs = Date.now() - t1;
    expect(rs.code, rs.stderr).toBe(0);
    expect(readdirSync(join(a, 'Bulk/cur')).length).toBe(nSync);
    expect(Number(/maxrss=(\d+)/.exec(rs.stderr)?.[1])).toBeLessThan(1024 * 1024);
    expect(diskVsHead(a)).toBe('');
    expect(treeFiles(a).size).toBeGreaterThan(nSync);
    expect(JSON.parse(before).root).toContain('canary');
    fsckStrict(a);
    console.log(`${nClone}-file clone ${cloneMs} ms; ${nSync}-file sync ${syncMs} ms`);
  }, 3_600_000);
});
