/**
 * Delete folder vs deliver (issue 10, item 8): any kept message lives in a complete Maildir
 * folder — `cur/ new/ tmp/` on disk and its `maildirfolder` marker in history, so that
 * the folder replicates and clients can open it — on every replica.
 */
import { describe, expect, test, vi } from 'vitest';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, tempDir } from '../helpers/cli.js';
import {
  addRemote,
  arrive,
  bareHub,
  cloneReplica,
  deliver,
  expectDiskIsHead,
  headFiles,
  initReplica,
  messagesAt,
  mg,
  moveTo,
  setFlags,
} from '../helpers/replica.js';

vi.setConfig({ testTimeout: 300_000 });

/** Folders of HEAD's messages that lack `cur/`, `new/` or `tmp/` on disk. */
function incompleteFolders(repo: string): string[] {
  const out = new Set<string>();
  for (const list of messagesAt(repo).values()) {
    for (const m of list) {
      for (const sub of ['cur', 'new', 'tmp']) {
        const d = join(repo, m.folder, sub);
        if (!existsSync(d) || !statSync(d).isDirectory()) out.add(`${m.folder}/${sub}`);
      }
    }
  }
  return [...out].sort();
}

function setup(): { a: string; b: string } {
  const root = tempDir('mailgit-folders-');
  const hub = bareHub(join(root, 'hub.git'));
  const a = initReplica(join(root, 'a'), 'a');
  deliver(a, 'l0', 'Lists');
  deliver(a, 'l1', 'Lists');
  arrive(a, 'i0');
  addRemote(a, 'hub', hub);
  mg(a, ['sync']);
  return { a, b: cloneReplica(hub, join(root, 'b'), 'b') };
}

describe('a folder removed on one replica while mail comes into it on another', () => {
  test('A removes Lists, B delivers into it: both keep Lists whole (cur/new/tmp, marker in HEAD) with only the new mail', () => {
    const { a, b } = setup();
    const old = [...messagesAt(a).entries()].filter(([, l]) => l[0]!.folder === 'Lists').map(([k]) => k);
    rmSync(join(a, 'Lists'), { recursive: true });
    mg(a, ['sync']);
    const fresh = deliver(b, 'late', 'Lists');
    const rb = mg(b, ['sync', '--verbose']);
    expect(rb.stdout).toMatch(/conflict: Lists: folder removed on a while it got mail here; kept the folder/);
    mg(a, ['sync']);
    mg(b, ['sync']);
    for (const r of [a, b]) {
      expect(gitOut(r, ['rev-parse', 'HEAD^{tree}'])).toBe(gitOut(a, ['rev-parse', 'HEAD^{tree}']));
      expect(headFiles(r).has('Lists/maildirfolder')).toBe(true);
      const lists = [...messagesAt(r).entries()].filter(([, l]) => l[0]!.folder === 'Lists').map(([k]) => k);
      expect(lists).toEqual([fresh]);
      for (const k of old) expect(messagesAt(r).has(k)).toBe(false);
      expect(incompleteFolders(r)).toEqual([]);
      expectDiskIsHead(r);
    }
  });

  test('A removes Lists (mail in cur/), B moves a message into it: Lists stays whole with the moved message on both', () => {
    const { a, b } = setup();
    for (const [k, l] of messagesAt(a)) if (l[0]!.folder === 'Lists') setFlags(a, k, 'S');
    mg(a, ['sync']);
    mg(b, ['sync']);
    rmSync(join(a, 'Lists'), { recursive: true });
    mg(a, ['sync']);
    const moved = [...messagesAt(b).entries()].find(([, l]) => l[0]!.folder === 'INBOX')![0];
    setFlags(b, moved, 'S');
    moveTo(b, moved, 'Lists');
    mg(b, ['sync']);
    mg(a, ['sync']);
    for (const r of [a, b]) {
      expect(gitOut(r, ['rev-parse', 'HEAD^{tree}'])).toBe(gitOut(a, ['rev-parse', 'HEAD^{tree}']));
      expect(
        messagesAt(r)
          .get(moved)
          ?.map((m) => m.folder),
      ).toEqual(['Lists']);
      expect(headFiles(r).has('Lists/maildirfolder')).toBe(true);
      expect(incompleteFolders(r)).toEqual([]);
      expectDiskIsHead(r);
    }
  });
});
