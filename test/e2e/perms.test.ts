/**
 * File permissions (docs/security.md "Permissions"): under a lax umask everything mailgit
 * and its git children write is private; an adopted tree keeps its permissions (and new
 * mail follows its group bits, as Dovecot does), with one warning when others can read
 * it; a group-shared bare hub works for two real Unix users (uids made with setpriv, as
 * root only).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';

const isRoot = process.getuid?.() === 0;
const haveSetpriv = spawnSync('sh', ['-c', 'command -v setpriv']).status === 0;
const haveDovecot = spawnSync('sh', ['-c', 'command -v dovecot && command -v doveadm']).status === 0;

/** Every path under `dir` (itself included) with its permission bits. */
function modes(dir: string, rel = ''): Map<string, number> {
  const out = new Map<string, number>([[rel, lstatSync(join(dir, rel)).mode & 0o7777]]);
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) for (const [k, v] of modes(dir, p)) out.set(k, v);
    else out.set(p, lstatSync(join(dir, p)).mode & 0o7777);
  }
  return out;
}

/** The paths under `dir` that the group or others may access (mode & 0o077). */
function notPrivate(dir: string): string[] {
  return [...modes(dir)].filter(([, m]) => (m & 0o077) !== 0).map(([p, m]) => `${p} ${m.toString(8)}`);
}

