/**
 * Account definitions are synced; the password is not. A definition changed on another
 * replica must not make this machine send its password to a new server.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mailgit, tempDir } from '../helpers/cli.js';

describe('account trust', () => {
  it('refuses to send the password to a server another replica put in the definition, until trusted here', () => {
    const base = tempDir();
    const repo = join(base, 'r');
    const marker = join(base, 'password-command-ran');
    expect(mailgit(['init', repo, '--name', 'here']).code).toBe(0);
    const passCmd = `sh -c "touch ${marker}; echo s3cret-pw"`;
    const add = mailgit([
      '-C',
      repo,
      'account',
      'add',
      'work',
      '--host',
      '127.0.0.1',
      '--port',
      '1',
      '--no-tls',
      '--user',
      'me',
      '--password-command',
      passCmd,
    ]);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);

    // The pinned server is unreachable: the password command runs, fetch exits 69.
    const first = mailgit(['-C', repo, 'fetch', 'work']);
    expect(first.code).toBe(69);
    expect(existsSync(marker)).toBe(true);

    // "Another replica" changes the host (as a sync would bring it), and it is committed.
    const def = join(repo, '.mailgit/accounts/work.json');
    const changed = JSON.parse(readFileSync(def, 'utf8'));
    changed.host = '127.0.0.2';
    writeFileSync(def, `${JSON.stringify(changed, null, 2)}\n`);
    expect(mailgit(['-C', repo, 'commit']).code).toBe(0);
    rmSync(marker);

    const refused = mailgit(['-C', repo, 'fetch', 'work']);
    expect(refused.code).toBe(78);
    expect(refused.stderr).toMatch(/server settings changed.*host "127\.0\.0\.1" -> "127\.0\.0\.2".*no password was sent/);
    expect(refused.stderr).not.toContain('s3cret-pw');
    expect(existsSync(marker)).toBe(false);

    expect(mailgit(['-C', repo, 'account', 'trust', 'work']).code).toBe(0);
    const trusted = mailgit(['-C', repo, 'fetch', 'work']);
    expect(trusted.code).toBe(69);
    expect(existsSync(marker)).toBe(true);
    // The pin is per machine: it never enters history.
    expect(readFileSync(join(repo, '.git/mailgit/accounts/work.json'), 'utf8')).toContain('127.0.0.2');
  });
});
