/**
 * The recording write path: fast-import streams (pure), and one commit written by the
 * real git (trees, ref, refusal of a moved branch); plus the readers it relies on
 * (commit trailers, raw tree index) checked against git's own listing.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BULK_EDITS, BULK_WORK, FastCommitter, fastCommit, fastImportStream, isBulk, quotePath } from '../../src/git/fastCommit.js';
import { parseCommitInfo } from '../../src/git/commit.js';
import { indexTree, mktreeInput, TreeIO } from '../../src/git/treeio.js';
import { editTree } from '../../src/git/tree.js';
import { gitOut, tempDir } from '../helpers/cli.js';

function gitIn(cwd: string, args: string[], input?: string | Buffer): string {
  const r = spawnSync('git', args, { cwd, input });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout.toString('utf8').trim();
}

function newRepo(): string {
  const dir = tempDir('mailgit-fc-');
  gitIn(dir, ['init', '-q', '-b', 'main']);
  return dir;
}

const blob = (dir: string, text: string) => gitIn(dir, ['hash-object', '-w', '--stdin'], text);
const ls = (dir: string, rev: string) => gitOut(dir, ['ls-tree', '-r', '--name-only', rev]).trim().split('\n').filter(Boolean);

describe('quotePath', () => {
  it.each([
    ['INBOX/cur/1.M1P1.h:2,S', '"INBOX/cur/1.M1P1.h:2,S"'],
    ['a "b"/c', '"a \\"b\\"/c"'],
    ['back\\slash', '"back\\\\slash"'],
    ['tab\there', '"tab\\011here"'],
    ['Entwürfe/cur/x', '"Entwürfe/cur/x"'],
  ])('%j → %s', (path, quoted) => {
    expect(quotePath(path)).toBe(quoted);
  });
});

describe('fastImportStream', () => {
  it('counts the message in bytes, names the parent, and deletes before it adds', () => {
    const s = fastImportStream({
      ref: 'refs/heads/main',
      parent: 'a'.repeat(40),
      edits: [
        { path: 'INBOX/cur/k:2,S', oid: 'b'.repeat(40) },
        { path: 'INBOX/cur/k:2,', oid: null },
      ],
      message: 'Posteingang: 1 gelesen — ü\n',
      when: 1700000000.9,
    }).toString('utf8');
    expect(s).toContain(`data ${Buffer.byteLength('Posteingang: 1 gelesen — ü\n')}\n`);
    expect(s).toContain('committer mailgit <mailgit@localhost> 1700000000 +0000');
    expect(s).toContain(`from ${'a'.repeat(40)}`);
    expect(s.indexOf('D "INBOX/cur/k:2,"')).toBeLessThan(s.indexOf(`M 100644 ${'b'.repeat(40)} "INBOX/cur/k:2,S"`));
    expect(s.trimEnd().endsWith('get-mark :1\ndone')).toBe(true);
  });

  it('gives a bulk commit its root tree whole instead of one line per file', () => {
    const s = fastImportStream({
      ref: 'refs/heads/main',
      parent: 'a'.repeat(40),
      edits: [{ path: 'INBOX/cur/k:2,S', oid: 'b'.repeat(40) }],
      tree: 'c'.repeat(40),
      message: 'x\n',
      when: 1,
    }).toString('utf8');
    expect(s.split('\n').filter((l) => /^[MD] /.test(l))).toEqual([`M 040000 ${'c'.repeat(40)} ""`]);
  });

  it('writes a first commit without a parent', () => {
    const s = fastImportStream({ ref: 'refs/heads/main', parent: null, edits: [], message: 'x\n', when: 1 }).toString('utf8');
    expect(s).not.toContain('from ');
  });
});

describe('fastCommit (real git)', () => {
  it('writes a commit, edits nested trees, drops emptied directories and moves the branch', async () => {
    const dir = newRepo();
    const a = blob(dir, 'a\n');
    const b = blob(dir, 'b\n');
    const first = await fastCommit(dir, {
      ref: 'refs/heads/main',
      parent: null,
      edits: [
        { path: 'INBOX/cur/1.M1P1.h:2,', oid: a },
        { path: 'Archive/cur/2.M1P1.h:2,S', oid: b },
      ],
      message: 'first\n\nMailgit-Replica: t\nMailgit-Clock: 1\n',
      when: 1700000000,
    });
    expect(gitIn(dir, ['rev-parse', 'refs/heads/main'])).toBe(first);
    expect(ls(dir, first)).toEqual(['Archive/cur/2.M1P1.h:2,S', 'INBOX/cur/1.M1P1.h:2,']);

    const second = await fastCommit(dir, {
      ref: 'refs/heads/main',
      parent: first,
      edits: [
        { path: 'INBOX/cur/1.M1P1.h:2,', oid: null },
        { path: 'INBOX/cur/1.M1P1.h:2,FS', oid: a },
        { path: 'Archive/cur/2.M1P1.h:2,S', oid: null },
      ],
      message: 'second\n',
      when: 1700000001,
    });
    expect(gitIn(dir, ['rev-parse', `${second}^`])).toBe(first);
    expect(ls(dir, second)).toEqual(['INBOX/cur/1.M1P1.h:2,FS']);
    expect(gitOut(dir, ['ls-tree', second]).includes('Archive')).toBe(false);
    expect(gitIn(dir, ['fsck', '--strict'])).toBe('');
  });

  it('refuses to move a branch that no longer points to the parent, and moves nothing', async () => {
    const dir = newRepo();
    const a = blob(dir, 'a\n');
    const base = await fastCommit(dir, { ref: 'refs/heads/main', parent: null, edits: [{ path: 'x/cur/1', oid: a }], message: 'base\n', when: 1 });
    const other = await fastCommit(dir, { ref: 'refs/heads/main', parent: base, edits: [{ path: 'x/cur/2', oid: a }], message: 'other\n', when: 2 });
    await expect(
      fastCommit(dir, { ref: 'refs/heads/main', parent: base, edits: [{ path: 'x/cur/3', oid: a }], message: 'stale\n', when: 3 }),
    ).rejects.toMatchObject({
      code: 'ERACE',
      exitCode: 75,
    });
    expect(gitIn(dir, ['rev-parse', 'refs/heads/main'])).toBe(other);
  });
});

describe('bulk commits (real git)', () => {
  /** The tree git's own index builds from `paths` (all one blob), to compare with. */
  function indexTreeOf(dir: string, oid: string, paths: string[]): string {
    const env = { ...process.env, GIT_INDEX_FILE: `${dir}/.git/cmp-index-${paths.length}` };
    const r = spawnSync('git', ['update-index', '--add', '--index-info'], { cwd: dir, env, input: paths.map((p) => `100644 ${oid}\t${p}\n`).join('') });
    if (r.status !== 0) throw new Error(r.stderr.toString());
    return spawnSync('git', ['write-tree'], { cwd: dir, env }).stdout.toString().trim();
  }

  it('writes the trees of BULK_EDITS edits with mktree, the same trees as git, one-shot and resident', async () => {
    const dir = newRepo();
    const a = blob(dir, 'a\n');
    const paths = Array.from({ length: BULK_EDITS }, (_, i) => `${i % 3 ? 'INBOX' : 'Archive'}/cur/${1700000000 + i}.M${i}P1.h:2,S`);
    const first = await fastCommit(dir, { ref: 'refs/heads/main', parent: null, edits: paths.map((path) => ({ path, oid: a })), message: 'adopt\n', when: 1 });
    expect(gitIn(dir, ['rev-parse', `${first}^{tree}`])).toBe(indexTreeOf(dir, a, paths));
    // A second bulk commit through the resident importer: renames, deletions, an emptied folder.
    const edits = paths.flatMap((path) =>
      path.startsWith('Archive/')
        ? [{ path, oid: null }]
        : [
            { path, oid: null },
            { path: `${path}F`, oid: a },
          ],
    );
    const fc = new FastCommitter(dir);
    try {
      const second = await fc.commit({ ref: 'refs/heads/main', parent: first, edits, message: 'many\n', when: 2 });
      const kept = paths.filter((p) => p.startsWith('INBOX/')).map((p) => `${p}F`);
      expect(gitIn(dir, ['rev-parse', `${second}^{tree}`])).toBe(indexTreeOf(dir, a, kept));
      expect(gitIn(dir, ['rev-parse', 'refs/heads/main'])).toBe(second);
    } finally {
      await fc.close();
    }
    expect(gitIn(dir, ['fsck', '--strict'])).toBe('');
  });
});

