/**
 * Adopting the Maildir trees real tools make (src/maildir/layout.ts): Dovecot `LAYOUT=fs`
 * with and without INBOX at the root and its default Maildir++, mbsync's `SubFolders
 * Verbatim` / `Maildir++` / `Legacy` and `Flatten .` (offlineimap's dotted names), a notmuch
 * tree. Each tree is made by the tool itself where it is installed; mailgit must detect
 * the layout, name every folder as the tool does, and `deliver --folder` into the
 * directory the tool reads (mbsync pushes that message back to the server to prove it).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const haveDovecot = have('dovecot') && have('doveadm');
const haveMbsync = have('mbsync');
const haveNotmuch = have('notmuch');

const message = (subject: string) =>
  `From: a@example.org\nTo: b@example.org\nSubject: ${subject}\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\n\nbody\n`;

/** The folders every tree gets (logical names), each with one message. */
const FOLDERS = ['INBOX', 'Work', 'Lists/rust'];

/** A copy of a tree a tool made, owned by us (as root, Dovecot's files belong to its `mail` user). */
function copyTree(src: string): string {
  const dst = join(tempDir('mailgit-layout-'), 'mail');
  execFileSync('cp', ['-r', '--preserve=mode,timestamps', src, dst]);
  return dst;
}

/**
 * Adopts `tree`, checks the layout init reports and the folders recorded, then delivers
 * into `Lists/rust` and returns where the file landed (repo-relative).
 */
