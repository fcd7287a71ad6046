/**
 * The command line as a user meets it: usage errors are one line and exit 64, help is made
 * from the command table, and options reach the verbs (`-C`, lists, `--dry-run`, `--no-tls`).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { addRemote, arrive, bareHub, initReplica } from '../helpers/replica.js';

const VERSION = (JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;

describe('usage errors: one line on stderr, exit 64, no stack trace', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown option', ['commit', '--bogus'], /unknown option --bogus/],
    ['unknown option before the verb', ['--bogus', 'status'], /unknown option --bogus/],
    ['missing positional', ['clone'], /missing argument SRC/],
    ['missing required option', ['account', 'add', 'work', '--user', 'me'], /option --host is required/],
    ['no verb', [], /name a command/],
    ['no sub-verb', ['account'], /name an account sub-command: add, list, remove, password-command, trust/],
    ['unknown verb, with a suggestion', ['comit'], /unknown command "comit" \(did you mean "commit"\?\)/],
    ['swapped letters in a verb', ['snyc'], /unknown command "snyc" \(did you mean "sync"\?\)/],
    ['unknown option, with a suggestion', ['sync', '--dryrun'], /unknown option --dryrun \(did you mean --dry-run\?\)/],
    ['a switch and its negation', ['account', 'add', 'w', '--host', 'h', '--user', 'u', '--tls', '--no-tls'], /options --tls and --no-tls contradict/],
    [
      'options that exclude each other',
      ['account', 'add', 'w', '--host', 'h', '--user', 'u', '--tls', '--starttls'],
      /--tls and --starttls cannot be used together/,
    ],
    ['a port out of range', ['account', 'add', 'w', '--host', 'h', '--user', 'u', '--port', '99999'], /--port wants a number from 1 to 65535, got 99999/],
    ['a count that is not whole', ['log', '-n', '2.5'], /-n wants a whole number/],
    ['an option given twice', ['commit', '-m', 'a', '-m', 'b'], /option -m given twice/],
    ['help for an unknown verb', ['help', 'snyc'], /unknown command "snyc" \(did you mean "sync"\?\)/],
    ['unknown sub-verb', ['account', 'ad', 'x'], /unknown command "account ad"/],
    ['extra positional', ['status', 'extra'], /unexpected argument "extra"/],
    ['bad number', ['log', '-n', 'ten'], /-n wants a number, got "ten"/],
    ['option without its value', ['deliver', '--folder'], /option --folder needs a value/],
    ['-C without its value', ['-C'], /option -C needs a value/],
    ['list option without values', ['fetch', '--folder'], /option --folder needs a value/],
    ['value not among the choices', ['init', '--layout', 'mbox'], /--layout wants one of fs, fs-root, maildir\+\+, mbsync-legacy, got "mbox"/],
    ['boolean given a value', ['commit', '--json=yes'], /option --json takes no value/],
  ];
  it.each(cases)('%s', (_what, args, message) => {
    const r = mailgit(args, { cwd: tempDir() });
    expect(r.code, r.stderr).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^mailgit: [^\n]*\n$/);
  });
});

describe('help and version', () => {
  it('--version prints the version in package.json', () => {
    const r = mailgit(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${VERSION}\n`);
  });

  const literal = (s: string) => s.replace(/[()?*+.[\]]/g, '\\$&');

  it('--help, -h and help list every verb with its description, and the global options', () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = mailgit(args);
      expect(r.code, r.stderr).toBe(0);
      for (const v of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  mailgit ${v.name}\\b.* {2}${literal(v.description)}$`, 'm'));
      expect(r.stdout).toMatch(/^ {2}-C +run as if started in DIR/m);
    }
    const account = mailgit(['help', 'account']);
    for (const v of COMMANDS.find((c) => c.name === 'account')!.verbs!) expect(account.stdout).toMatch(new RegExp(`^  mailgit account ${v.name}\\b`, 'm'));
  });

  it('help VERB shows what VERB --help shows: examples and exit statuses', () => {
    const r = mailgit(['help', 'fetch']);
    expect(r.code, r.stderr).toBe(0);
    expect(mailgit(['fetch', '--help']).stdout).toBe(r.stdout);
    expect(r.stdout).toMatch(/^Examples:\n {2}mailgit fetch/m);
    expect(r.stdout).toMatch(/^ {2}77 {2}wrong password$/m);
  });

  it("a verb's --help shows its arguments and options, even when a required one is missing", () => {
    const sync = mailgit(['sync', '--help']);
    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(/^usage: mailgit sync \[REMOTES\.\.\.\] \[OPTIONS\]$/m);
    expect(sync.stdout).toMatch(/^ {2}-n, --dry-run +show what would come in/m);
    const add = mailgit(['account', 'add', '-h']);
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/--host +IMAP server \(required\)/);
    expect(add.stdout).toMatch(/--exclude +folders not to fetch \(patterns\) \(repeatable\)/);
    expect(mailgit(['watch', '--help']).stdout).toMatch(/--interval +seconds between full checks .*\(default 300\)/);
  });
});

describe('options reach the verbs', () => {
  it('-C DIR works before and after the verb, and as -CDIR', () => {
    const dir = initReplica(join(tempDir(), 'm'), 'here');
    const elsewhere = tempDir();
    for (const args of [
      ['-C', dir, 'status', '--json'],
      ['status', '-C', dir, '--json'],
      [`-C${dir}`, '--json', 'status'],
    ]) {
      const r = mailgit(args, { cwd: elsewhere });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ replica: 'here' });
    }
    expect(mailgit(['status'], { cwd: elsewhere }).code).toBe(66);
  });

  it('list options take the following words and may be repeated; --no-tls negates a default', () => {
    const dir = initReplica(join(tempDir(), 'm'), 'here');
    const add = ['account', 'add', 'work', '--host', '127.0.0.1', '--port', '1143', '--no-tls', '--user', 'me'];
    const lists = ['--folder', 'INBOX', 'Lists/*', '--exclude', 'Junk', '--exclude', 'Trash', 'Spam', '--map', 'Sent Items=Sent', '--map', 'a=b=c'];
    const r = mailgit(['-C', dir, ...add, ...lists]);
    expect(r.code, r.stderr).toBe(0);
    const [account] = JSON.parse(mailgit(['-C', dir, 'account', 'list', '--json']).stdout) as Record<string, unknown>[];
    expect(account).toMatchObject({
      name: 'work',
      port: 1143,
      security: 'none',
      folders: ['INBOX', 'Lists/*'],
      exclude: ['Junk', 'Trash', 'Spam'],
      map: { 'Sent Items': 'Sent', 'a=b': 'c' },
    });
  });

  it('--dry-run (and -n) reach sync: nothing is recorded or pushed; without it, both happen', () => {
    const base = tempDir();
    const a = initReplica(join(base, 'a'), 'a');
    const hub = bareHub(join(base, 'hub.git'));
    addRemote(a, 'hub', hub);
    arrive(a, 'hello');
    const head = gitOut(a, ['rev-parse', 'HEAD']);
    for (const flag of ['--dry-run', '-n']) {
      const r = mailgit(['-C', a, 'sync', flag, 'hub']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/hub: would sync/);
      expect(gitOut(a, ['rev-parse', 'HEAD'])).toBe(head);
      expect(spawnSync('git', ['-C', hub, 'rev-parse', '--verify', '-q', 'refs/heads/main']).status).not.toBe(0);
    }
    const r = mailgit(['-C', a, 'sync', 'hub']);
    expect(r.code, r.stderr).toBe(0);
    expect(gitOut(a, ['rev-parse', 'HEAD'])).not.toBe(head);
    expect(gitOut(hub, ['rev-parse', 'refs/heads/main'])).toBe(gitOut(a, ['rev-parse', 'HEAD']));
  });

  it('-m and -n: short aliases and numbers', () => {
    const dir = initReplica(join(tempDir(), 'm'), 'here');
    arrive(dir, 'one');
    expect(mailgit(['-C', dir, 'commit', '-m', 'first by hand']).code).toBe(0);
    expect(gitOut(dir, ['log', '-1', '--format=%s'])).toBe('first by hand\n');
    const entries = JSON.parse(mailgit(['-C', dir, 'log', '-n', '1', '--json']).stdout) as unknown[];
    expect(entries).toHaveLength(1);
  });
});
