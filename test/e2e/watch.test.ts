/**
 * `mailgit watch`: client changes reach history on their own, one commit per burst,
 * folders come and go, its own applies (and other mailgit writers) are not re-recorded,
 * and a sync arriving in the middle of a burst loses and duplicates nothing.
 */
import { describe, expect, it, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, gitOut, tempDir } from '../helpers/cli.js';
import { commitCount, headFiles, ls, message, putMessages, run, sleep, startWatchChild, until } from './clients-helpers.js';
import type { WatchChild, WatchEventLine } from './clients-helpers.js';

const children: WatchChild[] = [];
afterEach(async () => {
  for (const w of children.splice(0)) await w.stop();
});

async function watch(repo: string, args: string[] = []): Promise<WatchChild> {
  const w = await startWatchChild(repo, args);
  children.push(w);
  return w;
}

function runAsync(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (code) => resolve({ code: code ?? 128, stdout, stderr }));
    c.stdin.end(input ?? '');
  });
}

function clean(repo: string): boolean {
  return (JSON.parse(run(['-C', repo, 'status', '--json']).stdout) as { clean: boolean }).clean;
}

/** Per-folder summary lines of the non-merge commits made by `replica` (one list per commit, joined). */
function ownSubjects(repo: string, replica: string): string[] {
  const bodies = gitOut(repo, ['log', '--no-merges', `--grep=Mailgit-Replica: ${replica}$`, '--format=%B%x00']).split('\0');
  return bodies.flatMap((b) => [...new Set(b.split('\n').filter((l) => /^[^ ]+: \d/.test(l) || /^(init|adopt)/.test(l)))]);
}