function adopt(tree: string, layout: string, dirs: Record<string, string>, args: string[] = []): string {
  const r = mailgit(['init', tree, '--name', 'x', ...args]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain(`layout ${layout})`);
  expect(r.stdout).toMatch(new RegExp(`^Layout ${layout.replace('+', '\\+')}${args.length ? '' : ' \\(detected\\)'}: INBOX in `, 'm'));
  const tracked = gitOut(tree, ['ls-tree', '-r', '--name-only', 'HEAD']).split('\n');
  for (const [name, dir] of Object.entries(dirs)) {
    const prefix = dir === '' ? '' : `${dir}/`;
    expect(
      tracked.some((p) => p.startsWith(`${prefix}cur/`) || p.startsWith(`${prefix}new/`)),
      `${name} in ${dir}`,
    ).toBe(true);
    if (name !== 'INBOX') expect(r.stdout, name).toMatch(new RegExp(`^  ${name.replace('/', '\\/')}: \\d+ delivered`, 'm'));
  }
  expect(tracked.filter((p) => /(^|\/)(\.notmuch|dovecot[.-]|\.mbsyncstate|\.uidvalidity)/.test(p))).toEqual([]);
  const before = new Set(gitOut(tree, ['ls-tree', '-r', '--name-only', 'HEAD']).split('\n'));
  const d = mailgit(['-C', tree, 'deliver', '--folder', 'Lists/rust'], { input: message('delivered by mailgit') });
  expect(d.code, d.stderr).toBe(0);
  const added = gitOut(tree, ['ls-tree', '-r', '--name-only', 'HEAD'])
    .split('\n')
    .filter((p) => p !== '' && !before.has(p));
  expect(added.filter((p) => !p.endsWith('maildirfolder'))).toHaveLength(1);
  const log = mailgit(['-C', tree, 'log']);
  expect(log.stdout.split('\n')[1]).toBe('    Lists/rust: 1 delivered');
  return added.find((p) => !p.endsWith('maildirfolder'))!;
}

describe.skipIf(!haveDovecot)('trees made by Dovecot', () => {
  let dc: Dovecot;
  beforeAll(async () => {
    dc = await startDovecot({ mailLocation: 'maildir:~/Maildir:LAYOUT=fs' });
    for (const f of FOLDERS) await dc.append(f, [message(`in ${f}`)]);
  });
  afterAll(async () => {
    await dc?.stop();
  });

  test('LAYOUT=fs with INBOX at the root is fs-root: Work is Work, deliver --folder Work writes Work/', async () => {
    expect(await dc.folderPath('Work')).toBe(join(dc.mailRoot, 'Work'));
    const tree = copyTree(dc.mailRoot);
    const path = adopt(tree, 'fs-root', { INBOX: '', Work: 'Work', 'Lists/rust': 'Lists/rust' });
    expect(path).toMatch(/^Lists\/rust\/new\//);
    const workBefore = readdirSync(join(tree, 'Work', 'new')).length;
    const w = mailgit(['-C', tree, 'deliver', '--folder', 'Work'], { input: message('work') });
    expect(w.code, w.stderr).toBe(0);
    expect(existsSync(join(tree, '.Work'))).toBe(false);
    expect(readdirSync(join(tree, 'Work', 'new'))).toHaveLength(workBefore + 1);
    // Dovecot serving the repo (LAYOUT=fs, INBOX at the root) sees mailgit's deliveries in
    // its Work and Lists/rust. As root, Dovecot reads mail as its `mail` user: hand it over.
    if (process.getuid?.() === 0) {
      execFileSync('chown', ['-R', '8:8', tree]);
      execFileSync('chmod', ['755', join(tree, '..')]);
    }
    const served = await startDovecot({ mailLocation: `maildir:${tree}:LAYOUT=fs` });
    try {
      const count = async (f: string) => (await served.doveadm(['mailbox', 'status', '-u', served.user, 'messages', f])).trim();
      const onDisk = ['new', 'cur'].reduce((n, sub) => n + readdirSync(join(tree, 'Work', sub)).length, 0);
      expect(onDisk).toBeGreaterThan(workBefore);
      expect(await count('Work')).toBe(`Work messages=${onDisk}`);
      expect(await count('Lists/rust')).toBe('Lists/rust messages=2');
    } finally {
      await served.stop();
    }
    // --layout is honoured, and one that cannot hold the tree is refused with the reason.
    const other = copyTree(dc.mailRoot);
    const bad = mailgit(['init', other, '--layout', 'maildir++']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/does not fit --layout maildir\+\+: it has folder directory Lists\/rust\/.*looks like fs-root/);
    const fs = mailgit(['init', other, '--layout', 'fs']);
    expect(fs.code).toBe(64);
    expect(fs.stderr).toMatch(/a Maildir at its root.*looks like fs-root \(use --layout fs-root/);
    expect(existsSync(join(other, '.git'))).toBe(false);
  });

  test.skipIf(process.getuid?.() !== 0)("a tree that belongs to another user (Dovecot's mail user) is refused before anything is written", () => {
    const tree = join(tempDir('mailgit-layout-'), 'mail');
    execFileSync('cp', ['-a', dc.mailRoot, tree]); // keeps the owner, uid 8
    const before = execFileSync('ls', ['-laR', '--time-style=full-iso', tree], { encoding: 'utf8' });
    const r = mailgit(['init', tree]);
    expect(r.code).toBe(77);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/belongs to uid 8, not to you: .*nothing was changed/);
    expect(execFileSync('ls', ['-laR', '--time-style=full-iso', tree], { encoding: 'utf8' })).toBe(before);
  });

  test("LAYOUT=fs with INBOX=…/INBOX is fs, and Dovecot's default Maildir++ is maildir++", async () => {
    const fsDc = await startDovecot({ mailLocation: 'maildir:~/Mail:LAYOUT=fs:INBOX=~/Mail/INBOX' });
    const ppDc = await startDovecot({ mailLocation: 'maildir:~/Mail' });
    try {
      for (const f of FOLDERS) {
        await fsDc.append(f, [message(`in ${f}`)]);
        await ppDc.append(f, [message(`in ${f}`)]);
      }
      const fsTree = copyTree(join(fsDc.dir, 'home', fsDc.user, 'Mail'));
      expect(adopt(fsTree, 'fs', { INBOX: 'INBOX', Work: 'Work', 'Lists/rust': 'Lists/rust' })).toMatch(/^Lists\/rust\/new\//);
      const ppRoot = join(ppDc.dir, 'home', ppDc.user, 'Mail');
      expect(await ppDc.folderPath('Lists/rust')).toBe(join(ppRoot, '.Lists.rust'));
      const ppTree = copyTree(ppRoot);
      expect(adopt(ppTree, 'maildir++', { INBOX: '', Work: '.Work', 'Lists/rust': '.Lists.rust' })).toMatch(/^\.Lists\.rust\/new\//);
    } finally {
      await fsDc.stop();
      await ppDc.stop();
    }
  });

  const styles = [
    { style: 'SubFolders Verbatim', layout: 'fs', dirs: { INBOX: 'INBOX', Work: 'Work', 'Lists/rust': 'Lists/rust' }, inbox: 'INBOX', path: true },
    { style: 'SubFolders Maildir++', layout: 'maildir++', dirs: { INBOX: '', Work: '.Work', 'Lists/rust': '.Lists.rust' }, inbox: '', path: false },
    { style: 'SubFolders Legacy', layout: 'mbsync-legacy', dirs: { INBOX: 'INBOX', Work: 'Work', 'Lists/rust': 'Lists/.rust' }, inbox: 'INBOX', path: true },
  ];
  for (const s of styles) {
    test.skipIf(!haveMbsync)(`mbsync ${s.style} is ${s.layout}, and mbsync takes what mailgit delivered back to the server`, async () => {
      const base = tempDir('mailgit-mbsync-');
      const tree = join(base, 'mail');
      mkdirSync(tree);
      const rc = join(base, 'mbsyncrc');
      writeFileSync(
        rc,
        `IMAPAccount a\nHost 127.0.0.1\nPort ${dc.port}\nUser ${dc.user}\nPass ${dc.password}\nSSLType None\nAuthMechs LOGIN\n\n` +
          `IMAPStore remote\nAccount a\n\nMaildirStore local\n${s.path ? `Path ${tree}/\n` : ''}Inbox ${join(tree, s.inbox)}\n${s.style}\n\n` +
          `Channel c\nFar :remote:\nNear :local:\nPatterns *\nCreate Near\nSync All\nSyncState *\n`,
        { mode: 0o600 },
      );
      const mbsync = () => {
        const r = spawnSync('mbsync', ['-c', rc, '-q', '-a'], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
      };
      const count = async () => (await dc.doveadm(['mailbox', 'status', '-u', dc.user, 'messages', 'Lists/rust'])).trim();
      mbsync();
      const before = Number((await count()).split('=')[1]);
      const path = adopt(tree, s.layout, s.dirs);
      expect(path.startsWith(`${s.dirs['Lists/rust']}/new/`), path).toBe(true);
      mbsync();
      expect(await count()).toBe(`Lists/rust messages=${before + 1}`);
      // mbsync's own re-run changed nothing mailgit would lose: its state files stay unrecorded.
      expect(mailgit(['-C', tree, 'commit']).code).toBe(0);
      expect(
        gitOut(tree, ['ls-tree', '-r', '--name-only', 'HEAD'])
          .split('\n')
          .filter((p) => /mbsyncstate|uidvalidity/.test(p)),
      ).toEqual([]);
    });
  }

  test.skipIf(!haveMbsync)("mbsync Flatten . (offlineimap's dotted names) is fs with folders named as on disk", () => {
    const base = tempDir('mailgit-mbsync-');
    const tree = join(base, 'mail');
    mkdirSync(tree);
    const rc = join(base, 'mbsyncrc');
    writeFileSync(
      rc,
      `IMAPAccount a\nHost 127.0.0.1\nPort ${dc.port}\nUser ${dc.user}\nPass ${dc.password}\nSSLType None\nAuthMechs LOGIN\n\n` +
        `IMAPStore remote\nAccount a\n\nMaildirStore local\nPath ${tree}/\nInbox ${tree}/INBOX\nFlatten .\n\n` +
        `Channel c\nFar :remote:\nNear :local:\nPatterns *\nCreate Near\nSync Pull\nSyncState *\n`,
      { mode: 0o600 },
    );
    const r = spawnSync('mbsync', ['-c', rc, '-q', '-a'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(tree, 'Lists.rust', 'cur'))).toBe(true);
    const init = mailgit(['init', tree, '--name', 'x']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/^Layout fs \(detected\)/m);
    expect(init.stdout).toMatch(/^ {2}Lists\.rust: \d+ delivered/m);
    const before = readdirSync(join(tree, 'Lists.rust', 'new')).length;
    const d = mailgit(['-C', tree, 'deliver', '--folder', 'Lists.rust'], { input: message('dotted') });
    expect(d.code, d.stderr).toBe(0);
    expect(readdirSync(join(tree, 'Lists.rust', 'new'))).toHaveLength(before + 1);
  });
});

test.skipIf(!haveNotmuch)('a notmuch tree (fs folders, .notmuch at the root, flags synced by notmuch) is fs, and .notmuch is not recorded', () => {
  const tree = join(tempDir('mailgit-notmuch-'), 'mail');
  for (const [i, f] of ['INBOX', 'Work', 'Lists/rust'].entries()) {
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(tree, f, sub), { recursive: true });
    writeFileSync(join(tree, f, 'new', `170000000${i}.M1P1.host`), message(`notmuch ${f}`));
  }
  const config = join(tree, '..', 'notmuch-config');
  writeFileSync(config, `[database]\npath=${tree}\n[new]\ntags=unread;inbox\n[maildir]\nsynchronize_flags=true\n`);
  const env = { ...process.env, NOTMUCH_CONFIG: config };
  execFileSync('notmuch', ['new', '--quiet'], { env });
  execFileSync('notmuch', ['tag', '-unread', '--', 'folder:Work'], { env }); // moves Work's message to cur/ with :2,S
  expect(readdirSync(join(tree, 'Work', 'cur'))[0]).toMatch(/:2,S$/);
  expect(existsSync(join(tree, '.notmuch'))).toBe(true);
  expect(adopt(tree, 'fs', { INBOX: 'INBOX', Work: 'Work', 'Lists/rust': 'Lists/rust' })).toMatch(/^Lists\/rust\/new\//);
  execFileSync('notmuch', ['new', '--quiet'], { env });
  expect(execFileSync('notmuch', ['count', 'folder:Lists/rust'], { env, encoding: 'utf8' }).trim()).toBe('2');
});

test('--layout fs-root takes a lone root Maildir that is maildir++ by default', () => {
  const tree = join(tempDir('mailgit-layout-'), 'mail');
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(tree, sub), { recursive: true });
  writeFileSync(join(tree, 'cur', '1700000000.M1P1.h:2,S'), message('root'));
  const r = mailgit(['init', tree, '--layout', 'fs-root']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^Layout fs-root: INBOX in the root, Lists\/rust in Lists\/rust\//m);
  expect(mailgit(['-C', tree, 'deliver', '--folder', 'Work'], { input: message('w') }).code).toBe(0);
  expect(readdirSync(join(tree, 'Work', 'new'))).toHaveLength(1);
  const inboxChild = mailgit(['-C', tree, 'deliver', '--folder', 'INBOX/x'], { input: message('x') });
  expect(inboxChild.code).toBe(64);
});
