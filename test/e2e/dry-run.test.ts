/**
 * Every verb with `-n` (sync, restore) prints a plan that the real run then carries out:
 * the same report, computed by the same planning code, with the real CLI and git. Each
 * test makes a state where the plan has something to say (local changes to record,
 * incoming and outgoing mail, a conflict, messages already present), runs `-n --json`,
 * checks that nothing changed, runs the verb for real and compares.
 */
import { describe, expect, test, vi } from 'vitest';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addRemote, arrive, cloneReplica, diskFiles, hubPair, listing, messagesAt, mg, moveTo, remove, setFlags } from '../helpers/replica.js';

vi.setConfig({ testTimeout: 300_000 });

interface Snapshot {
  head: string;
  refs: string;
  disk: string[];
}

/** HEAD, the branches and mailgit's refs but those a fetch moves (a dry run fetches), and the Maildir's files. */
function snapshot(repo: string): Snapshot {
  const refs = gitOut(repo, ['for-each-ref', 'refs/heads/', 'refs/mailgit/']).split('\n');
  return {
    head: gitOut(repo, ['rev-parse', 'HEAD']).trim(),
    refs: refs.filter((l) => !l.includes('\trefs/mailgit/fetched/')).join('\n'),
    disk: listing(diskFiles(repo)),
  };
}

function json<T>(repo: string, args: string[]): T {
  const r = mg(repo, [...args, '--json']);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as T;
}

interface RestoreJson {
  commit: string | null;
  restored: string[];
  present: unknown[];
}

/**
 * Runs `restore ARGS -n --json` (checking it changed nothing), then the restore itself,
 * and checks the real run's report is the plan with a commit; returns how many messages
 * the plan brought back and how many it found present.
 */
function restorePlanCarriedOut(repo: string, args: string[]): [number, number] {
  const before = snapshot(repo);
  const plan = json<RestoreJson>(repo, [...args, '-n']);
  expect(snapshot(repo)).toEqual(before);
  const done = json<RestoreJson>(repo, args);
  expect(done.commit).toMatch(/^[0-9a-f]{40}$/);
  expect({ ...done, commit: null }).toEqual(plan);
  return [plan.restored.length, plan.present.length];
}

describe('a dry run prints the plan the real run carries out', () => {
  test('sync -n: what it would record, take in, send out and decide is what sync then does', () => {
    const { hub, a, b, keys } = hubPair(tempDir('mailgit-dry-'), 3);
    const [m0, m1, m2] = keys as [string, string, string];
    setFlags(a, m0, 'S');
    moveTo(a, m2, 'Work');
    arrive(a, 'from a');
    mg(a, ['sync']);
    moveTo(b, m2, 'Later'); // a conflict with A's move
    moveTo(b, m1, 'Archive'); // unrecorded on B: both plans record it first
    arrive(b, 'from b');
    const before = { b: snapshot(b), hub: gitOut(hub, ['rev-parse', 'main']).trim() };
    const plan = json<Record<string, unknown>>(b, ['sync', '-n']);
    expect({ ...snapshot(b), hub: gitOut(hub, ['rev-parse', 'main']).trim() }).toEqual({ ...before.b, hub: before.hub });
    expect(plan).toMatchObject({
      recorded: [expect.any(String), expect.any(String), expect.any(String)],
      remotes: [{ decisions: [expect.any(String)], pushed: 'main' }],
    });
    // A decision names when each side changed: the record's time is the time it is made.
    const untimed = (report: unknown) => JSON.parse(JSON.stringify(report).replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/g, 'TIME')) as unknown;
    expect(untimed(json(b, ['sync']))).toEqual(untimed(plan));
  });

  test('sync -n with a push from a peer waiting and two remotes: what it receives, then each remote in order', () => {
    const dir = tempDir('mailgit-dry-');
    const { hub, a, b } = hubPair(dir, 2);
    const c = cloneReplica(hub, join(dir, 'c'), 'c');
    addRemote(c, 'b', b);
    arrive(c, 'from c');
    mg(c, ['sync', 'b']); // waits in b's refs/mailgit/incoming/
    arrive(a, 'from a');
    mg(a, ['sync']);
    addRemote(b, 'c', c);
    arrive(b, 'from b');
    const before = snapshot(b);
    const plan = json<Record<string, unknown>>(b, ['sync', '-n']);
    expect(snapshot(b)).toEqual(before);
    expect(gitOut(hub, ['rev-parse', 'main']).trim()).toBe(gitOut(a, ['rev-parse', 'HEAD']).trim());
    expect(plan).toMatchObject({
      received: [expect.stringMatching(/^c: /)],
      remotes: [
        { remote: 'c', pushed: 'incoming' },
        { remote: 'origin', pushed: 'main' },
      ],
    });
    expect(json(b, ['sync'])).toEqual(plan);
  });

  test('an apply a killed sync left unfinished: -n refuses in one line (75), the real run finishes it', () => {
    const { a } = hubPair(tempDir('mailgit-dry-'), 2);
    arrive(a, 'one more');
    mg(a, ['commit']);
    const journal = join(a, '.git/mailgit/apply.json');
    writeFileSync(journal, JSON.stringify({ from: gitOut(a, ['rev-parse', 'HEAD~1']).trim(), to: gitOut(a, ['rev-parse', 'HEAD']).trim() }));
    for (const args of [
      ['sync', '-n'],
      ['restore', '--folder', 'INBOX', '--as-of', 'HEAD~1', '-n'],
    ]) {
      const r = mailgit(['-C', a, ...args]);
      expect([r.code, r.stdout, r.stderr]).toEqual([
        75,
        '',
        expect.stringMatching(/^mailgit: a sync was stopped while writing mail .* run the command without -n[^\n]*\n$/),
      ]);
    }
    expect(mg(a, ['sync']).code).toBe(0);
    expect(existsSync(journal)).toBe(false);
  });

  test('restore -n of messages: the same messages come back and the same are reported present', () => {
    const { a } = hubPair(tempDir('mailgit-dry-'), 3);
    const k = [arrive(a, 'x0'), arrive(a, 'x1')];
    mg(a, ['commit']);
    for (const key of k) remove(a, key);
    mg(a, ['commit']);
    const [present, unrecorded] = [...messagesAt(a).keys()] as [string, string];
    remove(a, unrecorded); // the real run records this deletion first: both plans count it back
    const args = ['restore', ...k, present, unrecorded];
    expect(restorePlanCarriedOut(a, args)).toEqual([3, 1]);
  });

  test('restore --folder -n: the same messages, lines and present ones as the real folder restore', () => {
    const { a } = hubPair(tempDir('mailgit-dry-'), 4);
    const then = gitOut(a, ['rev-parse', 'HEAD']).trim();
    const keys = [...messagesAt(a).keys()];
    moveTo(a, keys[0]!, 'Archive');
    remove(a, keys[1]!);
    arrive(a, 'later');
    mg(a, ['commit']);
    remove(a, keys[2]!); // unrecorded: the real run records it first, and the plan counts it back too
    const args = ['restore', '--folder', 'INBOX', '--as-of', then];
    expect(restorePlanCarriedOut(a, args)).toEqual([2, 2]);
  });
});
