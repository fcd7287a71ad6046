/**
 * One checkpoint format: what fetch writes and what the merge writes for the same content
 * are the same bytes (they differed in field order), and a checkpoint a peer committed is
 * read field by field, never through its prototype.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { readCheckpoint, writeCheckpoint } from '../../src/fetch/checkpoint.js';
import { type Checkpoints, checkpointPath, formatCheckpoints, mergeCheckpointFile, parseCheckpoints } from '../../src/merge/checkpoints.js';
import { MergeContext } from '../../src/merge/context.js';
import { emptySnapshot } from '../../src/merge/emptySnapshot.js';
import { at } from './merge.helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Writes `cp` the way fetch does and returns the file's bytes. */
async function fetched(cp: Checkpoints): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'mailgit-cp-'));
  dirs.push(root);
  await writeCheckpoint({ root, gitDir: join(root, '.git') }, 'work', cp);
  return readFileSync(join(root, checkpointPath('work')), 'utf8');
}

describe('checkpoints: one format for fetch and merge', () => {
  test('a merged checkpoint is byte for byte what fetch writes for the same content', async () => {
    const file = (cp: Checkpoints) => ({ blob: '', content: formatCheckpoints(cp) });
    const base = file({ INBOX: { uidValidity: '7', uid: 10, modseq: '9' } });
    const ours = file({ INBOX: { uidValidity: '7', uid: 20, modseq: '9' }, Sent: { uidValidity: '3', uid: 4 } });
    const theirs = file({ INBOX: { uidValidity: '7', uid: 15, modseq: '10' } });
    const side = (replica: string, hhmm: string) => ({ snapshot: emptySnapshot(), stamp: at(hhmm, replica) });
    const ctx = new MergeContext(side('a', '10:00'), side('b', '11:00'));
    const merged = mergeCheckpointFile({ base, ours, theirs }, ctx);
    const expected = { Sent: { uidValidity: '3', uid: 4 }, INBOX: { uidValidity: '7', uid: 20, modseq: '10' } };
    expect(merged?.content).toBe(await fetched(expected));
  });

  test('fetch reads back what it wrote, whatever order the folders were added in', async () => {
    const cp: Checkpoints = { 'Lists/rust': { uidValidity: '1700000001', uid: 312 }, INBOX: { uidValidity: '1700000000', uid: 4711, modseq: '98765' } };
    const text = await fetched(cp);
    expect(text).toBe(
      '{\n  "INBOX": {\n    "uidValidity": "1700000000",\n    "uid": 4711,\n    "modseq": "98765"\n  },\n  "Lists/rust": {\n    "uidValidity": "1700000001",\n    "uid": 312\n  }\n}\n',
    );
    expect(parseCheckpoints(text)).toEqual(cp);
  });

  test('entries of the wrong shape: the merge refuses the file, fetch leaves out just those folders', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mailgit-cp-'));
    dirs.push(root);
    const text =
      '{"INBOX": "yesterday", "Sent": {"uidValidity": "1", "uid": -1}, "Drafts": {"uidValidity": "2", "uid": 5, "modseq": "x"}, "Work": {"uidValidity": "3", "uid": 9}}';
    expect(parseCheckpoints(text)).toBeUndefined();
    await writeCheckpoint({ root, gitDir: join(root, '.git') }, 'work', {});
    writeFileSync(join(root, checkpointPath('work')), text);
    expect(await readCheckpoint(root, 'work')).toEqual({ Work: { uidValidity: '3', uid: 9 } });
  });

  test('a folder called __proto__ is a folder, not a prototype', () => {
    const text = '{"__proto__": {"uidValidity": "1", "uid": 2}}';
    const cp = parseCheckpoints(text)!;
    expect(Object.keys(cp)).toEqual(['__proto__']);
    expect(formatCheckpoints(cp)).toBe('{\n  "__proto__": {\n    "uidValidity": "1",\n    "uid": 2\n  }\n}\n');
  });
});
