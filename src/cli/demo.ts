/**
 * `mailgit demo [--keep]`: the built-in story, needing no mail account. Two replicas
 * and a hub in a temporary directory; mail arrives, is read, flagged, moved and deleted
 * on both machines at once, the replicas sync, and the history is shown.
 */
import { mkdir, mkdtemp, readdir, rename, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git } from '../git/run.js';
import { initRepo } from '../repo/init.js';
import { record } from '../repo/record.js';
import { withRepoLock } from '../repo/lock.js';
import type { Repo } from '../repo/repo.js';
import { cloneRepo } from '../sync/clone.js';
import { syncRepo } from '../sync/sync.js';
import { readHistory } from '../repo/history.js';
import { listDeleted } from '../repo/deleted.js';
import { restoreMessages } from '../repo/restore.js';
import { treeOf, readHead } from '../git/commit.js';
import { writeFileAtomic } from '../util/atomic.js';
import { describeClock } from '../merge/clock.js';
import type { GlobalArgs } from './context.js';

interface DemoArgs extends GlobalArgs {
  keep?: boolean;
}

const MAILS = [
  ['alice@example.org', 'Lunch on Friday?', 'Shall we try the new place?'],
  ['bob@example.org', 'Re: release notes', 'Looks good to me, ship it.'],
  ['news@lists.example.org', 'Weekly digest', 'Ten things you missed.'],
  ['carol@example.org', 'Photos from the trip', 'Attached are the best ones.'],
];

async function deliver(repo: Repo, n: number, [from, subject, body]: string[]): Promise<string> {
  const key = `${1_700_000_000 + n}.M${n}P1.demo`;
  const text = `From: ${from}\r\nTo: you@example.org\r\nSubject: ${subject}\r\nMessage-ID: <demo-${n}@example.org>\r\nDate: Fri, 17 Nov 2023 10:0${n}:00 +0000\r\n\r\n${body}\r\n`;
  await writeFileAtomic(join(repo.root, 'INBOX', 'new', key), text, { mode: 0o600, tmpDir: join(repo.root, 'INBOX', 'tmp') });
  return key;
}

/** Gives the demo message `key` the flags `flags`, moving it from INBOX to `folder` (default INBOX). */
async function flag(repo: Repo, key: string, { flags, folder = 'INBOX' }: { flags: string; folder?: string }): Promise<void> {
  const dir = join(repo.root, 'INBOX');
  for (const sub of ['new', 'cur']) {
    const name = (await readdir(join(dir, sub))).find((n) => n.startsWith(key));
    if (name) await rename(join(dir, sub, name), join(repo.root, folder, 'cur', `${key}:2,${flags}`));
  }
}

function say(title: string, lines: string[] = []): void {
  console.log(`\n== ${title}`);
  for (const l of lines) console.log(`   ${l}`);
}

async function commit(repo: Repo): Promise<string[]> {
  return (await withRepoLock(repo, { what: 'demo' }, (locked) => record(locked)))?.summary ?? [];
}

async function sync(repo: Repo): Promise<string[]> {
  const r = await withRepoLock(repo, { what: 'demo' }, (locked) => syncRepo(locked, []));
  return r.remotes.flatMap((x) => [...x.incoming.map((l) => `in   ${l}`), ...x.outgoing.map((l) => `out  ${l}`), ...x.decisions.map((l) => `conflict: ${l}`)]);
}

/** The epilogue: a message the laptop deletes by mistake is listed, restored on the desktop and synced back. */
async function getItBack(desktop: Repo, laptop: Repo, key: string): Promise<boolean> {
  await unlink(join(laptop.root, 'INBOX', 'cur', `${key}:2,S`));
  say('laptop: deleted "Re: release notes" by mistake, synced', [...(await commit(laptop)), ...(await sync(laptop))]);
  say('desktop: sync', await sync(desktop));
  const gone = (await listDeleted(desktop)).filter((d) => d.now === null);
  say(
    'desktop: mailgit log --deleted',
    gone.map((d) => `${d.replica} deleted "${d.subject ?? ''}" (${d.from ?? ''}) from ${d.folder}`),
  );
  const restored = await withRepoLock(desktop, { what: 'demo' }, (locked) => restoreMessages(locked, { names: [key] }));
  say(`desktop: mailgit restore ${key}`, restored.lines);
  say('desktop: sync', await sync(desktop));
  say('laptop: sync', await sync(laptop));
  const has = async (r: Repo): Promise<boolean> => (await readdir(join(r.root, 'INBOX', 'cur'))).some((n) => n.startsWith(key));
  const here = (await has(desktop)) && (await has(laptop));
  say(`"Re: release notes" is back on both replicas: ${here ? 'yes' : 'NO'}`);
  return here;
}

