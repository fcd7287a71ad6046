/**
 * `status` reports what recording never takes — a name with a tab, a symlink, a directory
 * where messages go — in words and under `unrecorded` in its JSON, while what can be
 * recorded still is.
 */
import { expect, test } from 'vitest';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { arrive, initReplica, mg } from '../helpers/replica.js';

test('status names the files commit never records, and commit still records the rest', () => {
  const a = initReplica(join(tempDir(), 'a'), 'a');
  arrive(a, 'fine');
  writeFileSync(join(a, 'INBOX', 'new', '1700000000.M1P1.a\tb'), 'Subject: tab\n\nx\n');
  symlinkSync('/etc/hostname', join(a, 'INBOX', 'cur', '1700000001.M1P1.link:2,S'));
  mkdirSync(join(a, 'INBOX', 'cur', 'attachments'));
  const text = mg(a, ['status']).stdout;
  expect(text).toMatch(/^ {2}INBOX: 1 delivered\nnever recorded \(rename or move them to replicate them\):\n/m);
  expect(text).toContain('  cannot replicate: "INBOX/new/1700000000.M1P1.a\\tb" (control character in name)\n');
  expect(text).toContain('  cannot replicate: "INBOX/cur/1700000001.M1P1.link:2,S" (not a regular file)\n');
  expect(text).toContain('  cannot replicate: "INBOX/cur/attachments" (a directory where messages go)\n');
  const json = JSON.parse(mg(a, ['status', '--json']).stdout) as { unrecorded: { path: string }[] };
  expect(json.unrecorded.map((u) => u.path).sort()).toEqual(['INBOX/cur/1700000001.M1P1.link:2,S', 'INBOX/cur/attachments', 'INBOX/new/1700000000.M1P1.a\tb']);
  mg(a, ['commit']);
  const after = JSON.parse(mg(a, ['status', '--json']).stdout) as { clean: boolean; unrecorded: unknown[] };
  expect(after).toMatchObject({ clean: true });
  expect(after.unrecorded).toHaveLength(3);
});
