/**
 * `mailgit log` takes several messages as `git log` takes several paths: each story is
 * told once, in the order named, whether named as arguments or with `--message`; one
 * unknown name fails the whole run (66, one line) before anything is printed.
 */
import { expect, test } from 'vitest';
import { join } from 'node:path';
import { mailgit, tempDir } from '../helpers/cli.js';
import { dropMessage, initReplica, mg } from '../helpers/replica.js';

test('log tells the story of each message named, and refuses an unknown one whole', () => {
  const a = initReplica(join(tempDir(), 'a'), 'a');
  dropMessage(a, 'INBOX', '1700000001.M1P1.test', 'Subject: first\nMessage-ID: <1@test>\n\nx\n', 'S');
  dropMessage(a, 'INBOX', '1700000002.M2P1.test', 'Subject: second\nMessage-ID: <2@test>\n\ny\n');
  mg(a, ['commit']);
  const heads = (out: string) => out.split('\n').filter((l) => /^1700/.test(l));
  const both = mg(a, ['log', '1700000002.M2P1.test', '<1@test>']).stdout;
  expect(heads(both)).toEqual([expect.stringMatching(/^1700000002\.M2P1\.test: second/), expect.stringMatching(/^1700000001\.M1P1\.test: first/)]);
  expect(mg(a, ['log', '--message', '1700000002.M2P1.test', '<1@test>']).stdout).toBe(both);
  expect(mg(a, ['log', '--message', '1700000002.M2P1.test', '--message', '<1@test>']).stdout).toBe(both);
  // Named twice (by key and by Message-ID): told once.
  expect(heads(mg(a, ['log', '1700000001.M1P1.test', '<1@test>']).stdout)).toHaveLength(1);
  const json = JSON.parse(mg(a, ['log', '--json', '1700000001.M1P1.test', '1700000002.M2P1.test']).stdout) as { subject: string }[];
  expect(json.map((s) => s.subject)).toEqual(['first', 'second']);
  const bad = mailgit(['-C', a, 'log', '1700000001.M1P1.test', 'nosuch']);
  expect(bad.code).toBe(66);
  expect(bad.stdout).toBe('');
  expect(bad.stderr).toMatch(/^mailgit: no message "nosuch"[^\n]*\n$/);
});