/** The `demo` verb: runs the built-in story in a temporary directory. */
export async function handler(argv: DemoArgs): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'mailgit-demo-'));
  console.log(`The demo's files: ${base} (two replicas, desktop/ and laptop/, and hub.git between them).`);
  try {
    const { repo: desktop } = await initRepo(join(base, 'desktop'), { name: 'desktop' });
    await git(['init', '-q', '--bare', '-b', 'main', join(base, 'hub.git')], { cwd: base });
    await git(['remote', 'add', 'hub', join(base, 'hub.git')], { cwd: desktop.root });
    say(`desktop: mail repo at ${desktop.root}`);
    const keys = [];
    for (const [i, m] of MAILS.entries()) keys.push(await deliver(desktop, i + 1, m));
    say('desktop: 4 messages delivered, recorded', await commit(desktop));
    say('desktop: sync to the hub', await sync(desktop));
    const laptop = await cloneRepo(join(base, 'hub.git'), join(base, 'laptop'), { name: 'laptop' });
    await git(['remote', 'rename', 'origin', 'hub'], { cwd: laptop.root });
    say(`laptop: cloned from the hub into ${laptop.root}`);

    await flag(laptop, keys[0]!, { flags: 'S' });
    await flag(laptop, keys[1]!, { flags: 'S' });
    await unlink(join(laptop.root, 'INBOX', 'new', keys[2]!));
    say('laptop (offline): read 2 messages, deleted the digest', await commit(laptop));

    await flag(desktop, keys[0]!, { flags: 'F' });
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(desktop.root, 'Archive', sub), { recursive: true, mode: 0o700 });
    await flag(desktop, keys[3]!, { flags: 'S', folder: 'Archive' });
    await flag(desktop, keys[2]!, { flags: 'F' });
    keys.push(await deliver(desktop, 5, ['dave@example.org', 'New mail while you were away', 'Hello from the desktop.']));
    say('desktop (at the same time): flagged "Lunch on Friday?" and the digest, archived the photos, new mail arrived', await commit(desktop));

    say('laptop: sync', await sync(laptop));
    say('desktop: sync', await sync(desktop));
    say('laptop: sync again', await sync(laptop));

    const same = (await treeOf(desktop.root, (await readHead(desktop.root))!)) === (await treeOf(laptop.root, (await readHead(laptop.root))!));
    say(`both replicas hold the same mail: ${same ? 'yes' : 'NO'}`, [
      `INBOX/new on the laptop: ${(await readdir(join(laptop.root, 'INBOX', 'new'))).sort().join('  ')}`,
      `INBOX/cur on the laptop: ${(await readdir(join(laptop.root, 'INBOX', 'cur'))).sort().join('  ')}`,
      `Archive/cur on the laptop: ${(await readdir(join(laptop.root, 'Archive', 'cur'))).sort().join('  ')}`,
    ]);
    console.log('\n== mailgit log (laptop)');
    for (const e of await readHistory(laptop)) {
      console.log(`   ${e.commit.slice(0, 8)} ${e.replica.padEnd(8)} ${describeClock(e.clock)}  ${e.lines.join('; ')}`);
    }
    const back = await getItBack(desktop, laptop, keys[1]!);
    if (!same || !back) process.exitCode = 1;
  } finally {
    if (argv.keep) {
      console.log(`\nThe demo's files stay in ${base}: desktop/ and laptop/ are replicas, hub.git the hub between them.`);
      console.log(`Try: cd ${join(base, 'laptop')} && mailgit log && mailgit status; remove them with: rm -rf ${base}`);
    } else {
      await rm(base, { recursive: true, force: true });
      console.log(`\nThe demo's files in ${base} are removed; "mailgit demo --keep" keeps them to look around in.`);
    }
  }
}
