/**
 * A message edited in place — other bytes under the same name, which Maildir clients never
 * do but an editor or a script may — is a change other replicas must get: `status` names
 * it, `commit` records it, a sync carries it. Three ways to edit: writing into the file
 * (its directory does not change), writing a copy and renaming it over the file (`sed -i`,
 * most editors: the directory changes), and writing into it while another message of the
 * folder changes flags.
 */
import { readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { addRemote, bareHub, cloneReplica, dropMessage, expectDiskIsHead, initReplica, mg } from '../helpers/replica.js';
import { skewEnv } from '../torture/lib.js';

const KEYS = ['1700000001.M1P1.test', '1700000002.M2P1.test', '1700000003.M3P1.test', '1700000004.M4P1.test'];
const cur = (repo: string, i: number, flags = 'S') => join(repo, 'INBOX', 'cur', `${KEYS[i]}:2,${flags}`);

/** Replica a with the four messages (subjects `${subject}0`…), synced through a hub, and b cloned from it. */
function pair(subject: string): { dir: string; a: string; b: string } {
  const dir = tempDir();
  const a = initReplica(join(dir, 'a'), 'a');
  for (const [i, k] of KEYS.entries()) dropMessage(a, 'INBOX', k, `Subject: ${subject}${i}\n\nbody ${i}\n`, 'S');
  addRemote(a, 'hub', bareHub(join(dir, 'hub.git')));
  mg(a, ['sync']);
  return { dir, a, b: cloneReplica(join(dir, 'hub.git'), join(dir, 'b'), 'b') };
}

test('an edit in place is reported by status, recorded by commit, and reaches the other replica', () => {
  const { a, b } = pair('m');

  // Written into the file: INBOX/cur's own stamp does not move.
  writeFileSync(cur(a, 0), 'Subject: m0\n\nbody 0, edited\n');
  expect(mg(a, ['status']).stdout).toContain('  INBOX: 1 edited in place\n');
  expect(JSON.parse(mg(a, ['status', '--json']).stdout)).toMatchObject({ clean: false, folders: { INBOX: { edited: 1 } } });
  expect(mg(a, ['commit', '-v']).stdout).toContain('INBOX: 1 edited in place');
  expect(mg(a, ['status']).stdout).toContain('nothing to record');

  // A copy renamed over the file, as `sed -i` does: found by commit alone.
  writeFileSync(join(a, 'INBOX', 'tmp', 'edit'), 'Subject: m1\n\nbody 1, edited\n');
  renameSync(join(a, 'INBOX', 'tmp', 'edit'), cur(a, 1));
  expect(mg(a, ['commit', '-v']).stdout).toContain('INBOX: 1 edited in place');

  // Written into the file with no status first: found when its folder changes again.
  writeFileSync(cur(a, 2), 'Subject: m2\n\nbody 2, edited\n');
  renameSync(cur(a, 3), cur(a, 3, 'FS'));
  expect(mg(a, ['commit', '-v']).stdout).toMatch(/INBOX: (1 edited in place, 1 flagged|1 flagged, 1 edited in place)/);

  mg(a, ['sync']);
  const synced = mg(b, ['sync', '-v']).stdout;
  expect(synced).toContain('3 edited in place');
  for (const i of [0, 1, 2]) expect(readFileSync(cur(b, i), 'utf8')).toBe(`Subject: m${i}\n\nbody ${i}, edited\n`);
  expect(mg(b, ['status']).stdout).toContain('nothing to record');
  expect(mg(b, ['check']).code).toBe(0);
  expect(mg(a, ['check']).code).toBe(0);
});

test('a record audits a step of a big folder at a time, and a whole cycle finds an edit anywhere', () => {
  const a = initReplica(join(tempDir(), 'a'), 'a');
  const names = Array.from({ length: 6 }, (_, i) => `170000001${i}.M${i}P1.test`);
  for (const [i, k] of names.entries()) dropMessage(a, 'INBOX', k, `Subject: c${i}\n\nbody ${i}\n`, 'S');
  mg(a, ['commit']);
  // The last name of the folder, written into: only the cycle's last step looks at it.
  writeFileSync(join(a, 'INBOX', 'cur', `${names[5]}:2,S`), 'Subject: c5\n\nbody 5, edited\n');
  const step = { MAILGIT_AUDIT_STEP: '2' };
  const said: string[] = [];
  for (const i of [0, 1, 2, 3]) {
    renameSync(join(a, 'INBOX', 'cur', `${names[i]}:2,S`), join(a, 'INBOX', 'cur', `${names[i]}:2,FS`));
    said.push(mg(a, ['commit', '-v'], step).stdout);
  }
  expect(said[0]).not.toContain('edited in place');
  expect(said.filter((s) => s.includes('INBOX: 1 edited in place, 1 flagged') || s.includes('INBOX: 1 flagged, 1 edited in place'))).toHaveLength(1);
  expect(mg(a, ['check']).code).toBe(0);
});

test('a replica whose clock runs hours ahead of its file system still finds the edit (audit times are the file system’s)', () => {
  const a = join(tempDir(), 'a');
  const ahead = skewEnv(4 * 3600_000);
  expect(mailgit(['init', a, '--name', 'a'], { env: ahead }).code).toBe(0);
  dropMessage(a, 'INBOX', KEYS[0]!, 'Subject: s\n\nbody\n', 'S');
  dropMessage(a, 'INBOX', KEYS[1]!, 'Subject: t\n\nbody\n', 'S');
  mg(a, ['commit'], ahead);
  writeFileSync(cur(a, 0), 'Subject: s\n\nbody, edited\n');
  renameSync(cur(a, 1), cur(a, 1, 'FS'));
  expect(mg(a, ['commit', '-v'], ahead).stdout).toMatch(/INBOX: (1 edited in place, 1 flagged|1 flagged, 1 edited in place)/);
});

test('an edit not recorded yet survives a sync that renames or replaces the message', () => {
  const { a, b } = pair('r');
  mg(b, ['commit']);
  // b writes into two messages and records neither (its INBOX/cur does not change).
  writeFileSync(cur(b, 0), 'Subject: r0\n\nbody 0, edited on b\n');
  writeFileSync(cur(b, 1), 'Subject: r1\n\nbody 1, edited on b\n');
  // a flags the first (b's sync renames it) and edits the second (b's sync replaces it).
  renameSync(cur(a, 0), cur(a, 0, 'FS'));
  writeFileSync(join(a, 'INBOX', 'tmp', 'e'), 'Subject: r1\n\nbody 1, edited on a\n');
  renameSync(join(a, 'INBOX', 'tmp', 'e'), cur(a, 1));
  mg(a, ['sync']);
  // b's sync records its edit before the apply would replace the file: two edits of one
  // message, both kept (an edit made while the sync applies: test/e2e/apply-race.test.ts).
  const said = mg(b, ['sync', '-v']).stdout;
  expect(said).toContain('INBOX/cur/1700000002.M2P1.test: different messages with the same key here and on a; kept both');
  expect(said).not.toContain('kept the edit as');
  mg(a, ['sync']);
  for (const repo of [a, b]) {
    const texts = readdirSync(join(repo, 'INBOX', 'cur')).map((n) => readFileSync(join(repo, 'INBOX', 'cur', n), 'utf8'));
    expect(texts, repo).toEqual(
      expect.arrayContaining(['Subject: r0\n\nbody 0, edited on b\n', 'Subject: r1\n\nbody 1, edited on a\n', 'Subject: r1\n\nbody 1, edited on b\n']),
    );
    expect(readFileSync(cur(repo, 0, 'FS'), 'utf8')).toBe('Subject: r0\n\nbody 0, edited on b\n');
  }
});

test('an edit and then a flag change of the same message, before one record, record the new bytes', () => {
  const a = initReplica(join(tempDir(), 'a'), 'a');
  dropMessage(a, 'INBOX', KEYS[0]!, 'Subject: f\n\nbody\n', 'S');
  mg(a, ['commit']);
  writeFileSync(cur(a, 0), 'Subject: f\n\nbody, edited\n');
  renameSync(cur(a, 0), cur(a, 0, 'FS'));
  expect(mg(a, ['commit', '-v']).stdout).toContain('INBOX: 1 flagged, 1 edited in place');
  expect(mg(a, ['check']).code).toBe(0);
});

/** Replaces message `i` of `repo` by a copy with other bytes renamed over it, as `sed -i` does (its copy beside the file). */
function renameOver(repo: string, i: number, text: string): void {
  writeFileSync(join(repo, 'INBOX', 'cur', '.sedEdit'), text);
  renameSync(join(repo, 'INBOX', 'cur', '.sedEdit'), cur(repo, i));
}

test('an edit made after a clone and before its first record is recorded by that record (a clone starts the audit)', () => {
  const { b } = pair('n');
  renameOver(b, 0, 'Subject: n0\n\nbody 0, edited after the clone\n');
  writeFileSync(cur(b, 1), 'Subject: n1\n\nbody 1, written into after the clone\n');
  expect(mg(b, ['commit', '-v']).stdout).toContain('INBOX: 2 edited in place');
  expect(mg(b, ['status']).stdout).toContain('nothing to record');
  expect(mg(b, ['check']).code).toBe(0);
});

test('in a plain git clone, which has no audit yet, the first record takes every message for a suspect', () => {
  const { dir } = pair('p');
  const p = join(dir, 'p');
  gitOut(dir, ['clone', '-q', join(dir, 'hub.git'), p]);
  renameOver(p, 2, 'Subject: p2\n\nbody 2, edited in a plain clone\n');
  expect(mg(p, ['commit', '-v']).stdout).toContain('INBOX: 1 edited in place');
  expect(mg(p, ['check']).code).toBe(0);
});

test('an edit in a folder a sync just brought is recorded by the next record', () => {
  const { a, b } = pair('q');
  dropMessage(a, 'Lists', KEYS[0]!, 'Subject: q\n\nbody\n', 'S');
  mg(a, ['sync']);
  mg(b, ['sync']);
  const path = join(b, 'Lists', 'cur', `${KEYS[0]}:2,S`);
  writeFileSync(join(b, 'Lists', 'tmp', 'edit'), 'Subject: q\n\nbody, edited\n');
  renameSync(join(b, 'Lists', 'tmp', 'edit'), path);
  expect(mg(b, ['commit', '-v']).stdout).toContain('Lists: 1 edited in place');
  expect(mg(b, ['check']).code).toBe(0);
});

test('an edit not recorded yet is recorded before a sync writes over it or removes it, and merged as the edit it is', () => {
  const { a, b } = pair('u');
  // b edits message 0 and records it, then writes into it again and into message 1,
  // recording neither (its INBOX/cur does not change: only an audit would see them).
  renameOver(b, 0, 'Subject: u0\n\nbody 0, edited on b and recorded\n');
  mg(b, ['commit']);
  writeFileSync(cur(b, 0), 'Subject: u0\n\nbody 0, edited on b again\n');
  writeFileSync(cur(b, 1), 'Subject: u1\n\nbody 1, edited on b\n');
  // a edits message 0 (b's sync would replace it) and expunges message 1 (b's would remove it).
  renameOver(a, 0, 'Subject: u0\n\nbody 0, edited on a\n');
  unlinkSync(cur(a, 1));
  mg(a, ['sync']);
  mg(b, ['sync']);
  mg(a, ['sync']);
  for (const repo of [a, b]) {
    const texts = readdirSync(join(repo, 'INBOX', 'cur')).map((n) => readFileSync(join(repo, 'INBOX', 'cur', n), 'utf8'));
    // Two concurrent edits of message 0 (both kept), an edit of message 1 against its
    // deletion (the edit wins); the version b replaced before it synced is gone.
    expect(texts.sort(), repo).toEqual(
      [
        'Subject: u0\n\nbody 0, edited on a\n',
        'Subject: u0\n\nbody 0, edited on b again\n',
        'Subject: u1\n\nbody 1, edited on b\n',
        'Subject: u2\n\nbody 2\n',
        'Subject: u3\n\nbody 3\n',
      ].sort(),
    );
    expectDiskIsHead(repo);
    expect(mg(repo, ['check']).code).toBe(0);
  }
});

test('an undo that removes a message never unlinks an edit in place no record has seen: the edit stays and is recorded', () => {
  const a = initReplica(join(tempDir(), 'a'), 'a');
  dropMessage(a, 'INBOX', KEYS[0]!, 'Subject: v0\n\nbody 0\n', 'S');
  mg(a, ['commit']);
  dropMessage(a, 'INBOX', KEYS[1]!, 'Subject: v1\n\nbody 1\n', 'S');
  mg(a, ['commit']);
  // Written into the file, its INBOX/cur unchanged: the record before the undo does not see it.
  writeFileSync(cur(a, 1), 'Subject: v1\n\nbody 1, edited and not recorded\n');
  const undo = mg(a, ['undo', 'HEAD']);
  expect(undo.code).toBe(0);
  expect(undo.stderr).toContain(`INBOX/cur/${KEYS[1]}:2,S: deleted on this replica but edited here and not recorded yet; kept the edit`);
  expect(readFileSync(cur(a, 1), 'utf8')).toBe('Subject: v1\n\nbody 1, edited and not recorded\n');
  mg(a, ['commit']);
  expect(gitOut(a, ['show', `HEAD:INBOX/cur/${KEYS[1]}:2,S`])).toBe('Subject: v1\n\nbody 1, edited and not recorded\n');
  expectDiskIsHead(a);
  expect(mg(a, ['check']).code).toBe(0);
});
