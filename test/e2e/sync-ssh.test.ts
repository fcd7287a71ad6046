/**
 * `mailgit sync` and `clone` over ssh, against a real sshd started by the test on a
 * loopback port (test/helpers/sshd.ts), plus three replicas on three transports: A talks
 * to the bare hub over ssh, B to the hub by path, C to B directly (B is checked out).
 */
import { describe, expect, test, vi } from 'vitest';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import {
  addRemote,
  arrive,
  bareHub,
  cloneReplica,
  expectDiskIsHead,
  headTree,
  initReplica,
  messagesAt,
  mg,
  moveTo,
  msg,
  remove,
  setFlags,
} from '../helpers/replica.js';
import { sshdPerSuite, sshdUnavailable } from '../helpers/sshd.js';

// Each test drives a dozen CLI runs (~0.5 s each idle); a busy shared CI box can be 5x slower.
vi.setConfig({ testTimeout: 600_000 });

const skip = sshdUnavailable();

describe.skipIf(skip !== null)('sync over ssh', () => {
  const sshd = sshdPerSuite();

  test('three replicas over ssh, path and a checked-out peer converge through conflicting changes', () => {
    const dir = tempDir('mailgit-ssh-');
    const env = sshd.env;
    const hub = bareHub(join(dir, 'hub.git'));
    const a = initReplica(join(dir, 'a'), 'a');
    const keys = [0, 1, 2, 3, 4].map((i) => arrive(a, `m${i}`));
    const [m0, m1, m2, m3, m4] = keys as [string, string, string, string, string];
    addRemote(a, 'hub', sshd.url(hub));
    mg(a, ['sync'], env);
    expect(gitOut(hub, ['rev-parse', 'main']).trim()).toBe(gitOut(a, ['rev-parse', 'HEAD']).trim());
    // B clones over ssh, then talks to the hub by path.
    const b = cloneReplica(sshd.url(hub), join(dir, 'b'), 'b', env);
    gitOut(b, ['remote', 'set-url', 'origin', hub]);
    expectDiskIsHead(b);
    // C clones B by path and syncs with B directly.
    const c = cloneReplica(b, join(dir, 'c'), 'c');

    // Conflicts: m0 moved to different folders on A and B; m1 deleted on A, flagged on C.
    moveTo(a, m0, 'Archive');
    remove(a, m1);
    setFlags(a, m2, 'S');
    moveTo(b, m0, 'Lists/ssh');
    setFlags(b, m2, 'F');
    setFlags(c, m1, 'F');
    setFlags(c, m3, 'R');
    remove(c, m4);
    const c1 = arrive(c, 'c1', 'Lists/ssh');

    mg(a, ['sync'], env);
    mg(b, ['sync']);
    mg(c, ['sync']); // pushes into B's incoming ref
    mg(b, ['sync']); // merges C, pushes to the hub
    mg(a, ['sync'], env);
    mg(c, ['sync']);

    const tree = headTree(a);
    for (const r of [a, b, c]) {
      expect(headTree(r), r).toBe(tree);
      expectDiskIsHead(r);
      expect(msg(r, m2).flags).toBe('FS');
      expect(msg(r, m3).flags).toBe('R');
      expect(messagesAt(r).has(m4)).toBe(false);
      expect(msg(r, c1).folder).toBe('Lists/ssh');
      expect(['Archive', 'Lists/ssh']).toContain(msg(r, m0).folder);
    }
    expect(gitOut(hub, ['rev-parse', 'main^{tree}']).trim()).toBe(tree);
    // Each conflict was decided once and written into a merge commit.
    const log = gitOut(a, ['log', '--merges', '--format=%B']);
    expect(log).toContain(m0);
    expect(log).toContain(m1);
  });

  test('an ssh remote with a closed port is unreachable (69); a refused key is 77', () => {
    const dir = tempDir('mailgit-ssh-bad-');
    const a = initReplica(join(dir, 'a'), 'a');
    addRemote(a, 'down', `ssh://${sshd.user}@127.0.0.1:1${join(dir, 'hub.git')}`);
    const r = mailgit(['-C', a, 'sync', 'down'], { cwd: a, env: sshd.env });
    expect(r.code, r.stderr).toBe(69);
    expect(r.stderr).toMatch(/remote down is unreachable/);
    addRemote(a, 'nokey', sshd.url(join(dir, 'hub.git')));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'stranger')]);
    const wrongKey = sshd.env.GIT_SSH_COMMAND!.replace(/-i \S+/, `-i ${join(dir, 'stranger')} -o IdentitiesOnly=yes`);
    const r2 = mailgit(['-C', a, 'sync', 'nokey'], { cwd: a, env: { GIT_SSH_COMMAND: wrongKey } });
    expect(r2.code, r2.stderr).toBe(77);
    expect(r2.stderr).toMatch(/nokey.*Permission denied/);
  });
});

test.skipIf(skip === null)(`ssh tests skipped: ${skip}`, () => undefined);
