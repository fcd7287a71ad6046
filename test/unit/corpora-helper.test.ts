/**
 * The one way tests find the shared corpora (test/helpers/corpora.ts): relative to the
 * repository (a linked worktree looks beside its main working tree), overridable, and a
 * hard failure under CI=true instead of a silent skip.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { corporaCandidates, findCorpora } from '../helpers/corpora.js';
import { tempDir } from '../helpers/cli.js';

describe('finding the corpora', () => {
  it('looks only beside the repository, never at a fixed machine path', () => {
    const c = corporaCandidates({});
    expect(c.length).toBeGreaterThan(0);
    for (const d of c) expect(d.endsWith(join('shared', 'corpora'))).toBe(true);
    expect(c).toContain(resolve(__dirname, '../../../shared/corpora'));
  });

  it('MAILGIT_CORPORA overrides where to look', () => {
    const d = tempDir();
    expect(findCorpora({ MAILGIT_CORPORA: d })).toBe(d);
  });

  it('a missing corpus skips (null) outside CI and fails the run under CI=true', () => {
    const gone = join(tempDir(), 'nothing-here');
    expect(existsSync(gone)).toBe(false);
    expect(findCorpora({ MAILGIT_CORPORA: gone })).toBeNull();
    expect(() => findCorpora({ MAILGIT_CORPORA: gone, CI: 'true' })).toThrow(/corpora are missing/);
  });
});
