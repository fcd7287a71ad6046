/**
 * Story 3: Thunderbird, a phone or webmail through a local Dovecot serving the repo
 * (`mail_location = maildir:<repo>:LAYOUT=fs:INBOX=<repo>/INBOX`); imapflow plays the
 * IMAP client. \Seen, \Flagged, MOVE and EXPUNGE reach history; Dovecot's own files
 * (dovecot-uidlist, dovecot.index*, dovecot.list.index*) never do; after a sync, replica
 * B served by its own Dovecot shows its IMAP client the same state.
 *
 * As root, Dovecot accesses mail as the `mail` user (uid 8), so mailgit runs as that user
 * too — as it would on a real machine, where the mail's owner runs both.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { startDovecot } from '../helpers/dovecot.js';
import type { Dovecot } from '../helpers/dovecot.js';
import { parseSummary, putMessages, run as runAs } from './clients-helpers.js';

const haveDovecot = spawnSync('sh', ['-c', 'command -v dovecot && command -v doveadm']).status === 0;
const isRoot = process.getuid?.() === 0;
const owner = isRoot ? { uid: 8, gid: 8 } : {};

function chownTree(p: string): void {
  if (!isRoot) return;
  spawnSync('chown', ['-R', '8:8', p]);
}

/** Runs mailgit as the mail owner. */
function mg(args: string[], home: string): { code: number; stdout: string; stderr: string } {
  return runAs(args, { ...owner, env: { HOME: home } });
}

