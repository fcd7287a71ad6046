/**
 * The cost rule, checked with strace on the built CLI: recording one change costs in
 * proportion to the folders that changed, not to the whole repo. No step may list,
 * hash, open or stat a message of an unchanged folder, and the number of processes
 * (git and any other) must not grow with the number of messages.
 *
 * The assertions are about behaviour only — which directories are listed, which message
 * files are looked up, how many programs run — never about which git sub-commands do it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, realpathSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BIN, gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { straceUsable, traced } from '../helpers/strace.js';
import type { Trace } from '../helpers/strace.js';

const STRACE = straceUsable();
if (!STRACE.ok) console.warn(`core-cost: skipped: ${STRACE.reason}`);

/** INBOX (made by init) and four more; every one holds `size` messages in cur/ and a tenth of that in new/. */
const FOLDERS = ['INBOX', 'Archive', 'Lists', 'Sent', 'Work'];
/**
 * Two sizes, ten times apart; the process count must be the same at both. Both stay below
 * the size where one flag change's rewritten cur/ tree alone passes maintain.ts's
 * loose-bytes threshold (~2,000 messages in a folder): from there on every record also
 * repacks, a fixed handful of extra git processes per commit (not per message) that
 * would make the two counts differ without breaking the rule.
 */
const SIZES = [100, 1000];
/** Where the flag change happens, and where the delivery lands. */
const FLAGGED = 'Work';
const DELIVERED = 'Sent';
/** Long ago: older than mailgit's 2 s racy window for directory stamps. */
const PAST = new Date('2020-01-01T00:00:00Z');

const keyOf = (f: number, i: number, sub: string) => `${1600000000 + i}.M${i}P${f}${sub === 'new' ? 'N' : ''}.host`;

/** Sets the mtime of every directory and file outside `.git` back to {@link PAST}. */
function backdate(root: string, rel = ''): void {
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    if (rel === '' && e.name === '.git') continue;
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) backdate(root, p);
    else if (!/\/(cur|new)\//.test(`/${p}`)) utimesSync(join(root, p), PAST, PAST);
  }
  utimesSync(join(root, rel), PAST, PAST);
}

/** A committed repo with FOLDERS × size messages whose directory stamps mailgit trusts. */
function buildRepo(size: number): string {
  const dir = join(tempDir('mailgit-cost-'), 'mail');
  const init = mailgit(['init', dir, '--name', 'laptop']);
  expect(init.code, init.stderr).toBe(0);
  const root = realpathSync(dir);
  FOLDERS.forEach((folder, f) => {
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(root, folder, sub), { recursive: true });
    writeFileSync(join(root, folder, 'maildirfolder'), '');
    for (let i = 0; i < size; i++)
      writeFileSync(join(root, folder, 'cur', `${keyOf(f, i, 'cur')}:2,S`), `Subject: ${folder} ${i}\n\nbody of ${folder} message ${i}\n`);
    for (let i = 0; i < size / 10; i++) writeFileSync(join(root, folder, 'new', keyOf(f, i, 'new')), `Subject: new ${folder} ${i}\n\nunread\n`);
  });
  backdate(root);
  const c = mailgit(['commit'], { cwd: root });
  expect(c.code, c.stderr).toBe(0);
  expect(
    gitOut(root, ['ls-tree', '-r', '--name-only', 'HEAD'])
      .split('\n')
      .filter((p) => /\/(cur|new)\//.test(p)),
  ).toHaveLength(FOLDERS.length * (size + size / 10));
  return root;
}

/** A Maildir path relative to the repo: its folder, `cur`/`new`, and the file name if any. */
function where(root: string, abs: string): { folder: string; sub: string; file: string | null } | null {
  const rel = relative(root, abs);
  const m = /^([^/]+)\/(cur|new)(?:\/([^/]+))?$/.exec(rel);
  return m && FOLDERS.includes(m[1]!) ? { folder: m[1]!, sub: m[2]!, file: m[3] ?? null } : null;
}

/** What a traced `mailgit commit` did to the message directories and files. */
interface Cost {
  /** `Folder/cur` or `Folder/new` directories listed. */
  listed: string[];
  /** Lookups (open, stat) of message files, per directory `Folder/sub`: `call Folder/sub/file`. */
  messageTouches: Map<string, string[]>;
  /** Message files opened (`Folder/sub/file`), in any process. */
  opened: string[];
  /** Programs run, by name (node itself included), and how many git processes. */
  programs: string[];
  git: number;
}

