/**
 * What a newcomer meets in the first hour, through a real shell: each mistake is one line
 * on stderr with its sysexits status (never "internal error"), nothing half-made is left
 * behind, cron gets silence, and bash completes verbs and options.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, gitOut, tempDir } from '../helpers/cli.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { arrive, bareHub, initReplica } from '../helpers/replica.js';
import { startSshd, sshdUnavailable, type Sshd } from '../helpers/sshd.js';

/** Runs a command line in bash, as a person types it, with `mailgit` on PATH. */
function sh(line: string, opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const bin = tempDir('mailgit-bin-');
  writeFileSync(join(bin, 'mailgit'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  const r = spawnSync('bash', ['-c', line], {
    cwd: opts.cwd ?? tempDir(),
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...opts.env },
    encoding: 'utf8',
  });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** A private Maildir of `n` messages in INBOX/cur, enough for an adopt to stream them. */
function maildir(dir: string, n: number): void {
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, 'INBOX', sub), { recursive: true, mode: 0o700 });
  for (let i = 0; i < n; i++) {
    writeFileSync(join(dir, 'INBOX', 'cur', `${1_700_000_000 + i}.M${i}P1.test:2,S`), `Subject: ${i}\nMessage-ID: <${i}@example.org>\n\nbody ${i}\n`, {
      mode: 0o600,
    });
  }
}

/** The run failed with exactly one line on stderr, the given status, and no "internal error". */
function oneLine(r: { code: number; stdout: string; stderr: string }, code: number, message: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(/^mailgit: [^\n]*\n$/);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|Warning/);
}

describe('errors a newcomer meets', () => {
  it('mailgit init FILE: 73, the file untouched', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    oneLine(sh('mailgit init notes.txt', { cwd: dir }), 73, /notes\.txt is a file: init wants a directory/);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('clone of a git repo that is not a mail repo: 65, and no directory left behind', () => {
    const base = tempDir();
    gitOut(base, ['init', '-q', '-b', 'master', 'code']);
    gitOut(join(base, 'code'), [
      '-c',
      'core.hooksPath=/dev/null',
      '-c',
      'user.name=a',
      '-c',
      'user.email=a@example.org',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'x',
    ]);
    oneLine(sh('mailgit clone code mail', { cwd: base }), 65, /code is not a mail repo \(it has no main branch\); nothing was cloned/);
    gitOut(base, ['init', '-q', '-b', 'main', 'notes']);
    writeFileSync(join(base, 'notes', 'a.txt'), 'a\n');
    gitOut(join(base, 'notes'), ['add', 'a.txt']);
    gitOut(join(base, 'notes'), ['-c', 'core.hooksPath=/dev/null', '-c', 'user.name=a', '-c', 'user.email=a@example.org', 'commit', '-q', '-m', 'x']);
    oneLine(sh('mailgit clone notes mail', { cwd: base }), 65, /notes is a git repo but not a mail repo \(no \.mailgit\/config\.json\); nothing was cloned/);
    expect(readdirSync(base).sort()).toEqual(['code', 'notes']);
  });

  it('-C /nonexistent: "no such directory", 66', () => {
    oneLine(sh('mailgit -C /nonexistent/mail status'), 66, /^mailgit: -C \/nonexistent\/mail: no such directory$/m);
    oneLine(sh('mailgit -C /nonexistent/mail clone x'), 66, /no such directory/);
  });

  it.skipIf(process.geteuid?.() !== 0)('a repo another user owns: 77, saying how to declare it', () => {
    const dir = initReplica(join(tempDir(), 'm'), 'here');
    spawnSync('chown', ['-R', 'nobody', dir]);
    for (const verb of ['status', 'log', 'commit']) {
      oneLine(sh(`mailgit -C ${dir} ${verb}`), 77, /belongs to uid \d+, not to you: .*git config --global --add safe\.directory /);
    }
    chownSync(dir, 0, 0);
  });
});

describe.skipIf(sshdUnavailable() !== null)('ssh to a host whose key is not known', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  }, 60_000);
  afterAll(async () => {
    await sshd?.stop();
  });

  it('clone and sync: 69, saying how to accept the key; nothing left behind', () => {
    const base = tempDir();
    const hub = bareHub(join(base, 'hub.git'));
    const a = initReplica(join(base, 'a'), 'a');
    arrive(a, 'hello');
    gitOut(a, ['remote', 'add', 'hub', sshd.url(hub)]);
    const known = join(base, 'known_hosts');
    writeFileSync(known, '');
    // As under cron: no terminal to ask on, strict checking, an empty known_hosts.
    const env = { GIT_SSH_COMMAND: `ssh -i ${sshd.key} -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${known}` };
    const accept = new RegExp(`ssh host key of \\[127\\.0\\.0\\.1\\]:${sshd.port} is not known here; connect once with "ssh -p ${sshd.port} 127\\.0\\.0\\.1"`);
    oneLine(sh(`mailgit clone ${sshd.url(hub)} laptop`, { cwd: base, env }), 69, accept);
    expect(existsSync(join(base, 'laptop'))).toBe(false);
    oneLine(sh(`mailgit -C ${a} sync hub`, { env }), 69, accept);
  });
});

