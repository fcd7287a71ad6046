/**
 * How git's transport complaints are classified (src/sync/transport.ts), on stderr that
 * git 2.39 printed in the situations named (the end-to-end cases are in
 * test/e2e/sync-remote-errors.test.ts; a connection cut mid-pack is hard to stage there).
 */
import { describe, expect, test } from 'vitest';
import { GitError } from '../../src/git/run.js';
import { transportError } from '../../src/sync/transport.js';
import { MailgitError } from '../../src/util/errors.js';

const fail = (stderr: string) => new GitError(['fetch'], stderr, 128);

describe('transportError', () => {
  const cases: [string, string, number, RegExp][] = [
    [
      'a connection cut in the middle of the pack',
      'fatal: the remote end hung up unexpectedly\nfatal: early EOF\nfatal: index-pack failed\n',
      69,
      /unreachable/,
    ],
    [
      'a pack that does not match its index',
      'error: packfile ./objects/pack/pack-4c.pack does not match index\nfatal: git upload-pack: not our ref aa5ebd2f\n',
      65,
      /damaged \(packfile .* does not match index\)/,
    ],
    [
      'a missing object',
      'remote: fatal: unable to read 29bc0c8b0a9035369daf0860364c4dffb6507eb0\nremote: aborting due to possible repository corruption on the remote side.\nfatal: protocol error: bad pack header\n',
      65,
      /damaged \(unable to read 29bc0c8b/,
    ],
    [
      'a repository another user owns',
      "fatal: detected dubious ownership in repository at '/srv/hub.git'\nfatal: Could not read from remote repository.\n",
      77,
      /belongs to another user.*safe\.directory/,
    ],
    ['a refused key', 'user@host: Permission denied (publickey).\nfatal: Could not read from remote repository.\n', 77, /Permission denied/],
    [
      'a closed port',
      'ssh: connect to host 127.0.0.1 port 1: Connection refused\nfatal: Could not read from remote repository.\n',
      69,
      /unreachable: ssh: connect to host .*Connection refused.*check its URL/,
    ],
  ];
  for (const [what, stderr, code, text] of cases) {
    test(what, () => {
      const e = transportError(fail(stderr), 'hub');
      expect(e).toBeInstanceOf(MailgitError);
      expect((e as MailgitError).exitCode).toBe(code);
      expect((e as MailgitError).message).toMatch(/^remote hub\b/);
      expect((e as MailgitError).message).toMatch(text);
    });
  }
  test('anything else stays a git error', () => {
    const e = fail('fatal: something new\n');
    expect(transportError(e, 'hub')).toBe(e);
  });
});
