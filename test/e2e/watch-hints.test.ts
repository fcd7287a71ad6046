/**
 * What `mailgit watch` keeps between records (HEAD's listings, the names its events
 * named, one tree reader) makes recording cheap, and never loses a change the events
 * missed: a directory compared by names only keeps no stamp, so the next record without
 * hints (the periodic full check, or `mailgit commit`) compares it in full.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openRepo } from '../../src/repo/repo.js';
import { RecordSession } from '../../src/repo/record.js';
import type { RecordResult } from '../../src/repo/record.js';
import { withRepoLock } from '../../src/repo/lock.js';
import { mailgit, tempDir } from '../helpers/cli.js';
import { diskMessages, headMessages } from '../helpers/messages.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function repoWith(n: number): string {
  const base = tempDir('mailgit-hints-');
  dirs.push(base);
  const root = join(base, 'mail');
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(root, 'INBOX', sub), { recursive: true });
  for (let i = 0; i < n; i++) writeFileSync(join(root, 'INBOX', 'cur', `${1600000000 + i}.M${i}P1.host:2,S`), `Subject: ${i}\n\n${i}\n`);
  expect(mailgit(['init', root, '--name', 'w']).code).toBe(0);
  return root;
}

const flag = (root: string, i: number) => {
  const from = `${1600000000 + i}.M${i}P1.host:2,S`;
  const to = `${1600000000 + i}.M${i}P1.host:2,FS`;
  renameSync(join(root, 'INBOX', 'cur', from), join(root, 'INBOX', 'cur', to));
  return [from, to];
};

/** Runs `fn` with a record function that keeps what watch keeps between records (a resident session). */
async function resident(root: string, fn: (rec: (hints?: Map<string, Set<string>>) => Promise<RecordResult | null>) => Promise<void>): Promise<void> {
  const repo = await openRepo(root);
  const session = new RecordSession(repo, { resident: true });
  try {
    await fn((hints) => withRepoLock(repo, { what: 'test' }, (locked) => session.record(locked, { hints })));
  } finally {
    await session.close();
  }
}

describe('records with what watch keeps', () => {
  it('records the named change, and a change no event named at the next full record', async () => {
    const root = repoWith(50);
    await resident(root, async (rec) => {
      flag(root, 1);
      const first = await rec(new Map()); // full: fills the cache
      expect(first?.summary).toEqual(['INBOX: 1 flagged']);

      const named = flag(root, 2);
      flag(root, 3); // an event the watcher lost
      const hinted = await rec(new Map([['INBOX/cur', new Set(named)]]));
      expect(hinted?.summary).toEqual(['INBOX: 1 flagged']);
      const head = headMessages(root);
      expect(head.has(`INBOX/cur/${named[1]}`)).toBe(true);
      expect(head.has(`INBOX/cur/${1600000003}.M3P1.host:2,S`)).toBe(true); // not yet

      const full = await rec(new Map());
      expect(full?.summary).toEqual(['INBOX: 1 flagged']);
      expect([...headMessages(root).keys()].sort()).toEqual(diskMessages(root));
      // And the CLI agrees nothing is left.
      expect(mailgit(['status', '--json'], { cwd: root }).stdout).toContain('"clean": true');
    });
  });

  it('a folder removed while only some of its removals were named is recorded as removed in full', async () => {
    // Found by the watch crash test: a vanished directory leaves the cache's directory
    // list, so comparing it for the named files only would leave the rest in HEAD forever.
    const root = repoWith(5);
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(root, 'Archive', sub), { recursive: true });
    for (let i = 0; i < 6; i++) writeFileSync(join(root, 'Archive', 'cur', `${1650000000 + i}.M${i}P2.host:2,S`), `Subject: a${i}\n\n`);
    await resident(root, async (rec) => {
      await rec();
      expect([...headMessages(root).keys()].filter((p) => p.startsWith('Archive/'))).toHaveLength(6);
      rmSync(join(root, 'Archive'), { recursive: true, force: true });
      const r = await rec(new Map([['Archive/cur', new Set([`${1650000000}.M0P2.host:2,S`])]]));
      expect(r?.summary.join(' ')).toMatch(/Archive: .*6 deleted/);
      expect([...headMessages(root).keys()].sort()).toEqual(diskMessages(root));
    });
  });

  it('a hint for a name that did not change, or a delivery, is recorded exactly', async () => {
    const root = repoWith(20);
    await resident(root, async (rec) => {
      flag(root, 0);
      await rec();
      writeFileSync(join(root, 'INBOX', 'cur', '1700000000.M9P9.host:2,'), 'Subject: new\n\nx\n');
      const r = await rec(new Map([['INBOX/cur', new Set(['1700000000.M9P9.host:2,', `${1600000005}.M5P1.host:2,S`, 'gone-before-we-looked'])]]));
      expect(r?.summary).toEqual(['INBOX: 1 delivered']);
      expect([...headMessages(root).keys()].sort()).toEqual(diskMessages(root));
    });
  });

  it('bytes written into a message, named by an event, are recorded though its directory did not change', async () => {
    const root = repoWith(20);
    await resident(root, async (rec) => {
      expect(await rec(new Map())).toBeNull(); // full: fills the cache and starts the audit
      const name = `${1600000000 + 4}.M4P1.host:2,S`;
      writeFileSync(join(root, 'INBOX', 'cur', name), 'Subject: 4\n\n4, edited\n');
      const r = await rec(new Map([['INBOX/cur', new Set([name])]]));
      expect(r?.summary).toEqual(['INBOX: 1 edited in place']);
      expect(await rec(new Map())).toBeNull();
    });
  });
});
