/**
 * Names at the file-system limits never wedge a replica (issue 10, item 3a): a peer's
 * legal 240-byte name is applied (its temporary name used to be longer than 255 bytes); a
 * merge that makes a name longer than 255 bytes keeps the message under one shorter name
 * that every replica computes alike; a path that cannot exist on this machine is refused
 * before anything moves, and the replica goes on committing, delivering and syncing.
 */
import { describe, expect, test, vi } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import {
  addFlags,
  addRemote,
  arrive,
  bareHub,
  cloneReplica,
  dropMessage,
  expectDiskIsHead,
  initReplica,
  messagesAt,
  messageText,
  mg,
} from '../helpers/replica.js';

vi.setConfig({ testTimeout: 300_000 });

function bytes(s: string): number {
  return Buffer.byteLength(s);
}

/** Every message name in HEAD, by blob. */
function namesByBlob(repo: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const list of messagesAt(repo).values()) for (const m of list) out.set(m.blob, [...(out.get(m.blob) ?? []), m.path]);
  return out;
}

function hubAndTwo(prefix: string): { root: string; hub: string; a: string; b: string } {
  const root = tempDir(prefix);
  const hub = bareHub(join(root, 'hub.git'));
  const a = initReplica(join(root, 'a'), 'a');
  arrive(a, 'first');
  addRemote(a, 'hub', hub);
  mg(a, ['sync']);
  return { root, hub, a, b: cloneReplica(hub, join(root, 'b'), 'b') };
}

describe('names at the limit', () => {
  test("a peer's 240-byte message name is applied; commit, sync and deliver go on", () => {
    const { a, b } = hubAndTwo('mailgit-names-');
    const key = `${'k'.repeat(233)}.x`;
    dropMessage(a, 'INBOX', key, messageText('long'), 'FS');
    expect(bytes(`${key}:2,FS`)).toBe(240);
    mg(a, ['sync']);
    const r = mailgit(['-C', b, 'sync'], { cwd: b });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(b, 'INBOX/cur', `${key}:2,FS`))).toBe(true);
    expectDiskIsHead(b);
    const d = mailgit(['-C', b, 'deliver'], { cwd: b, input: messageText('after') });
    expect(d.code).toBe(0);
    expect(d.stderr).toBe('');
    expect(mailgit(['-C', b, 'commit'], { cwd: b }).code).toBe(0);
    expectDiskIsHead(b);
  });

  test('flags merged past 255 bytes: one shorter name, the same on every replica; a third replica that changed the old name converges', () => {
    const { root, hub, a, b } = hubAndTwo('mailgit-names-');
    const key = 'k'.repeat(251);
    dropMessage(a, 'INBOX', key, messageText('at the limit'));
    mg(a, ['sync']);
    mg(b, ['sync']);
    const c = cloneReplica(hub, join(root, 'c'), 'c');
    addFlags(a, key, 'S');
    addFlags(b, key, 'F');
    addFlags(c, key, 'T');
    mg(a, ['sync']);
    const rb = mg(b, ['sync', '--verbose']);
    expect(rb.stdout).toMatch(/more than a file name may have/);
    mg(c, ['sync']);
    mg(a, ['sync']);
    mg(b, ['sync']);
    const tree = gitOut(a, ['rev-parse', 'HEAD^{tree}']);
    for (const r of [a, b, c]) {
      expect(gitOut(r, ['rev-parse', 'HEAD^{tree}'])).toBe(tree);
      expectDiskIsHead(r);
    }
    const named = [...namesByBlob(a).values()].filter((paths) => paths.some((p) => p.includes('kkkkkkkk')));
    expect(named).toHaveLength(1); // one message, never doubled
    expect(named[0]).toHaveLength(1);
    const name = named[0]![0]!.slice('INBOX/cur/'.length);
    expect(bytes(name)).toBeLessThanOrEqual(255);
    expect(name).toMatch(/^k+\.mg[0-9a-f]{8}:2,FST$/); // every side's flag kept
  });

  test('a path too long for this machine is refused before anything moves (65, one line); the replica goes on', () => {
    const root = tempDir('mailgit-names-');
    const hub = bareHub(join(root, 'hub.git'));
    const a = initReplica(join(root, 'a'), 'a');
    addRemote(a, 'hub', hub);
    arrive(a, 'first');
    mg(a, ['sync']);
    const far = join(root, 'x'.repeat(200), 'y'.repeat(100));
    mkdirSync(far, { recursive: true });
    const b = cloneReplica(hub, join(far, 'b'), 'b');
    const deep = ['Deep', ...Array.from({ length: 15 }, (_, i) => `${i}`.padEnd(250, 'd'))].join('/');
    mkdirSync(join(a, deep), { recursive: true });
    arrive(a, 'deep', deep);
    mg(a, ['sync']);
    const head = gitOut(b, ['rev-parse', 'HEAD']);
    for (let run = 0; run < 2; run++) {
      const r = mailgit(['-C', b, 'sync'], { cwd: b });
      expect(r.code, r.stderr).toBe(65);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/refusing origin: .*a path of \d+ bytes here \(at most 4095/);
      expect(r.stderr).toMatch(/nothing was applied/);
      expect(gitOut(b, ['rev-parse', 'HEAD'])).toBe(head);
      expect(existsSync(join(b, '.git/mailgit/apply.json'))).toBe(false);
      expectDiskIsHead(b);
    }
    expect(mailgit(['-C', b, 'deliver'], { cwd: b, input: messageText('still') }).code).toBe(0);
    expect(mailgit(['-C', b, 'commit'], { cwd: b }).code).toBe(0);
    expectDiskIsHead(b);
  });
});
