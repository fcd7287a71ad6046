import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mailgit } from '../helpers/cli.js';

describe('mailgit demo', () => {
  it('tells the two-replica story and ends with identical replicas', () => {
    const r = mailgit(['demo']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('both replicas hold the same mail: yes');
    // The laptop read two messages, the desktop flagged one of them: both flags survive.
    expect(r.stdout).toMatch(/INBOX\/cur on the laptop: 1700000001\.M1P1\.demo:2,FS {2}1700000002\.M2P1\.demo:2,S/);
    // The digest was deleted on the laptop and flagged on the desktop afterwards: one
    // decision, for the later change (the flag), saying who did what when.
    expect(r.stdout).toMatch(
      /conflict: .*1700000003\.M3P1\.demo: deleted .*\(by laptop, .* UTC\) and re-flagged .*\(by desktop, .* UTC\); kept it: the change .* is later/,
    );
    expect(r.stdout).toMatch(/INBOX\/cur on the laptop: .*1700000003\.M3P1\.demo:2,F/);
    // The archived photos moved, the new mail arrived.
    expect(r.stdout).toMatch(/Archive\/cur on the laptop: 1700000004\.M4P1\.demo:2,S/);
    expect(r.stdout).toMatch(/INBOX\/new on the laptop: 1700000005\.M5P1\.demo/);
    expect(r.stdout).toMatch(/laptop +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC +INBOX: 2 marked read, 1 deleted/);
    // The epilogue: a message deleted by mistake is listed with its subject, restored, and synced back.
    expect(r.stdout).toContain('laptop deleted "Re: release notes" (bob@example.org) from INBOX');
    expect(r.stdout).not.toContain('deleted "Weekly digest"');
    expect(r.stdout).toContain('INBOX: 1 restored');
    expect(r.stdout).toContain('"Re: release notes" is back on both replicas: yes');
    // Without --keep, its files are removed, and it says how to keep them.
    const base = /^The demo's files: (\S+) /m.exec(r.stdout)?.[1];
    expect(r.stdout).toContain(`The demo's files in ${base} are removed; "mailgit demo --keep" keeps them`);
    expect(existsSync(base!)).toBe(false);
  });
});

describe('mailgit demo --keep', () => {
  it('says where its files are, keeps them, and they are working replicas', () => {
    const r = mailgit(['demo', '--keep']);
    expect(r.code, r.stderr).toBe(0);
    const base = /^The demo's files: (\S+) \(two replicas/m.exec(r.stdout)?.[1];
    expect(base).toBeDefined();
    expect(r.stdout).toContain(`The demo's files stay in ${base}: desktop/ and laptop/ are replicas`);
    const status = mailgit(['-C', join(base!, 'laptop'), 'status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ replica: 'laptop', clean: true });
    rmSync(base!, { recursive: true, force: true });
  });
});