function git(repo: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd: repo, encoding: 'utf8', ...owner, env: { ...process.env, HOME: repo } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Dovecot's LAYOUT=fs lists every directory as a mailbox, `.git` and `.mailgit` too: a
 * global ACL without the lookup right hides them (docs/clients.md has the same lines).
 */
async function serve(repo: string): Promise<Dovecot> {
  const acl = join(repo, '..', `dovecot-acl-${repo.split('/').pop()}`);
  writeFileSync(acl, '.git* -owner lr\n.mailgit* -owner lr\n');
  return startDovecot({
    mailLocation: `maildir:${repo}:LAYOUT=fs:INBOX=${repo}/INBOX`,
    extraConfig: `mail_plugins = $mail_plugins acl\nplugin {\n  acl = vfile:${acl}\n}\n`,
  });
}

interface FolderState {
  count: number;
  flags: Record<string, string[]>;
}

/** Subject → sorted flags of every message in a folder, as the IMAP client sees it. */
async function imapState(dc: Dovecot, folder: string): Promise<FolderState> {
  const c = await dc.connect();
  try {
    const lock = await c.getMailboxLock(folder);
    try {
      const flags: Record<string, string[]> = {};
      let count = 0;
      if ((c.mailbox && typeof c.mailbox === 'object' ? c.mailbox.exists : 0) > 0) {
        for await (const m of c.fetch('1:*', { envelope: true, flags: true })) {
          count++;
          flags[m.envelope?.subject ?? '?'] = [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort();
        }
      }
      return { count, flags };
    } finally {
      lock.release();
    }
  } finally {
    await c.logout().catch(() => undefined);
  }
}

describe.skipIf(!haveDovecot)(`story 3: Dovecot serving the repo${haveDovecot ? '' : ' (skipped: dovecot not installed)'}`, () => {
  it('IMAP \\Seen, \\Flagged, MOVE, EXPUNGE are recorded; Dovecot files never; replica B sees the same state over IMAP', async () => {
    const dir = tempDir();
    if (isRoot) chownSync(dir, 8, 8);
    const a = join(dir, 'A');
    const b = join(dir, 'B');
    const hub = join(dir, 'hub.git');
    putMessages(a, 'INBOX', 5, { sub: 'cur', info: ':2,' });
    for (const s of ['cur', 'new', 'tmp']) mkdirSync(join(a, 'Archive', s), { recursive: true });
    chownTree(a);
    expect(mg(['init', a, '--name', 'server'], dir).code).toBe(0);
    git(dir, ['init', '-q', '--bare', hub]);
    git(a, ['remote', 'add', 'hub', hub]);
    expect(mg(['-C', a, 'sync', 'hub'], dir).stderr).toBe('');

    let dcA: Dovecot | null = null;
    let dcB: Dovecot | null = null;
    try {
      dcA = await serve(a);
      const c = await dcA.connect();
      try {
        const list = (await c.list()).map((f) => f.path).sort();
        expect(list).toEqual(['Archive', 'INBOX']);
        const lock = await c.getMailboxLock('INBOX');
        try {
          const bySubject = new Map<string, number>();
          for await (const m of c.fetch('1:*', { envelope: true, uid: true })) bySubject.set(m.envelope!.subject!, m.uid);
          expect(bySubject.size).toBe(5);
          await c.messageFlagsAdd(String(bySubject.get('INBOX 0')), ['\\Seen'], { uid: true });
          await c.messageFlagsAdd(String(bySubject.get('INBOX 1')), ['\\Flagged'], { uid: true });
          await c.messageMove(String(bySubject.get('INBOX 2')), 'Archive', { uid: true });
          await c.messageDelete(String(bySubject.get('INBOX 3')), { uid: true }); // \Deleted + UID EXPUNGE
        } finally {
          lock.release();
        }
      } finally {
        await c.logout();
      }

      const r = mg(['-C', a, 'commit', '--json'], dir);
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as { summary: string[]; folders: unknown };
      expect(parseSummary(out.summary)).toEqual({
        Archive: { 'moved in from INBOX': 1 },
        INBOX: { 'marked read': 1, flagged: 1, 'moved to Archive': 1, deleted: 1 },
      });
      // The same change under the machine keys of --json (docs/json.md).
      expect(out.folders).toEqual({ Archive: { moved_from: { INBOX: 1 } }, INBOX: { read: 1, flagged: 1, deleted: 1, moved_to: { Archive: 1 } } });

      // Dovecot's files are on disk, never in history.
      expect(existsSync(join(a, 'INBOX', 'dovecot-uidlist'))).toBe(true);
      const tree = git(a, ['ls-tree', '-r', '--name-only', 'HEAD']).split('\n').filter(Boolean);
      expect(tree.filter((p) => /dovecot/.test(p) && !p.endsWith('/dovecot-keywords'))).toEqual([]);
      expect(tree.filter((p) => !/^(INBOX|Archive)\/((cur|new)\/|maildirfolder$)|^\.mailgit\/|^\.git(ignore|attributes)$/.test(p))).toEqual([]);
      expect((JSON.parse(mg(['-C', a, 'status', '--json'], dir).stdout) as { clean: boolean }).clean).toBe(true);

      // Replica B, served by its own Dovecot, sees the same state.
      expect(mg(['-C', a, 'sync', 'hub'], dir).code).toBe(0);
      expect(mg(['clone', hub, b, '--name', 'laptop'], dir).code).toBe(0);
      dcB = await serve(b);
      const stateA = { inbox: await imapState(dcA, 'INBOX'), archive: await imapState(dcA, 'Archive') };
      const stateB = { inbox: await imapState(dcB, 'INBOX'), archive: await imapState(dcB, 'Archive') };
      expect(stateA.inbox).toEqual({ count: 3, flags: { 'INBOX 0': ['\\Seen'], 'INBOX 1': ['\\Flagged'], 'INBOX 4': [] } });
      expect(stateA.archive.count).toBe(1);
      expect(stateB).toEqual(stateA);

      // And back: B's client answers and reads one; after B → hub → A, A's client sees it.
      const cb = await dcB.connect();
      try {
        const lock = await cb.getMailboxLock('INBOX');
        try {
          const uids = (await cb.search({ header: { subject: 'INBOX 4' } }, { uid: true })) || [];
          await cb.messageFlagsAdd(uids.join(','), ['\\Seen', '\\Answered'], { uid: true });
        } finally {
          lock.release();
        }
      } finally {
        await cb.logout();
      }
      expect(mg(['-C', b, 'sync'], dir).code).toBe(0);
      expect(mg(['-C', a, 'sync', 'hub'], dir).code).toBe(0);
      expect((await imapState(dcA, 'INBOX')).flags['INBOX 4']).toEqual(['\\Answered', '\\Seen']);
      const treeB = git(b, ['ls-tree', '-r', '--name-only', 'HEAD']).split('\n');
      expect(treeB.filter((p) => /dovecot/.test(p))).toEqual([]);
    } catch (e) {
      const { readFileSync } = await import('node:fs');
      for (const dc of [dcA, dcB]) if (dc) console.error(readFileSync(dc.logFile, 'utf8').split('\n').slice(-30).join('\n'));
      throw e;
    } finally {
      await dcA?.stop();
      await dcB?.stop();
    }
  }, 300_000);
});
