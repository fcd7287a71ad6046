/**
 * Crash safety of `mailgit sync`: SIGKILL the whole process group (mailgit and the git
 * processes it runs, as a power cut would) at seeded random moments, then check that
 * the next sync succeeds, `git fsck` is clean, the set of messages is the expected one
 * and the Maildir equals HEAD. Plus hand-made "killed between journal and finish"
 * states, after which `mailgit commit` must finish the apply and never record the
 * incoming mail as deleted.
 */
import { describe, expect, test, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, gitOut, tempDir } from '../helpers/cli.js';
// A seeded PRNG (mulberry32), so a failing run can be replayed.
import { rng } from '../helpers/rng.mjs';
import {
  addFlags,
  addRemote,
  arrive,
  bareHub,
  cloneReplica,
  diskFiles,
  expectDiskIsHead,
  fsck,
  headTree,
  initReplica,
  messagesAt,
  mg,
  moveTo,
  remove,
} from '../helpers/replica.js';

// Each test drives a dozen CLI runs (~0.5 s each idle); a busy shared CI box can be 5x slower.
vi.setConfig({ testTimeout: 600_000 });

const SEED = Number(process.env.MAILGIT_CRASH_SEED ?? 20240611);
const ITERATIONS = Number(process.env.MAILGIT_CRASH_ITERATIONS ?? 6);

/**
 * The state a sync of `b` leaves when killed right after moving its branch from `from` to
 * the hub's main: fetched, journal (.git/mailgit/apply.json) written, branch moved, nothing
 * applied to the Maildir. Returns the commit the branch now points at.
 */
function killedAfterBranchMoved(b: string, hub: string, from: string): string {
  const to = gitOut(hub, ['rev-parse', 'main']).trim();
  gitOut(b, ['fetch', '-q', 'origin', '+refs/heads/main:refs/remotes/origin/main']);
  mkdirSync(join(b, '.git/mailgit'), { recursive: true });
  writeFileSync(join(b, '.git/mailgit/apply.json'), JSON.stringify({ from, to }));
  // As mailgit's own git does it: without the hooks that refuse plain git's moves of main.
  gitOut(b, ['-c', 'core.hooksPath=/dev/null', 'update-ref', 'refs/heads/main', to, from]);
  return to;
}

/** Runs `mailgit -C repo sync` in its own process group; resolves with code and time taken. */
function runSync(repo: string, killAfterMs: number | null): Promise<{ code: number | null; signal: string | null; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const p = spawn(process.execPath, [BIN, '-C', repo, 'sync'], { detached: true, stdio: 'ignore' });
    let timer: NodeJS.Timeout | undefined;
    if (killAfterMs !== null) {
      timer = setTimeout(() => {
        try {
          process.kill(-p.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, killAfterMs);
    }
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - t0 });
    });
  });
}

function keys(repo: string): string[] {
  return [...messagesAt(repo).keys()].sort();
}

