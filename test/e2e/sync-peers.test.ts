/**
 * Pushing to peers whose own git settings would turn a push into a deletion, and replicas
 * that share a name: over a real sshd (test/helpers/sshd.ts) and by path. A push must never
 * move a branch that has a Maildir checked out behind it, whatever the peer's
 * `receive.denyCurrentBranch` says, and no push may overwrite what another replica left on
 * a peer.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { join } from 'node:path';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { addRemote, arrive, bareHub, cloneReplica, expectDiskIsHead, headTree, initReplica, messagesAt, mg } from '../helpers/replica.js';
import { sshdUnavailable, startSshd } from '../helpers/sshd.js';
import type { Sshd } from '../helpers/sshd.js';

vi.setConfig({ testTimeout: 600_000 });

const skip = sshdUnavailable();
const SETTINGS = ['refuse', 'ignore', 'warn', 'updateInstead'] as const;

/**
 * A pushes new mail to a checked-out peer B whose `receive.denyCurrentBranch` is `setting`,
 * reached at `url(b)`; then B and A sync. B's branch must not move under its Maildir, and
 * afterwards both hold every message.
 */
function pushToCheckedOutPeer(setting: string, url: (path: string) => string, env: Record<string, string> = {}): void {
  const dir = tempDir(`mailgit-peer-${setting}-`);
  const a = initReplica(join(dir, 'a'), 'a');
  const old = [arrive(a, 'old1'), arrive(a, 'old2')];
  mg(a, ['commit']);
  const b = cloneReplica(a, join(dir, 'b'), 'b');
  gitOut(b, ['config', 'receive.denyCurrentBranch', setting]);
  const bHead = gitOut(b, ['rev-parse', 'HEAD']).trim();
  addRemote(a, 'b', url(b));
  const fresh = [arrive(a, 'new1'), arrive(a, 'new2')];
  mg(a, ['sync', 'b'], env);
  expect(gitOut(b, ['rev-parse', 'HEAD']).trim(), `${setting}: B's checked-out main moved`).toBe(bHead);
  expectDiskIsHead(b);
  mg(a, ['sync', 'b'], env); // a second sync with nothing new is fine too
  mg(b, ['sync']);
  mg(a, ['sync', 'b'], env);
  for (const r of [a, b]) {
    const have = messagesAt(r);
    for (const k of [...old, ...fresh]) expect(have.has(k), `${setting}: ${k} in ${r}`).toBe(true);
    expectDiskIsHead(r);
  }
  expect(headTree(a)).toBe(headTree(b));
}

describe.skipIf(skip !== null)('pushes to a checked-out peer over ssh', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  for (const setting of SETTINGS) {
    test(`receive.denyCurrentBranch=${setting} on the peer: its branch never moves, nothing is lost`, () => {
      pushToCheckedOutPeer(setting, (p) => sshd.url(p), sshd.env);
    });
  }
});

describe('pushes to a checked-out peer by path', () => {
  for (const setting of SETTINGS) {
    test(`receive.denyCurrentBranch=${setting} on the peer: its branch never moves, nothing is lost`, () => {
      pushToCheckedOutPeer(setting, (p) => p);
    });
  }
});

test.skipIf(skip === null)(`ssh tests skipped: ${skip}`, () => undefined);
