/**
 * Crash injection for `fetch` against the test Dovecot: messages (generated, plus a seeded
 * sample of the shared corpora, appended over IMAP) are fetched by a run SIGKILLed at a
 * seeded moment; after each kill `git fsck --strict` is clean, the rerun succeeds, and the
 * messages equal those of an uninterrupted fetch (nothing lost, nothing doubled), with the
 * Maildir equal to HEAD. The uninterrupted fetch also proves corpus bytes survive
 * APPEND → fetch (compared with what Dovecot stored).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Rand, blobId, cli, diskVsHead, fsckStrict, longRun, messageShapes, mgOk, reproduce, restore, seeds, tempDir, treeFiles } from './lib.js';
import { messageText } from './client.js';
import { startDovecot } from '../helpers/dovecot.js';
import type { Dovecot } from '../helpers/dovecot.js';
import { CORPORA, filesUnder } from '../helpers/corpora.js';

const FILE = 'test/torture/fetch.test.ts';
let dc: Dovecot;

function corpusSample(r: Rand, n: number): Buffer[] {
  if (!CORPORA) return [];
  const all = filesUnder(CORPORA).filter((p) => !p.endsWith('/README.md') && statSync(p).size > 0);
  return r
    .shuffle(all)
    .slice(0, n)
    .map((p) => readFileSync(p));
}

beforeAll(async () => {
  dc = await startDovecot();
  const r = new Rand(3);
  const corpus = corpusSample(r, longRun() ? 200 : 25);
  await dc.append(
    'INBOX',
    Array.from({ length: 30 }, () => messageText(r, 'imap')),
  );
  if (corpus.length > 0) await dc.append('INBOX', corpus);
  await dc.append(
    'Lists/x',
    Array.from({ length: 15 }, () => messageText(r, 'list')),
    { flags: ['\\Seen'] },
  );
}, 300_000);
afterAll(async () => {
  await dc?.stop();
});

describe('crash injection: fetch', () => {
  test.each(seeds([51], 6))(
    'seed %i',
    async (seed) => {
      const r = new Rand(seed);
      const root = tempDir();
      const a = join(root, 'a');
      const env = { MAILGIT_PASSWORD_WORK: dc.password };
      await mgOk(['init', a, '--name', 'a']);
      await mgOk(['-C', a, 'account', 'add', 'work', '--host', '127.0.0.1', '--port', String(dc.port), '--no-tls', '--user', dc.user]);
      const snap = join(root, 'snap');
      restore(a, snap);
      const ref = await mgOk(['-C', a, 'fetch'], { env });
      const refShapes = messageShapes(treeFiles(a));
      // Bytes: every INBOX message is in the repo as IMAP serves it: Dovecot's stored file
      // with bare LF sent as CRLF (its maildir keeps LF; IMAP is CRLF), nothing else changed.
      const serverBlobs = new Set<string>();
      for (const sub of ['cur', 'new'])
        for (const n of readdirSync(join(dc.mailRoot, sub))) {
          const raw = readFileSync(join(dc.mailRoot, sub, n));
          const crlf = Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
          serverBlobs.add(blobId(crlf));
        }
      // Every distinct message Dovecot stored (it refuses a few corpus files), and the 15 of Lists/x.
      expect(serverBlobs.size).toBeGreaterThanOrEqual(30);
      expect(refShapes.length, `server: ${serverBlobs.size} distinct INBOX messages`).toBeGreaterThanOrEqual(serverBlobs.size + 15);
      const repoBlobs = new Set(refShapes.map((s) => s.split('|')[3]));
      for (const b of serverBlobs) expect(repoBlobs.has(b), `server message ${b} not fetched byte-identical`).toBe(true);
      const points = longRun() ? 8 : 3;
      for (let p = 0; p < points; p++) {
        const ms = Math.round(ref.ms * (0.1 + 0.85 * r.next()));
        const group = r.chance(0.5);
        restore(snap, a);
        const run = await cli(['-C', a, 'fetch'], { env, killAfterMs: ms, killGroup: group });
        const ctx = `${reproduce(FILE, seed, `kill point ${p}: SIGKILL ${group ? 'group' : 'node'} at ${ms} ms, ${run.killed ? 'killed' : `finished first (exit ${run.code})`}`)}\n${run.stderr}`;
        fsckStrict(a);
        const again = await cli(['-C', a, 'fetch'], { env });
        expect(again.code, `${ctx}\nrerun: ${again.stderr}`).toBe(0);
        expect(messageShapes(treeFiles(a)), ctx).toEqual(refShapes);
        expect(diskVsHead(a), ctx).toBe('');
        fsckStrict(a);
      }
    },
    1_800_000,
  );
});
