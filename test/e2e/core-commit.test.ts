/**
 * `mailgit commit`, `status` and `log` on a real repo: every kind of change a mail
 * client makes, the per-folder commit message, and history in a person's words.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, renameSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';

let dir: string;

function commit(): { code: number; lines: string[]; body: string } {
  // -v: without a terminal, commit is silent (cron).
  const r = mailgit(['commit', '-v'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return {
    code: r.code,
    lines: r.stdout
      .split('\n')
      .slice(1)
      .map((l) => l.trim())
      .filter(Boolean),
    body: `${gitOut(dir, ['log', '-1', '--format=%B']).trimEnd()}\n`,
  };
}

function statusJson(): { clean: boolean; folders: Record<string, Record<string, number | Record<string, number>>> } {
  const r = mailgit(['status', '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

function head(): string {
  return gitOut(dir, ['rev-parse', 'HEAD']).trim();
}

function paths(): string[] {
  return gitOut(dir, ['ls-tree', '-r', '--name-only', 'HEAD']).trim().split('\n');
}

const p = (...parts: string[]) => join(dir, ...parts);
const KEY = '1700000000.M1P100.laptop';

describe('mailgit commit / status / log', () => {
  beforeAll(() => {
    dir = join(tempDir(), 'mail');
    expect(mailgit(['init', dir, '--name', 'laptop']).code).toBe(0);
    mkdirSync(p('Archive', 'cur'), { recursive: true });
    mkdirSync(p('Archive', 'new'));
    expect(mailgit(['commit'], { cwd: dir }).code).toBe(0);
  });

  it('records nothing when nothing changed (exit 0, no commit)', () => {
    const before = head();
    const r = mailgit(['commit'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(head()).toBe(before);
    expect(statusJson()).toMatchObject({ clean: true, folders: {} });
    expect(mailgit(['status'], { cwd: dir }).stdout).toMatch(/nothing to record/);
  });

  it('delivered: status and status --json agree with what commit then records', () => {
    writeFileSync(p('INBOX', 'new', KEY), 'Subject: hello\r\n\r\nCRLF\r\n');
    writeFileSync(p('INBOX', 'new', '1700000001.M2P100.laptop'), 'Subject: two\n\n');
    expect(statusJson().folders).toEqual({ INBOX: { delivered: 2 } });
    expect(mailgit(['status'], { cwd: dir }).stdout).toMatch(/^ {2}INBOX: 2 delivered$/m);
    const c = commit();
    expect(c.lines).toEqual(['INBOX: 2 delivered']);
    expect(c.body).toMatch(/^INBOX: 2 delivered\n\nINBOX: 2 delivered\n\nMailgit-Replica: laptop\nMailgit-Clock: \d+\n$/);
    expect(gitOut(dir, ['cat-file', 'blob', `HEAD:INBOX/new/${KEY}`])).toBe('Subject: hello\r\n\r\nCRLF\r\n');
    expect(statusJson().clean).toBe(true);
  });

  it('new → cur and flag renames (read, flagged, keywords) keep the blob', () => {
    const blob = gitOut(dir, ['rev-parse', `HEAD:INBOX/new/${KEY}`]).trim();
    renameSync(p('INBOX', 'new', KEY), p('INBOX', 'cur', `${KEY}:2,`));
    expect(commit().lines).toEqual(['INBOX: 1 no longer new']);
    renameSync(p('INBOX', 'cur', `${KEY}:2,`), p('INBOX', 'cur', `${KEY}:2,S`));
    expect(statusJson().folders).toEqual({ INBOX: { read: 1 } });
    expect(commit().lines).toEqual(['INBOX: 1 marked read']);
    renameSync(p('INBOX', 'cur', `${KEY}:2,S`), p('INBOX', 'cur', `${KEY}:2,FSa`));
    const c = commit();
    expect(c.lines).toEqual(['INBOX: 1 flagged, 1 keyword a set']);
    expect(gitOut(dir, ['rev-parse', `HEAD:INBOX/cur/${KEY}:2,FSa`]).trim()).toBe(blob);
    expect(paths().filter((x) => x.includes(KEY))).toEqual([`INBOX/cur/${KEY}:2,FSa`]);
  });

  it('a move between folders keeping the key', () => {
    renameSync(p('INBOX', 'cur', `${KEY}:2,FSa`), p('Archive', 'cur', `${KEY}:2,FSa`));
    expect(statusJson().folders).toEqual({ Archive: { moved_from: { INBOX: 1 } }, INBOX: { moved_to: { Archive: 1 } } });
    const c = commit();
    expect(c.lines).toEqual(['Archive: 1 moved in from INBOX', 'INBOX: 1 moved to Archive']);
    expect(c.body).toMatch(/^record: 2 folders changed\n\nArchive: 1 moved in from INBOX\nINBOX: 1 moved to Archive\n/);
  });

  it('copy + delete under a new name (same blob) is reported as a move', () => {
    const blob = gitOut(dir, ['rev-parse', `HEAD:Archive/cur/${KEY}:2,FSa`]).trim();
    copyFileSync(p('Archive', 'cur', `${KEY}:2,FSa`), p('INBOX', 'cur', '1700000099.M7P7.laptop:2,S'));
    rmSync(p('Archive', 'cur', `${KEY}:2,FSa`));
    const c = commit();
    expect(c.lines).toEqual(['Archive: 1 moved to INBOX', 'INBOX: 1 moved in from Archive']);
    expect(gitOut(dir, ['rev-parse', 'HEAD:INBOX/cur/1700000099.M7P7.laptop:2,S']).trim()).toBe(blob);
  });

  it('a deletion', () => {
    rmSync(p('INBOX', 'new', '1700000001.M2P100.laptop'));
    expect(commit().lines).toEqual(['INBOX: 1 deleted']);
    expect(paths().some((x) => x.includes('1700000001.M2P100'))).toBe(false);
  });

  it('a new empty folder and a removed folder', () => {
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(p('Lists', 'rust', sub), { recursive: true });
    expect(statusJson().folders).toEqual({ 'Lists/rust': { folder_created: 1 } });
    expect(commit().lines).toEqual(['Lists/rust: 1 folder created']);
    expect(paths()).toContain('Lists/rust/maildirfolder');
    rmSync(p('Lists'), { recursive: true });
    expect(commit().lines).toEqual(['Lists/rust: 1 folder removed']);
    expect(paths().some((x) => x.startsWith('Lists/'))).toBe(false);
  });

  it('ignores tmp/ and client caches', () => {
    const before = head();
    writeFileSync(p('INBOX', 'tmp', '1700000200.M1P1.x'), 'half');
    writeFileSync(p('INBOX', 'dovecot-uidlist'), '3 V1\n');
    writeFileSync(p('INBOX', 'dovecot.index.cache'), 'x');
    mkdirSync(p('.notmuch'));
    writeFileSync(p('.notmuch', 'db'), 'x');
    expect(statusJson().clean).toBe(true);
    mailgit(['commit'], { cwd: dir });
    expect(head()).toBe(before);
  });

  it('log, log --folder and log --message KEY --json tell the story', () => {
    const log = mailgit(['log'], { cwd: dir });
    expect(log.code, log.stderr).toBe(0);
    expect(log.stdout).toMatch(/^[0-9a-f]{10} \d{4}-\d\d-\d\d \d\d:\d\d laptop\n {4}INBOX: 1 deleted/m);
    expect(log.stdout).toMatch(/Archive: 1 moved in from INBOX/);

    const folder = mailgit(['log', '--folder', 'Archive'], { cwd: dir }).stdout;
    expect(folder).toMatch(/Archive: 1 moved to INBOX/);
    expect(folder).not.toMatch(/INBOX: /);

    const story = mailgit(['log', '--message', KEY, '--json'], { cwd: dir });
    expect(story.code, story.stderr).toBe(0);
    const [message] = JSON.parse(story.stdout) as {
      key: string;
      subject: string;
      from: string;
      entries: { replica: string; clock: number; changedAt: string; lines: string[] }[];
    }[];
    expect(message).toMatchObject({ key: KEY, subject: expect.anything() });
    const entries = message!.entries;
    expect(entries.every((e) => Math.abs(Date.parse(e.changedAt) - e.clock) === 0)).toBe(true);
    expect(entries.map((e) => e.lines)).toEqual([
      ['INBOX: 1 delivered'],
      ['INBOX: 1 no longer new'],
      ['INBOX: 1 marked read'],
      ['INBOX: 1 flagged, 1 keyword a set'],
      ['Archive: 1 moved in from INBOX', 'INBOX: 1 moved to Archive'],
      ['Archive: 1 moved to INBOX', 'INBOX: 1 moved in from Archive'],
    ]);
    expect(entries.every((e) => e.replica === 'laptop')).toBe(true);
    const clocks = entries.map((e) => e.clock);
    expect([...clocks].sort((a, b) => a - b)).toEqual(clocks);
    expect(new Set(clocks).size).toBe(clocks.length);
  });
});