describe('sync survives SIGKILL', () => {
  test(`killed at ${ITERATIONS} seeded random moments (seed ${SEED}): rerun succeeds, fsck clean, messages as expected, Maildir = HEAD`, async () => {
    const rand = rng(SEED);
    const dir = tempDir('mailgit-crash-');
    const hub = bareHub(join(dir, 'hub.git'));
    const a = initReplica(join(dir, 'a'), 'a');
    for (let i = 0; i < 6; i++) arrive(a, `m${i}`);
    addRemote(a, 'hub', hub);
    mg(a, ['sync']);
    const b = cloneReplica(hub, join(dir, 'b'), 'b');

    // A full, unkilled sync with work to do tells how long one takes on this machine:
    // kill moments are drawn from [0, that], so they fall into every phase, not just
    // into node's start-up.
    arrive(a, 'calibrate-a');
    mg(a, ['sync']);
    arrive(b, 'calibrate-b');
    const full = await runSync(b, null);
    expect(full.code).toBe(0);
    const span = Math.max(300, full.ms);
    const killed: string[] = [];

    for (let it = 0; it < ITERATIONS; it++) {
      // Both sides change: A (then the hub) gets new mail, a deletion, a flag, a move;
      // B gets new mail and flags, unrecorded — sync records, merges, applies and pushes.
      const aKeys = keys(a);
      arrive(a, `a${it}`);
      arrive(a, `a${it}x`, 'Lists/x');
      const victim = aKeys[Math.floor(rand() * aKeys.length)]!;
      remove(a, victim);
      const flagged = aKeys.filter((k) => k !== victim)[Math.floor(rand() * (aKeys.length - 1))]!;
      addFlags(a, flagged, 'S');
      const moved = aKeys.filter((k) => k !== victim && k !== flagged)[0]!;
      if (rand() < 0.5) moveTo(a, moved, 'Archive');
      mg(a, ['sync']);
      const bNew = arrive(b, `b${it}`);
      const bFlag = keys(b).filter((k) => k !== victim && k !== bNew)[Math.floor(rand() * 3)]!;
      addFlags(b, bFlag, 'F');
      const expected = [...new Set([...keys(a), bNew])].sort();

      const at = Math.floor(rand() * span);
      const r = await runSync(b, at);
      killed.push(`${at}ms:${r.signal ?? r.code}`);
      const again = await runSync(b, null);
      expect(again.code, `iteration ${it}: sync after a kill at ${at} ms exited ${again.code}`).toBe(0);
      const f = fsck(b);
      expect(f.code, f.out).toBe(0);
      expect(keys(b), `iteration ${it}, kill at ${at} ms`).toEqual(expected);
      expectDiskIsHead(b);
      expect(existsSync(join(b, '.git/mailgit/apply.json'))).toBe(false);
      expect(gitOut(hub, ['rev-parse', 'main^{tree}']).trim()).toBe(headTree(b));
      // (A's sync at the top of the next iteration takes B's changes.)
    }
    mg(a, ['sync']);
    expect(headTree(a)).toBe(headTree(b));
    expectDiskIsHead(a);
    // At least some kills must have landed while sync ran (not all after it finished).
    expect(killed.filter((k) => k.endsWith('SIGKILL')).length, killed.join(' ')).toBeGreaterThan(ITERATIONS / 3);
  }, 1_200_000);

  test('killed after the branch moved but before the Maildir caught up: commit finishes the apply and records no deletion', () => {
    const dir = tempDir('mailgit-crash-journal-');
    const hub = bareHub(join(dir, 'hub.git'));
    const a = initReplica(join(dir, 'a'), 'a');
    const old = [0, 1, 2, 3].map((i) => arrive(a, `m${i}`));
    addRemote(a, 'hub', hub);
    mg(a, ['sync']);
    const b = cloneReplica(hub, join(dir, 'b'), 'b');
    const from = gitOut(b, ['rev-parse', 'HEAD']).trim();
    // A: two new messages, one flagged, one moved, one deleted.
    const n1 = arrive(a, 'n1');
    const n2 = arrive(a, 'n2', 'Lists/fresh');
    addFlags(a, old[0]!, 'S');
    moveTo(a, old[1]!, 'Archive');
    remove(a, old[2]!);
    mg(a, ['sync']);

    // State 1: journal written, branch moved, nothing applied yet (plus a client change).
    killedAfterBranchMoved(b, hub, from);
    addFlags(b, old[3]!, 'F');
    mg(b, ['commit']);
    const k = messagesAt(b);
    for (const key of [n1, n2, old[0]!, old[1]!, old[3]!]) expect(k.has(key), key).toBe(true);
    expect(k.has(old[2]!)).toBe(false);
    expect(k.get(old[3]!)![0]!.flags).toBe('F');
    expect(k.get(old[0]!)![0]!.flags).toBe('S');
    expect(k.get(old[1]!)![0]!.folder).toBe('Archive');
    expectDiskIsHead(b);
    // What commit recorded is the client's flag only: no deletion of the incoming mail.
    const recorded = gitOut(b, ['diff-tree', '-r', '--name-status', 'HEAD~1', 'HEAD']);
    expect(recorded).not.toMatch(/^D\t.*(n1|n2)/m);
    expect(recorded.split('\n').filter(Boolean)).toHaveLength(2); // old[3] renamed (D+A)
    expect(existsSync(join(b, '.git/mailgit/apply.json'))).toBe(false);
  });

  test('killed half way through the apply (some files moved, some not): commit finishes it', () => {
    const dir = tempDir('mailgit-crash-half-');
    const hub = bareHub(join(dir, 'hub.git'));
    const a = initReplica(join(dir, 'a'), 'a');
    const old = [0, 1, 2].map((i) => arrive(a, `m${i}`));
    addRemote(a, 'hub', hub);
    mg(a, ['sync']);
    const b = cloneReplica(hub, join(dir, 'b'), 'b');
    const from = gitOut(b, ['rev-parse', 'HEAD']).trim();
    const n1 = arrive(a, 'n1');
    addFlags(a, old[0]!, 'S');
    addFlags(a, old[1]!, 'S');
    mg(a, ['sync']);
    const to = killedAfterBranchMoved(b, hub, from);
    // The apply got as far as renaming old[0] and writing n1; old[1] still has its old name.
    const target = gitOut(b, ['ls-tree', '-r', '--name-only', to]).split('\n');
    const p0 = target.find((p) => p.includes(old[0]!))!;
    const cur0 = [...diskFiles(b).keys()].find((p) => p.includes(old[0]!))!;
    renameSync(join(b, cur0), join(b, p0));
    const pn = target.find((p) => p.includes(n1))!;
    writeFileSync(join(b, pn), gitOut(b, ['cat-file', 'blob', `${to}:${pn}`]));
    mg(b, ['commit']);
    expect(gitOut(b, ['rev-parse', 'HEAD']).trim()).toBe(to);
    expectDiskIsHead(b);
    expect(readFileSync(join(b, pn), 'utf8')).toContain('n1 body');
  });
});
