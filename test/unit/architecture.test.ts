/**
 * The pure core stays pure: src/maildir and src/merge import no file system, process,
 * network, git or IMAP module and read no clock. And watch records only through a
 * RecordSession (src/repo/record.ts): src/watch imports nothing from src/git.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const FORBIDDEN = [
  /from 'node:(fs|fs\/promises|child_process|net|tls|http|https|os|dgram)'/,
  /from '(fs|child_process|imapflow|chokidar)'/,
  /from '\.\.\/(git|repo|sync|fetch|watch|deliver|store)\//,
  /\bDate\.now\(|new Date\(\)|process\.hrtime|performance\.now/,
];

describe('pure core', () => {
  for (const dir of ['maildir', 'merge']) {
    it(`src/${dir} imports no I/O and reads no clock`, () => {
      const root = join(__dirname, '../../src', dir);
      const files = readdirSync(root).filter((f) => f.endsWith('.ts'));
      expect(files.length).toBeGreaterThan(3);
      for (const f of files) {
        const text = readFileSync(join(root, f), 'utf8');
        for (const re of FORBIDDEN) expect(`${f}: ${re.test(text) ? re.source : 'clean'}`).toBe(`${f}: clean`);
      }
    });
  }
});

describe('watch records through the repo', () => {
  it('src/watch imports nothing from src/git', () => {
    const root = join(__dirname, '../../src/watch');
    const files = readdirSync(root).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) {
      const text = readFileSync(join(root, f), 'utf8');
      expect(`${f}: ${/from '\.\.\/git\//.test(text) ? 'imports src/git' : 'clean'}`).toBe(`${f}: clean`);
    }
  });
});

describe('sync reaches history through the port; src ships no test code', () => {
  it('the sync loop (src/sync/sync.ts, replica.ts) imports nothing from src/git', () => {
    for (const f of ['sync.ts', 'replica.ts']) {
      const text = readFileSync(join(__dirname, '../../src/sync', f), 'utf8');
      expect(`${f}: ${/from '\.\.\/git\//.test(text) ? 'imports src/git' : 'clean'}`).toBe(`${f}: clean`);
    }
  });

  it('no file under src imports from test/ or bench/', () => {
    const root = join(__dirname, '../../src');
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(50);
    for (const f of files) {
      const text = readFileSync(join(root, f), 'utf8');
      expect(`${f}: ${/from '(\.\.\/)+(test|bench)\//.test(text) ? 'imports test or bench' : 'clean'}`).toBe(`${f}: clean`);
    }
  });
});

describe('one shape per call', () => {
  const root = join(__dirname, '../..');

  it('biome holds src/ to at most three positional parameters (complexity/useMaxParams, max 3)', () => {
    const config = readFileSync(join(root, 'biome.jsonc'), 'utf8');
    expect(config).toMatch(
      /"includes": \["src\/\*\*"\],\s*"linter": \{ "rules": \{ "complexity": \{ "useMaxParams": \{ "level": "error", "options": \{ "max": 3 \}/,
    );
  });

  it('each shape kept on purpose is the known one and says why', () => {
    const files = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const kept: string[] = [];
    for (const f of files) {
      for (const line of readFileSync(join(root, 'src', f), 'utf8').split('\n')) {
        const m = /biome-ignore lint\/complexity\/useMaxParams:(.*)$/.exec(line);
        if (m) kept.push(`${f}: ${m[1]!.trim().length >= 40 ? 'with a reason' : 'no reason'}`);
      }
    }
    expect(kept).toEqual(['fetch/imapSource.ts: with a reason']);
  });
});
