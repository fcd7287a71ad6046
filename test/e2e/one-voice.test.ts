/**
 * One change, the same words in every verb: mutt's `s =Archive` (a copy under a new name,
 * then a delete) is "1 moved to Archive" in status, commit, sync's out line, the other
 * replica's in line and log; a restore reads "restored" on both sides of a sync; `log
 * --message` tells both sides of a conflict and the decision, and takes a file name, a path
 * or a Message-ID as well as a key.
 */
import { describe, expect, test, vi } from 'vitest';
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { cloneReplica, findOnDisk, initReplica, mg, remove } from '../helpers/replica.js';

vi.setConfig({ testTimeout: 300_000 });

/** A replica with two messages in INBOX, committed, on a new hub; and a clone of it. */
function pair(): { a: string; b: string; keys: string[] } {
  const dir = tempDir('mailgit-voice-');
  const a = initReplica(join(dir, 'a'), 'desk');
  const keys = ['1700000000.M1P1.desk', '1700000001.M1P1.desk'];
  for (const [i, k] of keys.entries()) {
    writeFileSync(join(a, 'INBOX', 'cur', `${k}:2,S`), `From: x@example.org\nSubject: letter ${i}\nMessage-ID: <m${i}@example.org>\n\nbody ${i}\n`);
  }
  mg(a, ['remote', 'add', 'hub', join(dir, 'hub.git'), '--create']);
  return { a, b: cloneReplica(join(dir, 'hub.git'), join(dir, 'b'), 'laptop'), keys };
}

/** Makes folder `name` as a client does, and records it. */
function folder(repo: string, name: string): void {
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(repo, name, sub), { recursive: true });
  mg(repo, ['commit']);
}

/** As mutt's save does: a copy under a new name in the other folder, then the original goes. */
function muttSave(repo: string, key: string, folder: string): void {
  const from = join(repo, findOnDisk(repo, key));
  writeFileSync(join(repo, folder, 'cur', '1700000099.M9P9.desk:2,S'), readFileSync(from));
  unlinkSync(from);
}

describe('one voice', () => {
  test('s =Archive is "1 moved to Archive" in status, commit, sync out, sync in and log', () => {
    const { a, b, keys } = pair();
    folder(a, 'Archive');
    mg(a, ['sync']);
    mg(b, ['sync']);
    muttSave(a, keys[0]!, 'Archive');
    const said = ['Archive: 1 moved in from INBOX', 'INBOX: 1 moved to Archive'];
    expect(mg(a, ['status']).stdout).toContain(said.map((l) => `  ${l}\n`).join(''));
    expect(mailgit(['-C', a, 'commit', '-v']).stdout).toContain(said.map((l) => `  ${l}\n`).join(''));
    expect(mg(a, ['sync', '-v']).stdout).toContain(said.map((l) => `  out  ${l}\n`).join(''));
    expect(mg(b, ['sync', '-v']).stdout).toContain(said.map((l) => `  in   ${l}\n`).join(''));
    expect(mg(b, ['log', '-n', '1']).stdout).toContain(said.map((l) => `    ${l}\n`).join(''));
    const json = JSON.parse(mg(b, ['log', '-n', '1', '--json']).stdout) as { lines: string[] }[];
    expect(json[0]!.lines).toEqual(said);
  });

  test('a restore is "restored" in the restoring sync and in the other replica’s', () => {
    const { a, b, keys } = pair();
    remove(a, keys[1]!);
    mg(a, ['sync']);
    mg(b, ['sync']);
    expect(mg(a, ['restore', keys[1]!]).stdout).toContain('INBOX: 1 restored');
    expect(mg(a, ['sync', '-v']).stdout).toMatch(/^ {2}out {2}INBOX: 1 restored$/m);
    expect(mg(b, ['sync', '-v']).stdout).toMatch(/^ {2}in {3}INBOX: 1 restored$/m);
  });

  test('log --message tells both sides of a conflict and the decision, by key, file name, path or Message-ID', () => {
    const { a, b, keys } = pair();
    const k = keys[0]!;
    folder(a, 'Archive');
    mg(a, ['sync']);
    mg(b, ['sync']);
    // Each moves it somewhere else, not knowing about the other: the merge picks one.
    renameSync(join(a, findOnDisk(a, k)), join(a, 'Archive', 'cur', `${k}:2,S`));
    mg(a, ['sync']);
    folder(b, 'Lists');
    renameSync(join(b, findOnDisk(b, k)), join(b, 'Lists', 'cur', `${k}:2,S`));
    mg(b, ['commit']);
    mg(b, ['sync']);
    const story = mg(b, ['log', '--message', k]).stdout;
    const entries = story.split('\n').filter((l) => /^[0-9a-f]{10} /.test(l));
    expect(story).toMatch(/^1700000000\.M1P1\.desk: letter 0 — x@example\.org\n/);
    expect(entries.map((l) => l.replace(/^\S+ \S+ \S+ /, ''))).toEqual(['desk', 'desk', 'laptop', 'laptop: merged origin']);
    expect(story).toMatch(/ desk\n {4}Archive: 1 moved in from INBOX\n {4}INBOX: 1 moved to Archive\n/);
    expect(story).toMatch(/ laptop\n {4}INBOX: 1 moved to Lists\n {4}Lists: 1 moved in from INBOX\n/);
    expect(story).toMatch(/ laptop: merged origin\n {4}conflict: INBOX\/cur\/1700000000\.M1P1\.desk: .*Archive.*Lists/);
    const names = [`${k}:2,S`, `INBOX/cur/${k}:2,S`, '<m0@example.org>', 'm0@example.org'];
    for (const n of names) expect(mg(b, ['log', '--message', n]).stdout, n).toBe(story);
    const unknown = mailgit(['-C', b, 'log', '--message', '<nobody@example.org>']);
    expect([unknown.code, unknown.stderr]).toEqual([66, expect.stringMatching(/^mailgit: no message "<nobody@example.org>"/)]);
  });

  test('log --folder Lists takes Lists/rust too; --since and --until bound it; an unknown folder is 66', () => {
    const { a } = pair();
    folder(a, 'Lists/rust');
    const first = gitOut(a, ['rev-parse', 'HEAD']).trim();
    writeFileSync(join(a, 'Lists', 'rust', 'new', '1700000005.M1P1.desk'), 'Subject: crate\n\nnews\n');
    mg(a, ['commit', '-m', 'rust news']);
    const lists = mg(a, ['log', '--folder', 'Lists']).stdout;
    expect(lists).toMatch(/^[0-9a-f]{10} .* desk: rust news\n {4}Lists\/rust: 1 delivered\n/);
    expect(lists).toMatch(/^ {4}Lists\/rust: 1 folder created$/m);
    const since = mg(a, ['log', '--since', first]).stdout;
    expect(since.match(/^[0-9a-f]{10} /gm)).toHaveLength(1);
    const until = mg(a, ['log', '--until', first]).stdout;
    expect(until).not.toContain('rust news');
    expect(mg(a, ['log', '--since', '1 hour ago']).stdout).toContain('rust news');
    expect(mg(a, ['log', '--until', '2001-01-01']).stdout).toBe('no history\n');
    const none = mailgit(['-C', a, 'log', '--folder', 'Nowhere']);
    expect([none.code, none.stderr]).toEqual([66, 'mailgit: no folder "Nowhere" in this repo\'s history\n']);
  });
});