describe('mailgit watch', () => {
  it('records a burst of 500 renames as one commit, soon after the burst ends', async () => {
    const repo = join(tempDir(), 'Mail');
    putMessages(repo, 'INBOX', 500);
    expect(run(['init', repo, '--name', 'desk']).code).toBe(0);
    const w = await watch(repo);
    const before = commitCount(repo);
    const from = w.events.length;
    for (const n of ls(repo, 'INBOX', 'new')) renameSync(join(repo, 'INBOX', 'new', n), join(repo, 'INBOX', 'cur', `${n}:2,S`));
    const burstEnd = Date.now();
    const e = await w.waitFor((x) => x.event === 'commit', 30_000, from);
    const latency = e.seen - burstEnd;
    console.log(`watch: 500 renames -> 1 commit ${latency} ms after the burst`);
    expect(e.summary).toEqual(['INBOX: 500 marked read']);
    // ≤ 1 s on an idle machine (300 ms debounce + one record). On a loaded machine a record
    // costs more; the bound scales with what one scan costs here and now.
    const t0 = Date.now();
    run(['-C', repo, 'status', '--json']);
    const scanMs = Date.now() - t0;
    expect(latency).toBeLessThan(1000 + 2 * scanMs);
    await sleep(1500);
    expect(w.events.slice(from).filter((x) => x.event === 'commit')).toHaveLength(1);
    expect(commitCount(repo)).toBe(before + 1);
    expect(clean(repo)).toBe(true);
  }, 300_000);

  it('follows folders being created, filled, removed and created again; ignores other writers’ commits', async () => {
    const repo = join(tempDir(), 'Mail');
    putMessages(repo, 'INBOX', 5);
    expect(run(['init', repo, '--name', 'desk']).code).toBe(0);
    const w = await watch(repo);
    const inbox = ls(repo, 'INBOX', 'new');

    let from = w.events.length;
    for (const s of ['cur', 'new', 'tmp']) mkdirSync(join(repo, 'Archive', s), { recursive: true });
    renameSync(join(repo, 'INBOX', 'new', inbox[0]!), join(repo, 'Archive', 'cur', `${inbox[0]}:2,S`));
    let e = await w.waitFor((x) => x.event === 'commit', 30_000, from);
    await sleep(800); // the move may be split over two commits if the folder was seen first
    const summaries = w.events.slice(from).flatMap((x) => x.summary ?? []);
    expect(summaries.join('\n')).toMatch(/Archive: .*1 folder created/);
    expect(summaries.join('\n')).toMatch(/INBOX: 1 moved to Archive/);
    expect(headFiles(repo)).toContain(`Archive/cur/${inbox[0]}:2,S`);

    from = w.events.length;
    rmSync(join(repo, 'Archive'), { recursive: true });
    e = await w.waitFor((x) => x.event === 'commit', 30_000, from);
    expect(e.summary).toEqual(['Archive: 1 deleted, 1 folder removed']);

    from = w.events.length;
    for (const s of ['cur', 'new', 'tmp']) mkdirSync(join(repo, 'Archive', s), { recursive: true });
    await sleep(700);
    renameSync(join(repo, 'INBOX', 'new', inbox[1]!), join(repo, 'Archive', 'new', inbox[1]!));
    await until(() => headFiles(repo).includes(`Archive/new/${inbox[1]}`), 30_000, 'the move into the re-created folder');

    // Another writer (an MDA) commits its own delivery: watch sees the files, records nothing.
    // Settled: nothing left to record, and the event of the last commit has been read.
    // (A move racing a scan may be recorded as two commits; both have to be in.)
    await until(
      () => {
        const last = gitOut(repo, ['rev-parse', 'HEAD']).trim();
        return clean(repo) && w.events.some((x) => x.commit === last);
      },
      30_000,
      'watch to settle',
    );
    const commits = w.events.filter((x) => x.event === 'commit').length;
    const head = commitCount(repo);
    expect(run(['-C', repo, 'deliver'], { input: message(42, 'from the MTA') }).code).toBe(0);
    await sleep(1500);
    expect(w.events.filter((x) => x.event === 'commit').length, JSON.stringify(w.events.slice(-3)) + gitOut(repo, ['log', '-4', '--format=%s %ci'])).toBe(
      commits,
    );
    expect(commitCount(repo)).toBe(head + 1);

    // At exit, what is pending is recorded.
    renameSync(join(repo, 'INBOX', 'new', inbox[2]!), join(repo, 'INBOX', 'cur', `${inbox[2]}:2,F`));
    expect(await w.stop()).toBe(0);
    expect(headFiles(repo)).toContain(`INBOX/cur/${inbox[2]}:2,F`);
  }, 300_000);

  it('with --sync: commits go to the hub; changes from the hub are applied and not re-recorded', async () => {
    const dir = tempDir();
    const a = join(dir, 'A');
    const b = join(dir, 'B');
    const hub = join(dir, 'hub.git');
    putMessages(a, 'INBOX', 20);
    expect(run(['init', a, '--name', 'a']).code).toBe(0);
    gitOut(dir, ['init', '-q', '--bare', hub]);
    gitOut(a, ['remote', 'add', 'hub', hub]);
    expect(run(['-C', a, 'sync', 'hub']).code).toBe(0);
    expect(run(['clone', hub, b, '--name', 'b']).code).toBe(0);

    const w = await watch(a, ['--sync', 'hub', '--interval', '2']);
    const names = ls(a, 'INBOX', 'new');
    let from = w.events.length;
    for (const n of names.slice(0, 5)) renameSync(join(a, 'INBOX', 'new', n), join(a, 'INBOX', 'cur', `${n}:2,S`));
    // Said once: by watch's own commit, or by the sync it runs at start if that recorded it
    // first; the sync that pushes it says where it went, not what it held again.
    const said = (x: WatchEventLine) =>
      (x.event === 'commit' && (x.summary ?? []).includes('INBOX: 5 marked read')) || (x.lines ?? []).includes('recorded INBOX: 5 marked read');
    await w.waitFor((x) => x.event === 'sync' && (x.pushed ?? []).includes('hub'), 30_000, from);
    expect(w.events.slice(from).filter(said)).toHaveLength(1);
    expect(w.events.slice(from).flatMap((x) => x.lines ?? [])).not.toContainEqual(expect.stringMatching(/out/));

    // B gets it, flags two messages and gets new mail; A's watch brings it in at its interval.
    expect(run(['-C', b, 'sync']).code).toBe(0);
    expect(ls(b, 'INBOX', 'cur')).toEqual(names.slice(0, 5).map((n) => `${n}:2,S`));
    for (const n of names.slice(10, 12)) renameSync(join(b, 'INBOX', 'new', n), join(b, 'INBOX', 'cur', `${n}:2,F`));
    expect(run(['-C', b, 'deliver'], { input: message(99, 'to b') }).code).toBe(0);
    expect(run(['-C', b, 'sync']).code).toBe(0);
    const ownBefore = ownSubjects(a, 'a');
    from = w.events.length;
    await w.waitFor((x) => x.event === 'sync' && (x.lines ?? []).some((l) => /in +INBOX: .*1 delivered/.test(l)), 30_000, from);
    expect(ls(a, 'INBOX', 'cur')).toEqual(expect.arrayContaining(names.slice(10, 12).map((n) => `${n}:2,F`)));
    expect(ls(a, 'INBOX', 'new')).toHaveLength(20 - 5 - 2 + 1);
    await sleep(1500); // the apply's file events have been debounced and handled by now
    expect(w.events.slice(from).filter((x) => x.event === 'commit')).toEqual([]);
    expect(ownSubjects(a, 'a')).toEqual(ownBefore);
    expect(clean(a)).toBe(true);
    expect(w.stderr()).not.toMatch(/sync failed|cannot record/);
  }, 300_000);

  it('a sync arriving in the middle of a burst: nothing lost, nothing recorded twice, incoming flags not re-recorded', async () => {
    const dir = tempDir();
    const a = join(dir, 'A');
    const b = join(dir, 'B');
    const hub = join(dir, 'hub.git');
    putMessages(a, 'INBOX', 60);
    expect(run(['init', a, '--name', 'a']).code).toBe(0);
    gitOut(dir, ['init', '-q', '--bare', hub]);
    gitOut(a, ['remote', 'add', 'hub', hub]);
    expect(run(['-C', a, 'sync', 'hub']).code).toBe(0);
    expect(run(['clone', hub, b, '--name', 'b']).code).toBe(0);
    const names = ls(a, 'INBOX', 'new');
    // B flags 10 other messages and pushes to the hub.
    for (const n of names.slice(40, 50)) renameSync(join(b, 'INBOX', 'new', n), join(b, 'INBOX', 'cur', `${n}:2,F`));
    expect(run(['-C', b, 'sync']).code).toBe(0);

    const w = await watch(a, ['--debounce', '400']);
    // A's client marks 30 messages read, slowly; `mailgit sync` starts a third of the way in.
    let sync: Promise<{ code: number; stderr: string }> | null = null;
    for (let i = 0; i < 30; i++) {
      const n = names[i]!;
      renameSync(join(a, 'INBOX', 'new', n), join(a, 'INBOX', 'cur', `${n}:2,S`));
      if (i === 10) sync = runAsync(['-C', a, 'sync', 'hub']);
      await sleep(40);
    }
    const s = await sync!;
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    await until(() => clean(a) && w.events.length > 0, 30_000, 'the watch to record the rest');
    await sleep(1000);
    const tree = headFiles(a).filter((p) => p.startsWith('INBOX/'));
    for (const n of names.slice(0, 30)) expect(tree).toContain(`INBOX/cur/${n}:2,S`);
    for (const n of names.slice(40, 50)) expect(tree).toContain(`INBOX/cur/${n}:2,F`);
    expect(tree.filter((p) => /\/(cur|new)\//.test(p))).toHaveLength(60);
    // A's own commits describe only what A's client did: 30 reads, across sync's and watch's commits.
    const own = ownSubjects(a, 'a').filter((x) => !/^(init|adopt)/.test(x));
    const reads = own.map((x) => /(\d+) marked read/.exec(x)).reduce((sum, m) => sum + (m ? Number(m[1]) : 0), 0);
    expect(own.join('\n')).not.toMatch(/flagged/);
    expect(reads).toBe(30);
    // And the hub gets all of it.
    expect(run(['-C', a, 'sync', 'hub']).code).toBe(0);
    expect(run(['-C', b, 'sync']).code).toBe(0);
    expect(ls(b, 'INBOX', 'cur')).toHaveLength(40);
  }, 300_000);
});
