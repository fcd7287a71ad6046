/**
 * Malformed mail: every file of the shared corpora (read in place, never copied into the
 * project) goes through a client drop + commit + sync (to a hub, then out through both
 * `clone` and the apply path of a replica that syncs), and through `deliver`; each must
 * arrive byte-identical — CRLF, bare LF, 8-bit, zero-byte, header-less and binary garbage
 * included. `log` and `log --message` must not crash on any of it.
 * CI delivers a seeded sample through `deliver` (one process per message); with
 * MAILGIT_TORTURE_SEEDS set, every file.
 */
import { describe, expect, test } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Rand, cli, diskVsHead, fsckStrict, git, longRun, mgOk, tempDir } from './lib.js';
import { makeFolder } from './client.js';
import { CORPORA as FOUND, filesUnder } from '../helpers/corpora.js';

const CORPORA = FOUND ?? '';
const FILES = FOUND ? filesUnder(CORPORA).filter((p) => p !== join(CORPORA, 'README.md')) : [];
const rel = (p: string) => p.slice(CORPORA.length + 1);

describe.skipIf(!FOUND)('malformed mail: every corpus file survives sync byte for byte', () => {
  test('drop + commit + sync to a hub; clone and an applying replica get identical bytes', async () => {
    expect(FILES.length).toBeGreaterThan(600);
    const root = tempDir();
    const a = join(root, 'a');
    const hub = join(root, 'hub.git');
    await mgOk(['init', a, '--name', 'a']);
    makeFolder(a, 'Corpus');
    const where = new Map<string, string>(); // repo path → corpus file
    FILES.forEach((f, i) => {
      const key = `1700${String(i).padStart(6, '0')}.M${i}P1.corpus`;
      const path = i % 5 === 0 ? `Corpus/new/${key}` : `Corpus/cur/${key}:2,${i % 3 === 0 ? 'S' : 'FS'}`;
      writeFileSync(join(a, path), readFileSync(f));
      where.set(path, f);
    });
    await mgOk(['-C', a, 'commit']);
    git(root, ['init', '-q', '--bare', '-b', 'main', hub]);
    git(a, ['remote', 'add', 'hub', hub]);
    await mgOk(['-C', a, 'sync']);
    const b = join(root, 'b');
    await mgOk(['clone', hub, b, '--name', 'b']);
    const c = join(root, 'c');
    await mgOk(['init', c, '--name', 'c']);
    git(c, ['remote', 'add', 'hub', hub]);
    await mgOk(['-C', c, 'sync']);
    const bad: string[] = [];
    for (const repo of [a, b, c]) {
      for (const [p, f] of where) {
        let got: Buffer;
        try {
          got = readFileSync(join(repo, p));
        } catch {
          bad.push(`${repo}: ${p} (${rel(f)}) missing`);
          continue;
        }
        if (!got.equals(readFileSync(f))) bad.push(`${repo}: ${p} (${rel(f)}) differs: ${got.length} bytes vs ${readFileSync(f).length}`);
      }
      expect(diskVsHead(repo), repo).toBe('');
      fsckStrict(repo);
    }
    expect(bad.slice(0, 20)).toEqual([]);
    // log over the whole history, and one message's story for a sample of the garbage.
    const r = new Rand(7);
    for (const repo of [a, c]) {
      const l = await cli(['-C', repo, 'log']);
      expect(l.code, l.stderr).toBe(0);
    }
    const paths = [...where.keys()];
    const sample = longRun() ? paths : [...paths.filter((p) => statSync(where.get(p)!).size === 0), ...Array.from({ length: 8 }, () => r.pick(paths))];
    for (const p of sample) {
      const key = p.slice(p.lastIndexOf('/') + 1).split(':')[0]!;
      const l = await cli(['-C', c, 'log', '--message', key]);
      expect(l.code, `${rel(where.get(p)!)}: ${l.stderr}`).toBe(0);
      expect(l.stderr).not.toMatch(/internal error/);
    }
  }, 1_800_000);
});

describe.skipIf(!FOUND)('malformed mail: deliver stores every corpus file as it came', () => {
  test('deliver (seeded sample in CI, every file in the long run)', async () => {
    const root = tempDir();
    const a = join(root, 'a');
    await mgOk(['init', a, '--name', 'a']);
    const r = new Rand(99);
    const special = FILES.filter((f) => {
      const d = readFileSync(f);
      return (
        d.length === 0 ||
        d.includes(0x0d) ||
        d.subarray(0, 5).toString('latin1') === 'From ' ||
        !/^[\x21-\x39\x3b-\x7e]+:/.test(d.subarray(0, 200).toString('latin1'))
      );
    });
    const pick = longRun() ? FILES : [...new Set([...r.shuffle([...special]).slice(0, 12), ...Array.from({ length: 12 }, () => r.pick(FILES))])];
    const bad: string[] = [];
    const work = [...pick];
    const worker = async () => {
      for (let f = work.shift(); f !== undefined; f = work.shift()) {
        const data = readFileSync(f);
        const res = await cli(['-C', a, 'deliver', '--json', '--folder', 'Corpus'], { input: data });
        if (data.length === 0) {
          if (res.code !== 65) bad.push(`${rel(f)}: empty input gave exit ${res.code} (want 65, nothing delivered)`);
          continue;
        }
        if (res.code !== 0) {
          bad.push(`${rel(f)}: exit ${res.code}: ${res.stderr}`);
          continue;
        }
        const out = JSON.parse(res.stdout) as { path: string; warning: string | null };
        if (out.warning) bad.push(`${rel(f)}: ${out.warning}`);
        // An mbox envelope line ("From sender date") is dropped, as dovecot-lda does.
        const want = data.subarray(0, 5).toString('latin1') === 'From ' ? data.subarray(data.indexOf(0x0a) + 1) : data;
        const got = readFileSync(join(a, out.path));
        if (!got.equals(want)) bad.push(`${rel(f)}: stored ${got.length} bytes, want ${want.length}`);
        const inHead = execFileSync('git', ['cat-file', 'blob', `HEAD:${out.path}`], { cwd: a, maxBuffer: 1 << 30 });
        if (!inHead.equals(want)) bad.push(`${rel(f)}: HEAD blob differs`);
      }
    };
    await Promise.all([worker(), worker()]);
    expect(bad).toEqual([]);
    await mgOk(['-C', a, 'commit']);
    expect(diskVsHead(a)).toBe('');
    fsckStrict(a);
    const l = await cli(['-C', a, 'log', '-n', '50']);
    expect(l.code, l.stderr).toBe(0);
  }, 3_600_000);
});
