/**
 * A mail client's rename while a sync applies (issue 10, item 10): the client's change and
 * the peer's change to the same message are merged per flag, three-way (base: the name in
 * HEAD before the apply; ours: the client's name now; theirs: the name the merged tree
 * wants), or what could not be merged is reported; never is either side dropped without a
 * word. The race is made real twice: through the apply's file-system seam at the moment
 * after the record and before the first write, and through the CLI with a git
 * reference-transaction hook that renames the file when `sync` moves the branch, between
 * the apply's journal and its first change to the Maildir.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, test, vi } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import {
  addRemote,
  arrive,
  bareHub,
  cloneReplica,
  expectDiskIsHead,
  findOnDisk,
  initReplica,
  messagesAt,
  mg,
  msg,
  remove,
  setFlags,
} from '../helpers/replica.js';
import { hookedFs } from '../helpers/faultyFs.js';
import { applyCommit } from '../../src/repo/apply.js';
import { record } from '../../src/repo/record.js';
import { withLockedRepo } from '../helpers/locked.js';

vi.setConfig({ testTimeout: 300_000 });

interface Pair {
  root: string;
  a: string;
  b: string;
  key: string;
}

/** Two replicas sharing one message `key`, seen (`:2,S`) on both. */
function pair(): Pair {
  const root = tempDir('mailgit-race-');
  const hub = bareHub(join(root, 'hub.git'));
  const a = initReplica(join(root, 'a'), 'a');
  const key = arrive(a, 'shared');
  arrive(a, 'other');
  setFlags(a, key, 'S');
  addRemote(a, 'hub', hub);
  mg(a, ['sync']);
  return { root, a, b: cloneReplica(hub, join(root, 'b'), 'b'), key };
}

/** Applies origin/main to `b` in-process with `client` run just before the apply's first step, then records, as sync does. */
async function applyWithClient(b: string, client: () => void): Promise<string[]> {
  gitOut(b, ['fetch', '-q', 'origin', '+refs/heads/main:refs/remotes/origin/main']);
  const from = gitOut(b, ['rev-parse', 'HEAD']).trim();
  const to = gitOut(b, ['rev-parse', 'refs/remotes/origin/main']).trim();
  let raced = false;
  const fs = hookedFs(() => {
    if (!raced) client();
    raced = true;
  });
  const { notes } = await withLockedRepo(b, async (repo) => {
    const applied = await applyCommit(repo, { from, to, fs, origin: 'origin' });
    await record(repo, { message: 'record changes made during sync' });
    return applied;
  });
  expectDiskIsHead(b);
  return notes;
}

function flagsIn(repo: string, key: string): string {
  return msg(repo, key).flags;
}