function ok(args: string[], opts: { cwd?: string; input?: string } = {}): string {
  const r = mailgit(args, opts);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

const message = (subject: string) => `From: a@example.org\nSubject: ${subject}\n\nbody\n`;

let savedUmask = 0;
beforeAll(() => {
  savedUmask = process.umask(0o022); // the children inherit it: a typical desktop umask
});
afterAll(() => {
  process.umask(savedUmask);
});

describe('permissions', () => {
  test('under umask 022 init, deliver, sync, clone and fetch write nothing the group or others can read', async () => {
    const base = tempDir('mailgit-perms-');
    const a = join(base, 'a');
    const b = join(base, 'b');
    ok(['init', a, '--name', 'a']);
    ok(['-C', a, 'deliver'], { input: message('one') });
    ok(['-C', a, 'deliver', '--folder', 'Work'], { input: message('two') });
    gitOut(base, ['init', '-q', '--bare', 'hub.git']);
    gitOut(a, ['remote', 'add', 'hub', join(base, 'hub.git')]);
    ok(['-C', a, 'sync', 'hub']);
    ok(['clone', join(base, 'hub.git'), b, '--name', 'b']);
    ok(['-C', b, 'deliver', '--folder', 'Lists/rust'], { input: message('three') });
    ok(['-C', b, 'sync']);
    ok(['-C', a, 'sync', 'hub']); // apply writes b's message and folder into a
    expect(readdirSync(join(a, 'Lists', 'rust', 'new'))).toHaveLength(1);
    let dc: Dovecot | null = null;
    if (haveDovecot) {
      dc = await startDovecot();
      try {
        await dc.append('INBOX', [message('fetched')]);
        await dc.append('Archive', [message('archived')]);
        ok(['-C', a, 'account', 'add', 'work', '--host', '127.0.0.1', '--port', String(dc.port), '--no-tls', '--user', dc.user]);
        const r = mailgit(['-C', a, 'fetch'], { env: { MAILGIT_PASSWORD_WORK: dc.password } });
        expect(r.code, r.stderr).toBe(0);
      } finally {
        await dc.stop();
      }
    }
    expect(notPrivate(a)).toEqual([]);
    expect(notPrivate(b)).toEqual([]);
  });

  test('adopting keeps the tree permissions, warns once that others can read it, and new mail follows the root group bits', () => {
    const base = tempDir('mailgit-perms-');
    const open = join(base, 'open');
    for (const d of ['cur', 'new', 'tmp', 'Work/cur', 'Work/new', 'Work/tmp']) mkdirSync(join(open, d), { recursive: true, mode: 0o755 });
    writeFileSync(join(open, 'cur', '1600000000.M1P1.h:2,S'), message('old'), { mode: 0o644 });
    writeFileSync(join(open, 'Work', 'cur', '1600000001.M1P1.h:2,S'), message('old work'), { mode: 0o644 });
    for (const d of ['', 'cur', 'new', 'tmp', 'Work', 'Work/cur', 'Work/new', 'Work/tmp']) chmodSync(join(open, d), 0o755);
    const before = modes(open);
    const r = mailgit(['init', open, '--name', 'x']);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.trim().split('\n');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^mailgit: warning: mail in .* is readable by other users/);
    const after = modes(open);
    for (const [p, m] of before) expect(`${p} ${after.get(p)!.toString(8)}`).toBe(`${p} ${m.toString(8)}`);
    // What mailgit writes itself gives others nothing.
    ok(['-C', open, 'deliver', '--folder', 'Work'], { input: message('new') });
    for (const [p, m] of modes(open)) if (!before.has(p)) expect(`${p} ${(m & 0o007).toString(8)}`).toBe(`${p} 0`);

    // A tree shared with a group (a Dovecot running as another user): kept, no warning,
    // and mail that arrives by sync is readable by that group too, never by others.
    const shared = join(base, 'shared');
    for (const d of ['cur', 'new', 'tmp']) mkdirSync(join(shared, d), { recursive: true });
    writeFileSync(join(shared, 'cur', '1600000002.M1P1.h:2,S'), message('group'));
    for (const d of ['', 'cur', 'new', 'tmp']) chmodSync(join(shared, d), 0o750);
    chmodSync(join(shared, 'cur', '1600000002.M1P1.h:2,S'), 0o640);
    const init = mailgit(['init', shared, '--name', 's']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stderr).toBe('');
    expect(lstatSync(shared).mode & 0o777).toBe(0o750);
    const peer = join(base, 'peer');
    ok(['clone', shared, peer, '--name', 'p']);
    ok(['-C', peer, 'deliver', '--folder', 'Lists'], { input: message('from the peer') });
    ok(['-C', peer, 'sync']);
    ok(['-C', shared, 'sync']);
    const [name] = readdirSync(join(shared, '.Lists', 'new'));
    expect(lstatSync(join(shared, '.Lists', 'new', name!)).mode & 0o777).toBe(0o640);
    expect(lstatSync(join(shared, '.Lists')).mode & 0o777).toBe(0o750);
    expect(lstatSync(join(shared, 'cur', '1600000002.M1P1.h:2,S')).mode & 0o777).toBe(0o640);
  });

  test.skipIf(!isRoot || !haveSetpriv)('a group-shared bare hub (git init --bare --shared=group) works for two Unix users of one group', () => {
    const base = tempDir('mailgit-hub-');
    chmodSync(base, 0o755);
    const group = 61000;
    const users = [
      { uid: 61001, home: join(base, 'alice') },
      { uid: 61002, home: join(base, 'bob') },
    ];
    const share = join(base, 'share');
    mkdirSync(share);
    chownSync(share, 0, group);
    chmodSync(share, 0o2770);
    for (const u of users) {
      mkdirSync(u.home, { mode: 0o700 });
      chownSync(u.home, u.uid, u.uid);
    }
    const hub = join(share, 'mail.git');
    // Each user has a private primary group and the shared one as a supplementary group.
    const as = (u: (typeof users)[number], cmd: string[], input?: string) => {
      const r = spawnSync('setpriv', [`--reuid=${u.uid}`, `--regid=${u.uid}`, `--groups=${group}`, 'env', `HOME=${u.home}`, ...cmd], {
        input,
        encoding: 'utf8',
      });
      expect(r.status, `${cmd.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const mg = (u: (typeof users)[number], args: string[], input?: string) => as(u, [process.execPath, BIN, ...args], input);
    const [alice, bob] = users as [(typeof users)[number], (typeof users)[number]];
    as(alice, ['git', 'init', '-q', '--bare', '--shared=group', hub]);
    const mailA = join(alice.home, 'mail');
    const mailB = join(bob.home, 'mail');
    // The hub belongs to alice: git refuses it to bob until he declares it safe, once.
    const refused = spawnSync(
      'setpriv',
      [`--reuid=${bob.uid}`, `--regid=${bob.uid}`, `--groups=${group}`, 'env', `HOME=${bob.home}`, process.execPath, BIN, 'clone', hub, mailB],
      { encoding: 'utf8' },
    );
    expect(refused.status, refused.stderr).toBe(77);
    expect(refused.stderr).toBe(
      `mailgit: remote origin: ${hub} belongs to another user; if it is a hub you share, declare it once with: git config --global --add safe.directory ${hub}\n`,
    );
    expect(existsSync(mailB)).toBe(false);
    as(bob, ['git', 'config', '--global', '--add', 'safe.directory', hub]);
    mg(alice, ['init', mailA, '--name', 'alice']);
    mg(alice, ['-C', mailA, 'deliver'], message('from alice'));
    as(alice, ['git', '-C', mailA, 'remote', 'add', 'hub', hub]);
    mg(alice, ['-C', mailA, 'sync', 'hub']);
    mg(bob, ['clone', hub, mailB, '--name', 'bob']);
    mg(bob, ['-C', mailB, 'deliver'], message('from bob'));
    mg(bob, ['-C', mailB, 'sync']);
    mg(alice, ['-C', mailA, 'deliver'], message('alice again'));
    mg(alice, ['-C', mailA, 'sync', 'hub']);
    mg(bob, ['-C', mailB, 'sync']);
    for (const [u, dir] of [
      [alice, mailA],
      [bob, mailB],
    ] as const) {
      expect(readdirSync(join(dir, 'INBOX', 'new')).sort(), dir).toHaveLength(3);
      expect(notPrivate(dir)).toEqual([]);
      expect(as(u, ['git', '-C', dir, 'rev-parse', 'HEAD']).trim()).toBe(as(alice, ['git', '--git-dir', hub, 'rev-parse', 'main']).trim());
    }
    // Both wrote into the hub, and everything there stays usable by the group.
    const owners = new Set<number>();
    for (const [p] of modes(hub)) {
      const st = lstatSync(join(hub, p));
      owners.add(st.uid);
      expect(`${p} ${st.gid}`).toBe(`${p} ${group}`);
      if (st.isDirectory()) expect(st.mode & 0o070, p).toBe(0o070);
      else expect(st.mode & 0o040, p).toBe(0o040);
    }
    expect(owners).toEqual(new Set([61001, 61002]));
    as(bob, ['git', '--git-dir', hub, 'fsck', '--strict']);
  });
});
