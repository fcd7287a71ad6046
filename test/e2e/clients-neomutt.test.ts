/**
 * Story 1: a neomutt user. neomutt (the Debian package) runs in a tmux pane on the repo's
 * INBOX: the user reads one message, flags one, deletes one, saves one to =Archive and
 * syncs the mailbox; `mailgit commit` then records exactly that.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { parseSummary, run, sleep } from './clients-helpers.js';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missing = ['neomutt', 'tmux'].filter((c) => !have(c));

describe.skipIf(missing.length > 0)(`story 1: neomutt through tmux${missing.length ? ` (skipped: ${missing.join(', ')} not installed)` : ''}`, () => {
  it('read, flag, delete, save to another folder → one commit that says exactly that', async () => {
    const dir = tempDir();
    const repo = join(dir, 'Mail');
    for (const f of ['INBOX', 'Archive']) for (const s of ['cur', 'new', 'tmp']) mkdirSync(join(repo, f, s), { recursive: true });
    // 1 unread (to read), 2 read (to flag), 3 unread (to delete), 4 read (to save), 5 unread (untouched).
    const info = ['', ':2,', ':2,S', ':2,', ':2,S', ':2,'];
    for (let i = 1; i <= 5; i++) {
      const date = new Date(Date.UTC(2024, 0, i)).toUTCString().replace('GMT', '+0000');
      writeFileSync(
        join(repo, 'INBOX', 'cur', `170000000${i}.M${i}P1Q1.host${info[i]}`),
        `From: sender${i}@example.org\nTo: me@example.org\nSubject: story message ${i}\nDate: ${date}\nMessage-ID: <story${i}@example.org>\n\nBody of message ${i}.\n`,
      );
    }
    const init = run(['init', repo, '--name', 'desk']);
    expect(init.code, init.stderr).toBe(0);
    const muttrc = join(dir, 'muttrc');
    writeFileSync(
      muttrc,
      [
        'set mbox_type=Maildir',
        `set folder="${repo}"`,
        'set spoolfile=+INBOX',
        'set record=""',
        'set postponed=""',
        'set header_cache=""',
        'set mark_old=no',
        'set move=no',
        'set confirmappend=no',
        'set confirmcreate=no',
        'set delete=yes',
        'set quit=yes',
        'set wait_key=no',
        'set maildir_trash=no',
        'set help=no',
        'set beep=no',
        'set sleep_time=0',
        'set sort=date-sent',
        'set index_format="%4C %Z %s"',
        '',
      ].join('\n'),
    );

    const sock = `mailgit-neomutt-${process.pid}`;
    const tmux = (...args: string[]) => spawnSync('tmux', ['-L', sock, ...args], { encoding: 'utf8' });
    const screen = () => tmux('capture-pane', '-t', 'mutt', '-p').stdout ?? '';
    const waitFor = async (re: RegExp, what: string, ms = 15_000) => {
      const deadline = Date.now() + ms;
      while (!re.test(screen())) {
        if (Date.now() > deadline) throw new Error(`neomutt: no ${what} within ${ms} ms; screen:\n${screen()}`);
        await sleep(100);
      }
    };
    const keys = (...k: string[]) => tmux('send-keys', '-t', 'mutt', ...k);
    const env = { ...process.env, HOME: dir, TERM: 'xterm' };
    const started = spawnSync(
      'tmux',
      ['-L', sock, '-f', '/dev/null', 'new-session', '-d', '-s', 'mutt', '-x', '200', '-y', '50', `neomutt -n -F '${muttrc}' -f '${repo}/INBOX'`],
      { env },
    );
    expect(started.status).toBe(0);
    try {
      await waitFor(/Msgs:5/, 'index of 5 messages');
      keys('1', 'Enter'); // jump to message 1
      keys('Enter'); // open it
      await waitFor(/Body of message 1\./, 'pager showing message 1');
      keys('q');
      await waitFor(/Msgs:5 New:2/, 'index after reading (2 unread left)');
      keys('2', 'Enter');
      keys('F');
      await waitFor(/Flag:1/, 'message 2 flagged');
      keys('3', 'Enter');
      keys('d');
      await waitFor(/Del:1/, 'message 3 marked deleted');
      keys('4', 'Enter');
      keys('s');
      await waitFor(/Save to mailbox/, 'save prompt');
      keys('C-u');
      keys('-l', '=Archive');
      keys('Enter');
      await waitFor(/Del:2/, 'message 4 saved (and marked deleted)');
      keys('$');
      await waitFor(/Msgs:3/, 'mailbox synced (3 messages left)');
      keys('q');
      const deadline = Date.now() + 10_000;
      while (tmux('has-session', '-t', 'mutt').status === 0 && Date.now() < deadline) await sleep(100);
    } finally {
      tmux('kill-server');
    }

    expect(readdirSync(join(repo, 'Archive', 'cur')).length + readdirSync(join(repo, 'Archive', 'new')).length).toBe(1);
    const r = run(['-C', repo, 'commit', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { commit: string; summary: string[]; folders: unknown };
    expect(parseSummary(out.summary)).toEqual({
      Archive: { 'moved in from INBOX': 1 },
      INBOX: { 'marked read': 1, flagged: 1, deleted: 1, 'moved to Archive': 1 },
    });
    // The same change under the machine keys of --json (docs/json.md).
    expect(out.folders).toEqual({ Archive: { moved_from: { INBOX: 1 } }, INBOX: { read: 1, flagged: 1, deleted: 1, moved_to: { Archive: 1 } } });
    const st = JSON.parse(run(['-C', repo, 'status', '--json']).stdout) as { clean: boolean };
    expect(st.clean).toBe(true);
  }, 300_000);
});
