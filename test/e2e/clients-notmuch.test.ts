/**
 * Story 2: a notmuch user. With `maildir.synchronize_flags=true`, `notmuch tag` renames
 * message files (+flagged → F, -unread → S); `mailgit watch` records the renames, and
 * after a sync another replica's `notmuch new` shows the same tags. notmuch's database
 * (`.notmuch/` in the repo root) never enters history.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut, tempDir } from '../helpers/cli.js';
import { headFiles, putMessages, run, startWatchChild } from './clients-helpers.js';

const haveNotmuch = spawnSync('sh', ['-c', 'command -v notmuch']).status === 0;

function notmuchConfig(dir: string, name: string, db: string): string {
  const file = join(dir, `notmuch-config-${name}`);
  writeFileSync(
    file,
    `[database]\npath=${db}\n[user]\nname=Test User\nprimary_email=me@example.org\n[new]\ntags=unread;inbox;\nignore=.git;.mailgit;tmp;maildirfolder;.gitignore;.gitattributes\n[search]\nexclude_tags=deleted;spam;\n[maildir]\nsynchronize_flags=true\n`,
  );
  return file;
}

function notmuch(config: string, args: string[], input?: string): string {
  const r = spawnSync('notmuch', args, { env: { ...process.env, NOTMUCH_CONFIG: config }, input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`notmuch ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const tags = (config: string, id: string) =>
  notmuch(config, ['search', '--output=tags', `id:${id}`])
    .split('\n')
    .filter(Boolean)
    .sort();

describe.skipIf(!haveNotmuch)(`story 2: notmuch with synchronize_flags${haveNotmuch ? '' : ' (skipped: notmuch not installed)'}`, () => {
  it('notmuch tag renames files; watch records them; another replica’s notmuch shows the same tags', async () => {
    const dir = tempDir();
    const a = join(dir, 'A');
    const b = join(dir, 'B');
    const hub = join(dir, 'hub.git');
    putMessages(a, 'INBOX', 4, { sub: 'cur', info: ':2,' });
    expect(run(['init', a, '--name', 'laptop']).code).toBe(0);
    gitOut(dir, ['init', '-q', '--bare', hub]);
    gitOut(a, ['remote', 'add', 'hub', hub]);
    expect(run(['-C', a, 'sync', 'hub']).code).toBe(0);

    const cfgA = notmuchConfig(dir, 'a', a);
    notmuch(cfgA, ['new', '--quiet']);
    // putMessages makes Message-IDs <mK.INBOXK@example.org>.
    const flagged = 'm0.INBOX0@example.org';
    const read = 'm1.INBOX1@example.org';
    expect(tags(cfgA, flagged)).toEqual(['inbox', 'unread']);

    const w = await startWatchChild(a);
    try {
      const from = w.events.length;
      notmuch(cfgA, ['tag', '--batch'], `+flagged -- id:${flagged}\n-unread -- id:${read}\n`);
      const e = await w.waitFor((x) => x.event === 'commit', 15_000, from);
      expect(e.summary).toEqual(['INBOX: 1 flagged, 1 marked read']);
    } finally {
      expect(await w.stop()).toBe(0);
    }
    const tree = headFiles(a);
    expect(tree.filter((p) => p.includes('.notmuch'))).toEqual([]);
    expect(tree).toContain('INBOX/cur/1700000000.M0P1Q1.testhost:2,F');
    expect(tree).toContain('INBOX/cur/1700000000.M1P1Q1.testhost:2,S');

    // Replica B: clone after the sync, index with its own notmuch, see the same tags.
    expect(run(['-C', a, 'sync', 'hub']).code).toBe(0);
    expect(run(['clone', hub, b, '--name', 'desktop']).code).toBe(0);
    const cfgB = notmuchConfig(dir, 'b', b);
    notmuch(cfgB, ['new', '--quiet']);
    expect(tags(cfgB, flagged)).toEqual(['flagged', 'inbox', 'unread']);
    expect(tags(cfgB, read)).toEqual(['inbox']);

    // And back: B's notmuch marks the flagged one read; A's notmuch sees it after a sync.
    notmuch(cfgB, ['tag', '-unread', '--', `id:${flagged}`]);
    expect(run(['-C', b, 'sync']).code).toBe(0);
    expect(run(['-C', a, 'sync', 'hub']).code).toBe(0);
    notmuch(cfgA, ['new', '--quiet']);
    expect(tags(cfgA, flagged)).toEqual(['flagged', 'inbox']);
    expect(headFiles(b).filter((p) => p.includes('.notmuch'))).toEqual([]);
  }, 300_000);
});
