/**
 * Test helpers: build commits by hand with git plumbing (hash-object, mktree, commit-tree),
 * for remotes whose trees hold what `git add` would never write (`../x`, `.git/hooks`,
 * control characters or invalid UTF-8 in names, symlinks, submodules, ...).
 */
import { spawnSync } from 'node:child_process';

/** One tree entry, by full path (a string, or any bytes). */
export interface Entry {
  path: string | Buffer;
  mode: string;
  oid: string;
}

/**
 * Runs git in `gitDir` (bare or `.git`) with `input` on stdin; returns trimmed stdout.
 * Without hooks: this is a peer writing history directly, past mailgit's guards.
 */
export function plumb(gitDir: string, args: string[], input?: string | Buffer): string {
  const r = spawnSync('git', ['--git-dir', gitDir, '-c', 'core.hooksPath=/dev/null', ...args], { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout.toString('utf8').trim();
}

/** Writes a blob; returns its id. */
export function blob(gitDir: string, content: string | Buffer): string {
  return plumb(gitDir, ['hash-object', '-w', '--stdin'], content);
}

/** Writes nested trees for flat `entries` with `mktree -z --missing`; returns the root tree. */
export function buildTree(gitDir: string, entries: Entry[]): string {
  const here: Buffer[] = [];
  const sub = new Map<string, Entry[]>();
  for (const e of entries) {
    const p = Buffer.isBuffer(e.path) ? e.path : Buffer.from(e.path);
    const slash = p.indexOf(0x2f);
    if (slash < 0) {
      const type = e.mode === '160000' ? 'commit' : e.mode === '040000' ? 'tree' : 'blob';
      here.push(Buffer.concat([Buffer.from(`${e.mode} ${type} ${e.oid}\t`), p, Buffer.from([0])]));
    } else {
      const dir = p.subarray(0, slash).toString('latin1');
      const list = sub.get(dir) ?? [];
      list.push({ ...e, path: p.subarray(slash + 1) }); // in place: a copy per entry is quadratic at 100k
      sub.set(dir, list);
    }
  }
  for (const [dir, list] of sub)
    here.push(Buffer.concat([Buffer.from(`040000 tree ${buildTree(gitDir, list)}\t`), Buffer.from(dir, 'latin1'), Buffer.from([0])]));
  return plumb(gitDir, ['mktree', '-z', '--missing'], Buffer.concat(here));
}

/** The entries (files, links, submodules) of a commit's tree, paths as strings. */
export function entriesOf(gitDir: string, rev: string): (Entry & { path: string })[] {
  return plumb(gitDir, ['ls-tree', '-r', '-z', rev])
    .split('\0')
    .filter(Boolean)
    .map((rec) => {
      const tab = rec.indexOf('\t');
      const [mode, , oid] = rec.slice(0, tab).split(' ') as [string, string, string];
      return { path: rec.slice(tab + 1), mode, oid };
    });
}

/**
 * Commits `entries` on top of `parent` (null: a root commit) as `main` of `gitDir`, with a
 * message in mailgit's format from a replica named `evil`; returns the commit.
 */
export function commitMain(gitDir: string, entries: Entry[], parent: string | null): string {
  const msg = 'INBOX: 1 delivered\n\nMailgit-Replica: evil\nMailgit-Clock: 999\n';
  const commit = plumb(gitDir, ['commit-tree', buildTree(gitDir, entries), ...(parent ? ['-p', parent] : []), '-m', msg]);
  plumb(gitDir, ['update-ref', 'refs/heads/main', commit]);
  return commit;
}
