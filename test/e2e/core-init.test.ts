/**
 * `mailgit init`: a new repo, adopting `fs` and `maildir++` trees, refusing what is not
 * ours, `-C DIR`. Runs the built CLI against real git.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';

function trailers(dir: string, rev = 'HEAD'): { replica: string; clock: number } {
  const replica = gitOut(dir, ['log', '-1', '--format=%(trailers:key=Mailgit-Replica,valueonly)', rev]).trim();
  const clock = Number(gitOut(dir, ['log', '-1', '--format=%(trailers:key=Mailgit-Clock,valueonly)', rev]).trim());
  return { replica, clock };
}

function tracked(dir: string): string[] {
  return gitOut(dir, ['ls-tree', '-r', '--name-only', 'HEAD']).trim().split('\n').filter(Boolean).sort();
}

describe('mailgit init', () => {
  it('creates an empty mail repo with INBOX, ignore rules, byte-exact attributes and mode 0700', () => {
    const base = tempDir();
    const dir = join(base, 'mail');
    const r = mailgit(['init', dir, '--name', 'laptop']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Created mail repo .*mail \(replica laptop, layout fs\)/);
    for (const sub of ['cur', 'new', 'tmp']) expect(statSync(join(dir, 'INBOX', sub)).isDirectory()).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const ignore = readFileSync(join(dir, '.gitignore'), 'utf8').split('\n');
    for (const line of ['tmp/', 'dovecot-uidlist', 'dovecot.index*', '.notmuch/', '.mbsyncstate*', '.uidvalidity', '*.lock']) expect(ignore).toContain(line);
    expect(readFileSync(join(dir, '.gitattributes'), 'utf8')).toMatch(/^\* -text\b/);
    expect(gitOut(dir, ['check-attr', 'text', 'eol', '--', 'INBOX/cur/x:2,S'])).toMatch(/text: unset/);
    expect(gitOut(dir, ['config', 'core.autocrlf']).trim()).toBe('false');
    expect(tracked(dir)).toEqual(['.gitattributes', '.gitignore', '.mailgit/config.json', 'INBOX/maildirfolder']);
    // The clock is a hybrid logical clock: wall time in ms, and always above the parent's.
    const first = trailers(dir);
    expect(first.replica).toBe('laptop');
    expect(Math.abs(first.clock - Date.now())).toBeLessThan(600_000);
    writeFileSync(join(dir, 'INBOX', 'new', '1700000000.M1P1.host'), 'Subject: a\n\nbody\n');
    expect(mailgit(['commit'], { cwd: dir }).code).toBe(0);
    writeFileSync(join(dir, 'INBOX', 'new', '1700000001.M1P1.host'), 'Subject: b\n\nbody\n');
    expect(mailgit(['commit'], { cwd: join(dir, 'INBOX', 'cur') }).code).toBe(0); // from a subdirectory, like git
    const [second, third] = [trailers(dir, 'HEAD~1'), trailers(dir)];
    expect(second.replica).toBe('laptop');
    expect(second.clock).toBeGreaterThan(first.clock);
    expect(third.clock).toBeGreaterThan(second.clock);
  });

  it('adopts an existing fs tree: detects the layout and commits every message as it is', () => {
    const dir = tempDir();
    const files: Record<string, string> = {
      'INBOX/cur/1600000000.M1P1.a:2,S': 'Subject: one\r\n\r\nCRLF body\r\n',
      'INBOX/new/1600000001.M2P1.a': 'Subject: two\n\nLF body\n',
      'Lists/rust/cur/1600000002.M3P1.a:2,FS': 'Subject: three\n\n',
      'Archive/cur/1600000003.M4P1.a:2,': '',
    };
    for (const [p, c] of Object.entries(files)) {
      mkdirSync(join(dir, p, '..'), { recursive: true });
      writeFileSync(join(dir, p), c);
    }
    mkdirSync(join(dir, 'Archive', 'new'));
    mkdirSync(join(dir, 'INBOX', 'tmp'));
    writeFileSync(join(dir, 'INBOX', 'tmp', 'half-delivered'), 'x');
    writeFileSync(join(dir, 'INBOX', 'dovecot-uidlist'), '3 V1 N2\n');
    const r = mailgit(['init', dir, '--name', 'desk', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { layout: string; adopted: boolean; summary: string[] };
    expect(out.layout).toBe('fs');
    expect(out.adopted).toBe(true);
    expect(out.summary).toContain('INBOX: 2 delivered, 1 folder created');
    expect(out.summary).toContain('Lists/rust: 1 delivered, 1 folder created');
    const paths = tracked(dir);
    for (const p of Object.keys(files)) expect(paths).toContain(p);
    expect(paths.filter((p) => p.includes('tmp/') || p.includes('dovecot-uidlist'))).toEqual([]);
    for (const [p, c] of Object.entries(files)) expect(gitOut(dir, ['cat-file', 'blob', `HEAD:${p}`])).toBe(c);
    // Every folder is ready for a mail client.
    for (const f of ['INBOX', 'Lists/rust', 'Archive']) for (const sub of ['cur', 'new', 'tmp']) expect(existsSync(join(dir, f, sub))).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(mailgit(['status', '--json'], { cwd: dir }).stdout).toMatch(/"clean": true/);
  });

  it('adopts a maildir++ tree (root cur/new is INBOX, .Dotted folders)', () => {
    const dir = tempDir();
    for (const d of ['cur', 'new', 'tmp', '.Sent/cur', '.Sent/new', '.Lists.rust/cur']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'cur', '1600000000.M1P1.a:2,S'), 'a');
    writeFileSync(join(dir, '.Sent', 'cur', '1600000001.M1P1.a:2,S'), 'b');
    writeFileSync(join(dir, '.Lists.rust', 'cur', '1600000002.M1P1.a:2,'), 'c');
    writeFileSync(join(dir, 'dovecot-keywords'), '0 $Junk\n');
    const r = mailgit(['init', '--name', 'srv', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { layout: string; summary: string[] };
    expect(out.layout).toBe('maildir++');
    expect(out.summary).toContain('INBOX: 1 delivered');
    expect(out.summary).toContain('Lists/rust: 1 delivered, 1 folder created');
    expect(out.summary).toContain('Sent: 1 delivered, 1 folder created');
    const paths = tracked(dir);
    expect(paths).toContain('cur/1600000000.M1P1.a:2,S');
    expect(paths).toContain('.Lists.rust/cur/1600000002.M1P1.a:2,');
    expect(paths).toContain('dovecot-keywords');
    expect(JSON.parse(readFileSync(join(dir, '.mailgit', 'config.json'), 'utf8'))).toMatchObject({ layout: 'maildir++' });
  });

  it('refuses a git repository of something else, and creates nothing', () => {
    const dir = tempDir();
    gitOut(dir, ['init', '-q']);
    writeFileSync(join(dir, 'README'), 'code\n');
    const r = mailgit(['init', dir]);
    expect(r.code).toBe(73);
    expect(r.stderr).toMatch(/is a git repository of something else; refusing/);
    expect(readdirSync(dir).sort()).toEqual(['.git', 'README']);
    expect(gitOut(dir, ['rev-list', '--all']).trim()).toBe('');
  });

  it('refuses a non-empty directory that holds no Maildir, and creates nothing', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'photos'));
    writeFileSync(join(dir, 'photos', 'cat.jpg'), 'jpeg');
    writeFileSync(join(dir, 'notes.txt'), 'hi');
    const r = mailgit(['init'], { cwd: dir });
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/not empty and holds no Maildir/);
    expect(readdirSync(dir).sort()).toEqual(['notes.txt', 'photos']);
  });

  it('refuses to init a mail repo twice', () => {
    const dir = join(tempDir(), 'm');
    expect(mailgit(['init', dir]).code).toBe(0);
    const head = gitOut(dir, ['rev-parse', 'HEAD']);
    const r = mailgit(['init', dir]);
    expect(r.code).toBe(73);
    expect(r.stderr).toMatch(/already a mail repo/);
    expect(gitOut(dir, ['rev-parse', 'HEAD'])).toBe(head);
  });

  it('-C DIR works like git -C for init, commit, status and log', () => {
    const base = tempDir();
    expect(mailgit(['-C', base, 'init', 'repo', '--name', 'c']).code).toBe(0);
    const dir = join(base, 'repo');
    expect(existsSync(join(dir, '.mailgit', 'config.json'))).toBe(true);
    writeFileSync(join(dir, 'INBOX', 'new', '1700000000.M9P9.h'), 'x');
    const st = mailgit(['-C', dir, 'status', '--json'], { cwd: '/' });
    expect(st.code, st.stderr).toBe(0);
    expect(JSON.parse(st.stdout).folders).toEqual({ INBOX: { delivered: 1 } });
    const c = mailgit(['-C', dir, 'commit', '-v'], { cwd: '/' });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/INBOX: 1 delivered/);
    expect(mailgit(['-C', dir, 'log', '-n', '1'], { cwd: '/' }).stdout).toMatch(/INBOX: 1 delivered/);
  });
});
