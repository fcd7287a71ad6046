/**
 * What decides how git stores and checks out bytes is mailgit's, never a peer's: a
 * hostile peer's `.gitattributes` (`* text eol=crlf ident`) is refused by sync and clone,
 * a local edit of it is not recorded, `.git/info/attributes` keeps a checkout byte-exact
 * even with such a file in HEAD, and a plain `git clone` of a hub (with a Windows user's
 * `core.autocrlf=true`) gets every message byte for byte. Messages from the shared corpus:
 * CRLF and 8-bit ones.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gitOut, mailgit, tempDir } from '../helpers/cli.js';
import { addRemote, bareHub, cloneReplica, headFiles, mg } from '../helpers/replica.js';
import { CORPORA, filesUnder } from '../helpers/corpora.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Up to 30 corpus messages with CRLF line ends and 30 with 8-bit bytes (and LF). */
function corpusMessages(): Buffer[] {
  const all = filesUnder(CORPORA!).map((f) => readFileSync(f));
  const crlf = all.filter((b) => b.includes('\r\n')).slice(0, 30);
  const eightBit = all.filter((b) => !b.includes('\r\n') && b.some((x) => x >= 0x80)).slice(0, 30);
  return [...crlf, ...eightBit];
}

/** An adopted replica holding the corpus messages; returns its path and the wanted digests. */
function corpusReplica(name: string): { repo: string; want: Map<string, string> } {
  const repo = join(tempDir(), name);
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(repo, 'INBOX', sub), { recursive: true });
  const want = new Map<string, string>();
  corpusMessages().forEach((b, i) => {
    const p = `INBOX/cur/1600000000.M${i}P1.corpus:2,S`;
    writeFileSync(join(repo, p), b);
    want.set(p, sha(b));
  });
  expect(mailgit(['init', repo, '--name', name]).code).toBe(0);
  return { repo, want };
}

function expectBytes(repo: string, want: Map<string, string>): void {
  for (const [p, h] of want) expect(existsSync(join(repo, p)) ? sha(readFileSync(join(repo, p))) : 'missing', p).toBe(h);
}

/** Plain git without mailgit's hooks: what a hostile peer (or an old mailgit) can do. */
function hostile(repo: string, args: string[]): string {
  return gitOut(repo, ['-c', 'core.hooksPath=/dev/null', '-c', 'user.name=Evil', '-c', 'user.email=e@example.org', ...args]);
}

const EVIL = '* text eol=crlf ident\n';

describe.skipIf(!CORPORA)("bytes are mailgit's to decide", () => {
  it("a peer's committed .gitattributes is refused by sync and by clone; nothing moves", () => {
    const { repo: a, want } = corpusReplica('a');
    expect(want.size).toBeGreaterThan(20);
    const hub = bareHub(join(tempDir(), 'hub.git'));
    addRemote(a, 'hub', hub);
    mg(a, ['sync']);
    const b = cloneReplica(hub, join(tempDir(), 'b'), 'b');
    writeFileSync(join(b, '.gitattributes'), EVIL);
    hostile(b, ['commit', '-q', '-a', '-m', 'evil']);
    hostile(b, ['push', '-q', 'origin', 'main']);
    const head = gitOut(a, ['rev-parse', 'HEAD']);
    const s = mailgit(['-C', a, 'sync']);
    expect(s.code, s.stderr).toBe(65);
    expect(s.stderr).toMatch(/\.gitattributes.*not mailgit's own content/);
    expect(gitOut(a, ['rev-parse', 'HEAD'])).toBe(head);
    expectBytes(a, want);
    const dst = join(tempDir(), 'c');
    const c = mailgit(['clone', hub, dst, '--name', 'c']);
    expect(c.code, c.stderr).toBe(65);
    expect(existsSync(dst)).toBe(false);
    // Removing it is refused too (a plain clone without it converts under autocrlf).
    hostile(b, ['reset', '-q', '--hard', 'HEAD~1']);
    hostile(b, ['rm', '-q', '.gitattributes']);
    hostile(b, ['commit', '-q', '-m', 'no attributes']);
    hostile(b, ['push', '-q', '-f', 'origin', 'main']);
    const s2 = mailgit(['-C', a, 'sync']);
    expect(s2.code, s2.stderr).toBe(65);
    expect(s2.stderr).toMatch(/\.gitattributes.*removed/);
    expect(gitOut(a, ['rev-parse', 'HEAD'])).toBe(head);
  });

  it('a local edit of .gitattributes or .gitignore is not recorded, and a plain git clone of the hub is byte-exact', () => {
    const { repo: a, want } = corpusReplica('a');
    const attrs = headFiles(a).get('.gitattributes');
    const ignore = headFiles(a).get('.gitignore');
    writeFileSync(join(a, '.gitattributes'), EVIL);
    writeFileSync(join(a, '.gitignore'), '*\n');
    const r = mailgit(['-C', a, 'commit']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\.gitattributes restored/);
    expect(headFiles(a).get('.gitattributes')).toBe(attrs);
    expect(headFiles(a).get('.gitignore')).toBe(ignore);
    expect(readFileSync(join(a, '.gitattributes'), 'utf8')).not.toBe(EVIL);
    const hub = bareHub(join(tempDir(), 'hub.git'));
    addRemote(a, 'hub', hub);
    mg(a, ['sync']);
    const plainClone = join(tempDir(), 'plain');
    gitOut('/', ['-c', 'core.autocrlf=true', 'clone', '-q', hub, plainClone]);
    const got = new Map(filesUnder(join(plainClone, 'INBOX')).map((p) => [relative(plainClone, p), p]));
    for (const [p, h] of want) expect(sha(readFileSync(got.get(p)!)), p).toBe(h);
  });

  it('.git/info/attributes keeps checkouts byte-exact even with a hostile .gitattributes in HEAD', () => {
    const { repo: a, want } = corpusReplica('a');
    const b = cloneReplica(a, join(tempDir(), 'b'), 'b');
    expect(readFileSync(join(b, '.git', 'info', 'attributes'), 'utf8')).toMatch(/-text .*-working-tree-encoding/);
    // As an old mailgit or a plain git commit could have left it: in HEAD, past validation.
    for (const repo of [a, b]) {
      writeFileSync(join(repo, '.gitattributes'), EVIL);
      hostile(repo, ['commit', '-q', '-a', '-m', 'evil']);
      rmSync(join(repo, 'INBOX', 'cur'), { recursive: true });
      hostile(repo, ['checkout', '-q', '--', 'INBOX']);
      expectBytes(repo, want);
      expect(gitOut(repo, ['status', '--porcelain'])).toBe('');
    }
    // And the copy git hashes is the copy on disk.
    for (const [p] of want) expect(gitOut(a, ['hash-object', p]).trim()).toBe(headFiles(a).get(p)!.split(' ')[1]);
  });
});