function cost(root: string, trace: Trace): Cost {
  const listed = new Set<string>();
  for (const l of trace.listed) {
    const w = where(root, l.path);
    if (w && w.file === null) listed.add(`${w.folder}/${w.sub}`);
  }
  const messageTouches = new Map<string, string[]>();
  const opened = new Set<string>();
  for (const t of trace.touched) {
    const w = where(root, t.path);
    if (!w || w.file === null) continue;
    const list = messageTouches.get(`${w.folder}/${w.sub}`) ?? [];
    list.push(`${t.call} ${w.folder}/${w.sub}/${w.file}`);
    messageTouches.set(`${w.folder}/${w.sub}`, list);
    if (t.call === 'openat' || t.call === 'open') opened.add(`${w.folder}/${w.sub}/${w.file}`);
  }
  const programs = trace.execs.map((e) => e.path.slice(e.path.lastIndexOf('/') + 1));
  return {
    listed: [...listed].sort(),
    messageTouches,
    opened: [...opened].sort(),
    programs,
    git: programs.filter((p) => p === 'git' || p.startsWith('git-')).length,
  };
}

/** Runs `mailgit commit` under strace in `root` and returns what it cost. */
function tracedCommit(root: string, expectOut: RegExp): Cost {
  const r = traced(process.execPath, [BIN, 'commit', '-v'], { cwd: root });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(expectOut);
  expect(r.trace.problems, 'the trace was read completely').toEqual([]);
  expect(r.trace.execs.length, 'the trace saw the CLI start').toBeGreaterThan(0);
  return cost(root, r.trace);
}

/** Lookups of message files in any directory but `changed` (`Folder/sub`). */
function elsewhere(c: Cost, changed: string): string[] {
  return [...c.messageTouches].filter(([d]) => d !== changed).flatMap(([, list]) => list);
}

describe.skipIf(!STRACE.ok)(`recording cost follows the change, not the repo (strace)${STRACE.ok ? '' : ` — skipped: ${STRACE.reason}`}`, () => {
  const flag = new Map<number, Cost>();
  const delivery = new Map<number, Cost>();

  beforeAll(() => {
    for (const size of SIZES) {
      const root = buildRepo(size);
      const f = FOLDERS.indexOf(FLAGGED);
      // A flag change in one folder: cur/ changes, its stamp is new (and racy).
      renameSync(join(root, FLAGGED, 'cur', `${keyOf(f, 7, 'cur')}:2,S`), join(root, FLAGGED, 'cur', `${keyOf(f, 7, 'cur')}:2,FS`));
      flag.set(size, tracedCommit(root, new RegExp(`${FLAGGED}: 1 flagged`)));
      // Let that directory's stamp settle and be cached by a commit with nothing to record.
      backdate(root);
      const settle = mailgit(['commit'], { cwd: root });
      expect(settle.code, settle.stderr).toBe(0);
      // A delivery into another folder's new/.
      writeFileSync(join(root, DELIVERED, 'new', '1700000000.M1P1.mx'), 'Subject: just delivered\n\nhello\n');
      delivery.set(size, tracedCommit(root, new RegExp(`${DELIVERED}: 1 delivered`)));
    }
  }, 600_000);

  for (const size of SIZES) {
    it(`flag change at ${size} messages per folder: lists only ${FLAGGED}/cur, looks up no message elsewhere, reads none but the renamed one`, () => {
      const c = flag.get(size)!;
      expect(c.listed).toEqual([`${FLAGGED}/cur`]);
      // Not in another folder, nor in the changed folder's new/.
      expect(elsewhere(c, `${FLAGGED}/cur`)).toEqual([]);
      // A rename keeps its blob: at most the renamed file itself may be read.
      expect(c.opened.filter((p) => !p.startsWith(`${FLAGGED}/cur/${keyOf(FOLDERS.indexOf(FLAGGED), 7, 'cur')}:`))).toEqual([]);
      expect(c.git, `git processes: ${c.programs.join(' ')}`).toBeLessThan(16);
    });

    it(`delivery at ${size} messages per folder: lists only ${DELIVERED}/new, hashes exactly the one new file`, () => {
      const c = delivery.get(size)!;
      expect(c.listed).toEqual([`${DELIVERED}/new`]);
      // Not in another folder, nor in the changed folder's cur/.
      expect(elsewhere(c, `${DELIVERED}/new`)).toEqual([]);
      // The one new file is read (to hash it); no other message is, in any process.
      expect(c.opened).toEqual([`${DELIVERED}/new/1700000000.M1P1.mx`]);
      expect(c.git, `git processes: ${c.programs.join(' ')}`).toBeLessThan(16);
    });
  }

  it(`the number of processes does not grow with the number of messages (${SIZES.join(' vs ')} per folder)`, () => {
    const [small, big] = SIZES as [number, number];
    expect(flag.get(big)!.git, `flag change: ${flag.get(small)!.programs.join(' ')} vs ${flag.get(big)!.programs.join(' ')}`).toBe(flag.get(small)!.git);
    expect(flag.get(big)!.programs.length).toBe(flag.get(small)!.programs.length);
    expect(delivery.get(big)!.git, `delivery: ${delivery.get(small)!.programs.join(' ')} vs ${delivery.get(big)!.programs.join(' ')}`).toBe(
      delivery.get(small)!.git,
    );
    expect(delivery.get(big)!.programs.length).toBe(delivery.get(small)!.programs.length);
  });
});
