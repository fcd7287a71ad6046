/**
 * Header reading for `log`: real corpus messages, many malformed, never throw.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readHeaders } from '../../src/maildir/headers.js';
import { CORPORA } from '../helpers/corpora.js';

function corpusFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...corpusFiles(p));
    else if (!/^(ORIGIN|README)/i.test(name)) out.push(p);
  }
  return out;
}

describe('readHeaders', () => {
  it('reads subject, sender, date and Message-ID of a CRLF message', async () => {
    const h = await readHeaders(
      Buffer.from(
        'From: Alice <alice@example.org>\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nDate: Fri, 17 Nov 2023 10:00:00 +0000\r\nMessage-ID: <x@example.org>\r\n\r\nbody\r\n',
      ),
    );
    expect(h).toEqual({ subject: 'Grüße', from: '"Alice" <alice@example.org>', date: '2023-11-17T10:00:00.000Z', messageId: '<x@example.org>' });
  });

  it('gives null fields for an empty message and for binary garbage', async () => {
    expect(await readHeaders(Buffer.alloc(0))).toEqual({ subject: null, from: null, date: null, messageId: null });
    const garbage = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256));
    const h = await readHeaders(garbage);
    expect(h.date).toBeNull();
  });

  it.skipIf(!CORPORA)('never throws on any corpus message', async () => {
    const files = corpusFiles(CORPORA!);
    expect(files.length).toBeGreaterThan(600);
    let withSubject = 0;
    for (const f of files) {
      const h = await readHeaders(readFileSync(f));
      if (h.subject) withSubject++;
    }
    expect(withSubject).toBeGreaterThan(files.length / 2);
  });
});