describe('TLS against a plaintext IMAP port on an IP address', () => {
  let dc: Dovecot;
  beforeAll(async () => {
    dc = await startDovecot();
  }, 60_000);
  afterAll(async () => {
    await dc?.stop();
  });

  it('one line suggesting --starttls or --no-tls, 69, and no Node warning', () => {
    const dir = initReplica(join(tempDir(), 'm'), 'here');
    const add = sh(`mailgit -C ${dir} account add work --host 127.0.0.1 --port ${dc.port} --user ${dc.user}`);
    expect(add.code, add.stderr).toBe(0);
    const r = sh(`mailgit -C ${dir} fetch work`, { env: { MAILGIT_PASSWORD_WORK: dc.password } });
    oneLine(r, 69, new RegExp(`127\\.0\\.0\\.1:${dc.port} does not speak TLS .*--starttls.*--no-tls`));
  }, 60_000);
});

describe('cron, scripts and shells', () => {
  it('commit is silent without a terminal, and says what it recorded with -v', () => {
    const dir = initReplica(join(tempDir(), 'm'), 'here');
    arrive(dir, 'one');
    const quiet = sh(`mailgit -C ${dir} commit`);
    expect(quiet).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(sh(`mailgit -C ${dir} commit -v`).stdout).toBe('nothing to record\n');
    arrive(dir, 'two');
    expect(sh(`mailgit -C ${dir} commit -v`).stdout).toMatch(/^\[main [0-9a-f]{10}\]\n {2}INBOX: 1 delivered\n$/);
  });

  it('--progress forces the bars of an adopt and a clone; without a terminal there are none', () => {
    const base = tempDir();
    maildir(join(base, 'quiet'), 250);
    expect(sh('mailgit init quiet', { cwd: base }).stderr).toBe('');
    maildir(join(base, 'mail'), 250);
    const adopt = sh('mailgit init mail --progress', { cwd: base });
    expect(adopt.code, adopt.stderr).toBe(0);
    expect(adopt.stderr).toMatch(/^adopt \[.*\] (\d{3})\/\1 msgs/m);
    const clone = sh('mailgit clone mail laptop --progress', { cwd: base });
    expect(clone.code, clone.stderr).toBe(0);
    expect(clone.stderr).toMatch(/^clone: receiving objects \[.*\] (\d{3})\/\1 objects/m);
    expect(sh('mailgit clone mail laptop2', { cwd: base }).stderr).toBe('');
  });

  it('--progress forces the bars of a first sync (push, fetch, apply); cron and an everyday sync draw none', () => {
    const base = tempDir();
    maildir(join(base, 'mail'), 250);
    expect(sh('mailgit init mail && git init -q --bare -b main hub.git && mailgit -C mail remote add hub "$PWD/hub.git"', { cwd: base }).code).toBe(0);
    const push = sh('mailgit -C mail sync --progress', { cwd: base });
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toMatch(/^sync hub: writing objects \[.*\] (\d{3})\/\1 objects/m);
    expect(sh('mailgit init laptop && mailgit -C laptop remote add hub "$PWD/hub.git"', { cwd: base }).code).toBe(0);
    const pull = sh('mailgit -C laptop sync --progress', { cwd: base });
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stderr).toMatch(/^sync hub: receiving objects \[.*\] (\d{3})\/\1 objects/m);
    expect(pull.stderr).toMatch(/^sync: apply from hub \[.*\] 250\/250 files/m);
    // What the apply wrote is not read again by the record after it.
    expect(pull.stderr).not.toMatch(/sync: record/);
    arrive(join(base, 'laptop'), 'one more');
    expect(sh('mailgit -C laptop sync --progress', { cwd: base }).stderr).not.toMatch(/\[.*\]/);
    arrive(join(base, 'laptop'), 'and another');
    expect(sh('mailgit -C laptop sync', { cwd: base })).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('mailgit completion: bash completes verbs, sub-verbs and options', () => {
    const complete = (words: string) =>
      sh(
        `source <(mailgit completion); COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _mailgit_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`,
      );
    expect(complete('mailgit sy').stdout.split('\n')).toContain('sync');
    expect(complete('mailgit account a').stdout.split('\n')).toContain('add');
    expect(complete('mailgit sync --dr').stdout.split('\n')).toContain('--dry-run');
  });

  it.skipIf(spawnSync('zsh', ['--version']).status !== 0)('mailgit completion under zsh: a compdef script zsh parses, completions with descriptions', () => {
    const dir = tempDir();
    const script = sh('mailgit completion > mailgit.zsh && zsh -n mailgit.zsh && head -1 mailgit.zsh', { cwd: dir, env: { SHELL: '/bin/zsh' } });
    expect(script.code, script.stderr).toBe(0);
    expect(script.stdout).toBe('#compdef mailgit\n');
    const words = sh('mailgit --get-yargs-completions mailgit sy', { env: { SHELL: '/bin/zsh' } }).stdout.split('\n');
    expect(words).toContain('sync:record local changes, then fetch, merge, apply and push with each remote');
  });
});