describe("a client's rename while the sync applies", () => {
  test('peer flags F, client adds R at the same moment: both flags kept, on both replicas', async () => {
    const { a, b, key } = pair();
    setFlags(a, key, 'FS');
    mg(a, ['sync']);
    const notes = await applyWithClient(b, () => setFlags(b, key, 'RS'));
    expect(notes).toEqual([]);
    expect(flagsIn(b, key)).toBe('FRS');
    mg(b, ['sync']);
    mg(a, ['sync']);
    expect(flagsIn(a, key)).toBe('FRS');
    expectDiskIsHead(a);
  });

  test('peer flags F, client clears S: the merge of both (F) on both replicas', async () => {
    const { a, b, key } = pair();
    setFlags(a, key, 'FS');
    mg(a, ['sync']);
    await applyWithClient(b, () => setFlags(b, key, ''));
    expect(flagsIn(b, key)).toBe('F');
    mg(b, ['sync']);
    mg(a, ['sync']);
    expect(flagsIn(a, key)).toBe('F');
  });

  test('peer moves it to Archive, client flags it: it lands in Archive with the flag', async () => {
    const { a, b, key } = pair();
    const p = findOnDisk(a, key);
    mkdirSync(join(a, 'Archive/cur'), { recursive: true });
    mkdirSync(join(a, 'Archive/new'), { recursive: true });
    mkdirSync(join(a, 'Archive/tmp'), { recursive: true });
    renameSync(join(a, p), join(a, 'Archive/cur', p.slice(p.lastIndexOf('/') + 1)));
    mg(a, ['sync']);
    await applyWithClient(b, () => setFlags(b, key, 'FS'));
    expect(msg(b, key)).toMatchObject({ folder: 'Archive', flags: 'FS' });
    expect(messagesAt(b).get(key)).toHaveLength(1);
  });

  test('peer flags it, client deletes it meanwhile: the deletion stays, and a note says the flag was not applied', async () => {
    const { a, b, key } = pair();
    setFlags(a, key, 'FS');
    mg(a, ['sync']);
    const notes = await applyWithClient(b, () => remove(b, key));
    expect(messagesAt(b).has(key)).toBe(false);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(new RegExp(`${key}: changed on origin .*flags "FS".* moved or deleted here while the sync applied it`));
  });

  test('peer deletes it, client flags it meanwhile: kept, and a note says so', async () => {
    const { a, b, key } = pair();
    remove(a, key);
    mg(a, ['sync']);
    const notes = await applyWithClient(b, () => setFlags(b, key, 'FS'));
    expect(flagsIn(b, key)).toBe('FS');
    expect(notes).toEqual([`INBOX/${key}: deleted on origin but changed here while the sync applied it; kept it`]);
  });

  test('peer edits it, client writes into it meanwhile (after the sync looked for edits): the edit is kept under KEY.edited-…, with a note', async () => {
    const { a, b, key } = pair();
    const p = findOnDisk(a, key);
    writeFileSync(join(a, 'INBOX/tmp/edit'), 'Subject: shared\n\nedited on a\n');
    renameSync(join(a, 'INBOX/tmp/edit'), join(a, p));
    mg(a, ['sync']);
    const notes = await applyWithClient(b, () => writeFileSync(join(b, p), 'Subject: shared\n\nedited on b\n'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      new RegExp(`${p}: edited here and not recorded yet when origin's version replaced it; kept the edit as INBOX/cur/${key}\\.edited-[0-9a-f]{8}:2,S`),
    );
    expect(readFileSync(join(b, p), 'utf8')).toBe('Subject: shared\n\nedited on a\n');
    const copy = [...messagesAt(b).keys()].filter((k) => k.startsWith(`${key}.edited-`));
    expect(copy).toHaveLength(1);
    expect(readFileSync(join(b, findOnDisk(b, copy[0]!)), 'utf8')).toBe('Subject: shared\n\nedited on b\n');
  });

  test("through the CLI: a rename made while `mailgit sync` moves the branch is merged with the peer's flag change", () => {
    const { root, a, b, key } = pair();
    setFlags(a, key, 'FS');
    mg(a, ['sync']);
    // mailgit runs its git without hooks, so the client's rename rides on a `git` shim on
    // PATH that does it when the apply moves the branch (journal written, update-ref).
    const bin = join(root, 'bin');
    mkdirSync(bin);
    const from = `INBOX/cur/${key}:2,S`;
    const git = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    const script = [
      '#!/bin/sh',
      '# A mail client renames the message at the moment sync applies (journal written, branch moving).',
      `if [ "$PWD" = "${b}" ] && [ -f .git/mailgit/apply.json ] && [ ! -f .git/raced ]; then`,
      `  case " $* " in *" update-ref "*) touch .git/raced; mv "${from}" "INBOX/cur/${key}:2,RS" ;; esac`,
      'fi',
      `exec ${git} "$@"`,
      '',
    ].join('\n');
    writeFileSync(join(bin, 'git'), script);
    chmodSync(join(bin, 'git'), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const r = mailgit(['-C', b, 'sync'], { cwd: b, env });
    expect(r.code, r.stderr).toBe(0);
    unlinkSync(join(b, '.git/raced')); // the hook did run
    expect(flagsIn(b, key)).toBe('FRS');
    expectDiskIsHead(b);
    mg(a, ['sync']);
    expect(flagsIn(a, key)).toBe('FRS');
    expectDiskIsHead(a);
  });
});