describe('editTree writes a directory from its raw tree (mktreeInput)', () => {
  it('keeps every kind of entry byte for byte (a non-UTF-8 name, a subtree, a symlink, an executable), drops, replaces and adds: the tree git writes from the same listing', async () => {
    const dir = newRepo();
    const a = blob(dir, 'a\n');
    const b = blob(dir, 'b\n');
    const sub = gitIn(dir, ['mktree'], `100644 blob ${a}\tinner\n`);
    const latin1 = Buffer.from('caf\xe9:2,S', 'latin1'); // not UTF-8
    const list = Buffer.concat([
      Buffer.from(`100644 blob ${a}\tkeep:2,S\x00100644 blob ${a}\tgone:2,S\x00100644 blob ${a}\tflag:2,S\x00`),
      Buffer.from(`120000 blob ${b}\tlink\x00100755 blob ${b}\texec\x00040000 tree ${sub}\tsubdir\x00100644 blob ${a}\t`),
      latin1,
      Buffer.from('\x00'),
    ]);
    const base = gitIn(dir, ['mktree', '-z'], list);
    const io = new TreeIO(dir);
    try {
      const raw = (await io.read(base))!.data;
      const changes = new Map([
        ['gone:2,S', null],
        ['flag:2,S', null],
        ['flag:2,FS', { mode: '100644', type: 'blob', oid: b, name: 'flag:2,FS' }],
        ['keep:2,S', { mode: '100644', type: 'blob', oid: b, name: 'keep:2,S' }],
      ]);
      const { input, count } = mktreeInput(raw, changes);
      expect(count).toBe(6);
      const want = gitIn(
        dir,
        ['mktree', '-z'],
        Buffer.concat([
          Buffer.from(
            `100644 blob ${b}\tkeep:2,S\x00100644 blob ${b}\tflag:2,FS\x00120000 blob ${b}\tlink\x00100755 blob ${b}\texec\x00040000 tree ${sub}\tsubdir\x00100644 blob ${a}\t`,
          ),
          latin1,
          Buffer.from('\x00'),
        ]),
      );
      expect(await io.writeInput(input)).toBe(want);
    } finally {
      io.close();
    }
    // Through editTree, nested: the subtree's own edit and the emptied directory going.
    const root = gitIn(dir, ['mktree'], `040000 tree ${base}\tcur\n040000 tree ${sub}\tother\n`);
    const edited = await editTree(dir, root, [
      { path: 'cur/subdir/inner', oid: null },
      { path: 'other/inner', oid: null },
      { path: 'cur/new:2,', oid: a },
    ]);
    expect(gitOut(dir, ['ls-tree', '-r', '--name-only', edited]).trim().split('\n')).toEqual(
      ['cur/caf\\351:2,S', 'cur/exec', 'cur/flag:2,S', 'cur/gone:2,S', 'cur/keep:2,S', 'cur/link', 'cur/new:2,'].map((p) => (p.includes('\\') ? `"${p}"` : p)),
    );
    expect(gitIn(dir, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });
  it('an empty directory, a missing one', () => {
    expect(mktreeInput(null, new Map()).count).toBe(0);
    expect(mktreeInput(null, new Map([['x', null]])).input.toString()).toBe('\x00');
  });
});

describe('isBulk: fast-import rewrites the trees, or editTree writes them first', () => {
  const renames = (dir: string, n: number) =>
    Array.from({ length: n }, (_, i) => [
      { path: `${dir}/${1700000000 + i}.M${i}P1.h:2,S`, oid: null },
      { path: `${dir}/${1700000000 + i}.M${i}P1.h:2,FS`, oid: 'a'.repeat(40) },
    ]).flat();
  it.each([
    ['a day at 100k: 450 renames in a cur/ of 36k', renames('INBOX/cur', 450), [['INBOX/cur', 36_000]], false],
    ['a day at 1M: 450 renames in a cur/ of 392k', renames('INBOX/cur', 450), [['INBOX/cur', 392_000]], true],
    ['the same edits, sizes not known (a merge)', renames('INBOX/cur', 450), undefined, false],
    [
      'small edits of small folders',
      [...renames('INBOX/cur', 20), ...renames('Sent/cur', 20)],
      [
        ['INBOX/cur', 2_000],
        ['Sent/cur', 900],
      ],
      false,
    ],
    ['BULK_EDITS edits, sizes not known (an adopt)', renames('INBOX/cur', BULK_EDITS / 2), undefined, true],
    [
      'several big folders adding up',
      [...renames('INBOX/cur', 150), ...renames('Archive/cur', 150)],
      [
        ['INBOX/cur', 392_000],
        ['Archive/cur', 294_000],
      ],
      true,
    ],
  ] as const)('%s → %s', (_, edits, sizes, bulk) => {
    expect(isBulk({ edits, dirSizes: sizes && new Map(sizes) })).toBe(bulk);
  });

  it('a commit made bulk by its directory sizes writes the same tree as fast-import would', async () => {
    const dir = newRepo();
    const a = blob(dir, 'a\n');
    const names = Array.from({ length: 300 }, (_, i) => `INBOX/cur/${1700000000 + i}.M${i}P1.h:2,S`);
    const first = await fastCommit(dir, { ref: 'refs/heads/main', parent: null, edits: names.map((path) => ({ path, oid: a })), message: 'base\n', when: 1 });
    const edits = names.slice(0, 100).flatMap((path) => [
      { path, oid: null },
      { path: `${path}F`, oid: a },
    ]);
    const big = new Map([['INBOX/cur', BULK_WORK]]);
    expect(isBulk({ edits, dirSizes: big })).toBe(true);
    const viaImport = await fastCommit(dir, {
      ref: 'refs/heads/side',
      parent: null,
      edits: names.map((path) => ({ path, oid: a })),
      message: 'base\n',
      when: 1,
    });
    const second = await fastCommit(dir, { ref: 'refs/heads/main', parent: first, edits, dirSizes: big, message: 'bulk\n', when: 2 });
    const third = await fastCommit(dir, { ref: 'refs/heads/side', parent: viaImport, edits, message: 'import\n', when: 2 });
    expect(gitIn(dir, ['rev-parse', `${second}^{tree}`])).toBe(gitIn(dir, ['rev-parse', `${third}^{tree}`]));
    expect(gitIn(dir, ['fsck', '--strict'])).toBe('');
  });
});

describe('FastCommitter (one long-lived fast-import, real git)', () => {
  it('commits again and again, each moving the ref at once; follows a ref another writer moved', async () => {
    const dir = newRepo();
    const a = blob(dir, 'a\n');
    const fc = new FastCommitter(dir);
    try {
      const c1 = await fc.commit({ ref: 'refs/heads/main', parent: null, edits: [{ path: 'INBOX/cur/1:2,', oid: a }], message: 'one\n', when: 1 });
      expect(gitIn(dir, ['rev-parse', 'refs/heads/main'])).toBe(c1);
      const c2 = await fc.commit({
        ref: 'refs/heads/main',
        parent: c1,
        edits: [
          { path: 'INBOX/cur/1:2,', oid: null },
          { path: 'INBOX/cur/1:2,S', oid: a },
        ],
        message: 'two\n',
        when: 2,
      });
      expect(gitIn(dir, ['rev-parse', 'refs/heads/main'])).toBe(c2);
      // Another writer commits meanwhile (as a sync's apply would): the next commit starts from it.
      const other = await fastCommit(dir, { ref: 'refs/heads/main', parent: c2, edits: [{ path: 'Archive/cur/9:2,S', oid: a }], message: 'other\n', when: 3 });
      const c3 = await fc.commit({ ref: 'refs/heads/main', parent: other, edits: [{ path: 'INBOX/cur/2:2,', oid: a }], message: 'three\n', when: 4 });
      expect(gitIn(dir, ['rev-parse', 'refs/heads/main'])).toBe(c3);
      expect(ls(dir, c3)).toEqual(['Archive/cur/9:2,S', 'INBOX/cur/1:2,S', 'INBOX/cur/2:2,']);
    } finally {
      await fc.close();
    }
    // Closing does not move the ref back to the importer's own tip.
    expect(gitIn(dir, ['rev-list', '--count', 'refs/heads/main'])).toBe('4');
    expect(gitIn(dir, ['fsck', '--strict'])).toBe('');
  });

  it('leaves a ref alone that moved to a commit its new one does not contain', async () => {
    const dir = newRepo();
    const a = blob(dir, 'a\n');
    const fc = new FastCommitter(dir);
    let other = '';
    try {
      const base = await fc.commit({ ref: 'refs/heads/main', parent: null, edits: [{ path: 'x/cur/1', oid: a }], message: 'base\n', when: 1 });
      other = await fastCommit(dir, { ref: 'refs/heads/main', parent: base, edits: [{ path: 'x/cur/2', oid: a }], message: 'other\n', when: 2 });
      const stale = await fc.commit({ ref: 'refs/heads/main', parent: base, edits: [{ path: 'x/cur/3', oid: a }], message: 'stale\n', when: 3 });
      expect(stale).not.toBe(other);
      expect(gitIn(dir, ['rev-parse', 'refs/heads/main'])).toBe(other);
    } finally {
      await fc.close();
    }
    // Nor does closing the importer, whose own tip is the stale commit.
    expect(gitIn(dir, ['rev-parse', 'refs/heads/main'])).toBe(other);
  });
});

describe('readers', () => {
  it('parseCommitInfo reads the tree and the clock trailer of the last paragraph only', () => {
    const tree = 'c'.repeat(40);
    const body = (msg: string) => Buffer.from(`tree ${tree}\nauthor a <a> 1 +0000\ncommitter a <a> 1 +0000\n\n${msg}`);
    expect(parseCommitInfo('x', body('INBOX: 1 read\n\nMailgit-Replica: a\nMailgit-Clock: 42\n'))).toEqual({ commit: 'x', tree, clock: 42 });
    expect(parseCommitInfo('x', body('Mailgit-Clock: 9 in the subject\n\nplain body\n')).clock).toBe(null);
    expect(parseCommitInfo('x', body('no trailers\n')).clock).toBe(null);
    expect(() => parseCommitInfo('x', Buffer.from('garbage'))).toThrow(/no tree/);
  });

  it('indexTree lists what git ls-tree lists (files, subtrees, executables, non-ASCII names)', () => {
    const dir = newRepo();
    const a = blob(dir, 'a\n');
    const sub = gitIn(dir, ['mktree'], `100644 blob ${a}\tinner\n`);
    const tree = gitIn(
      dir,
      ['mktree'],
      `${[`100644 blob ${a}\t1.M1P1.h:2,S`, `100755 blob ${a}\tx.sh`, `100644 blob ${a}\tEntwürfe`, `040000 tree ${sub}\tsub`].join('\n')}\n`,
    );
    const raw = spawnSync('git', ['cat-file', 'tree', tree], { cwd: dir }).stdout;
    const ix = indexTree(raw);
    const expected = gitOut(dir, ['-c', 'core.quotepath=false', 'ls-tree', tree])
      .trim()
      .split('\n')
      .map((l) => {
        const [meta, name] = l.split('\t') as [string, string];
        const [mode, , oid] = meta.split(' ');
        return { name, blob: mode !== '040000', oid };
      });
    expect(ix.names.map((name, i) => ({ name, blob: ix.isBlob[i], oid: ix.oidAt(i) }))).toEqual(expected);
    expect(() => indexTree(readFileSync(__filename).subarray(0, 30))).toThrow(/damaged/);
  });
});
