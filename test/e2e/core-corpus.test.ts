/**
 * Byte-exact: every file of the shared corpora (CRLF, LF, 8-bit, malformed, zero bytes)
 * placed in a Maildir, adopted by `mailgit init`, cloned — and every byte identical.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, copyFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { mailgit, tempDir } from '../helpers/cli.js';
import { CORPORA, filesUnder } from '../helpers/corpora.js';

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe.skipIf(!CORPORA)('corpus round trip', () => {
  it('init (adopt) → clone keeps every message byte-identical', () => {
    const all = filesUnder(CORPORA!);
    expect(all.length).toBeGreaterThanOrEqual(668);
    const src = join(tempDir(), 'src');
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(src, 'INBOX', sub), { recursive: true });
    const want = new Map<string, string>();
    all.forEach((f, i) => {
      // A unique Maildir name per file; half seen (cur/ with flags), half new.
      const key = `1600000000.M${i}P1.corpus`;
      const name = i % 2 ? `cur/${key}:2,${i % 3 ? 'S' : 'FS'}` : `new/${key}`;
      copyFileSync(f, join(src, 'INBOX', name));
      want.set(`INBOX/${name}`, sha(f));
    });
    expect([...want.keys()].some((k) => statSync(join(src, k)).size === 0)).toBe(true);
    const init = mailgit(['init', src, '--name', 'a']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(new RegExp(`INBOX: ${all.length} delivered`));
    const dst = join(tempDir(), 'dst');
    const c = mailgit(['clone', src, dst, '--name', 'b']);
    expect(c.code, c.stderr).toBe(0);
    const got = new Map(filesUnder(join(dst, 'INBOX')).map((p) => [relative(dst, p), sha(p)]));
    const msgs = new Map([...got].filter(([k]) => !k.endsWith('maildirfolder')));
    expect(msgs.size).toBe(want.size);
    for (const [k, h] of want) expect(msgs.get(k), k).toBe(h);
    for (const sub of ['cur', 'new', 'tmp']) expect(statSync(join(dst, 'INBOX', sub)).isDirectory()).toBe(true);
  });
});
