/**
 * Algebraic properties of the merge on random (often nonsensical) inputs: symmetry,
 * idempotence, and the unchanged side giving way.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileEntry, MessageEntry, Snapshot, Stamp } from '../../src/maildir/snapshot.js';
import { messageMap } from '../../src/merge/identity.js';
import { flagsOf, sortFlags } from '../../src/maildir/name.js';
import { mergeFlags } from '../../src/merge/flags.js';
import { BEFORE_HISTORY } from '../../src/merge/lastChange.js';
import { merge } from '../../src/merge/merge.js';
import { brief, cpFile, mirror, side, PROPERTY_RUNS } from './merge.helpers.js';

const IDS = ['k0', 'k1', 'k2', 'k3', 'n1', 'n2'];
const FOLDERS = ['', 'INBOX', 'Archive', 'Trash'];
const entryArb: fc.Arbitrary<Omit<MessageEntry, 'key'>> = fc.record({
  folder: fc.constantFrom(...FOLDERS),
  sub: fc.constantFrom('cur' as const, 'new' as const),
  info: fc.constantFrom('', ':2,', ':2,S', ':2,FS', ':2,SF', ':2,Sa', ':2,T', ':1,x', ':2,b', ':2,ac'),
  blob: fc.constantFrom('b1', 'b2', 'b3', 'b4'),
});
const cpArb = fc
  .record({ v: fc.constantFrom('1', '2'), uid: fc.integer({ min: 0, max: 9 }), modseq: fc.option(fc.constantFrom('9', '10', '100'), { nil: undefined }) })
  .map(({ v, uid, modseq }) => (modseq === undefined ? { uidValidity: v, uid } : { uidValidity: v, uid, modseq }));
/** A stand-in for a git blob id: a function of the content, as the real one is. */
function blobOf(content: string): string {
  let h = 5381;
  for (let i = 0; i < content.length; i++) h = ((h * 33) ^ content.charCodeAt(i)) >>> 0;
  return `h${h.toString(16)}`;
}
const fileArb: fc.Arbitrary<FileEntry> = fc.oneof(
  fc.constantFrom('f1', 'f2', 'f3').map((blob) => ({ blob })),
  fc
    .record({ made: fc.boolean(), INBOX: fc.option(cpArb, { nil: undefined }), Sent: fc.option(cpArb, { nil: undefined }), order: fc.boolean() })
    .map(({ made, INBOX, Sent, order }) => {
      const data: Record<string, { uidValidity: string; uid: number; modseq?: string }> = {};
      if (order) {
        if (Sent) data.Sent = Sent;
        if (INBOX) data.INBOX = INBOX;
      } else {
        if (INBOX) data.INBOX = INBOX;
        if (Sent) data.Sent = Sent;
      }
      const f = cpFile('', data);
      // Either a file as read from git (blob id of the content) or one the merge made (empty blob id).
      return made ? f : { blob: blobOf(f.content!), content: f.content! };
    }),
);

/** A two-way IMAP state file of INBOX (rule 2b reads it): lines for some keys, agreed letters or `-`, a few stamps. */
const STATE = '.mailgit/imap/work/INBOX/0.state';
const stateArb: fc.Arbitrary<FileEntry> = fc
  .dictionary(fc.constantFrom('k0', 'k1', 'k2', 'k3'), fc.tuple(fc.constantFrom(':', ':S', ':F', ':FS', ':a', '-'), fc.constantFrom('10', '20', '30')), {
    maxKeys: 4,
  })
  .map((lines) => {
    const text = `mailgit-imap-state 1 7\n${Object.entries(lines)
      .sort()
      .map(([key, [flags, stamp]], i) => `${i + 1} ${key} ${flags} ${stamp}\n`)
      .join('')}`;
    return { blob: blobOf(text), content: text };
  });

/** A keyword table of INBOX (rule 2c reads it): letters given to keywords in several ways. */
const KEYWORDS = 'INBOX/dovecot-keywords';
const keywordsArb: fc.Arbitrary<FileEntry> = fc
  .constantFrom('', '0 $Junk\n', '0 $Junk\n1 $Label1\n', '0 $Junk\n1 $Work\n', '0 $Work\n', '0 $Junk\n2 $work\n', '1 $Label1\n2 $Junk\n')
  .map((text) => ({ blob: blobOf(text), content: text }));

/** Canonical message map of entries, one per path (as a tree holds them). */
function messagesOf(entries: Iterable<MessageEntry>): Map<string, MessageEntry> {
  const byPath = new Map<string, MessageEntry>();
  for (const e of entries) byPath.set(`${e.folder}/${e.sub}/${e.key}${e.info}`, e);
  return messageMap(byPath.values());
}

/** A random snapshot over a small universe, so that sides often touch the same ids; some keys have copies in several folders. */
const snapArb: fc.Arbitrary<Snapshot> = fc
  .record({
    messages: fc.dictionary(fc.constantFrom(...IDS), entryArb, { maxKeys: 6 }),
    copies: fc.array(fc.tuple(fc.constantFrom(...IDS), entryArb), { maxLength: 2 }),
    files: fc.dictionary(fc.constantFrom('.mailgit/checkpoints/a.json', '.mailgit/accounts.json', 'dovecot-keywords'), fileArb, { maxKeys: 3 }),
    state: fc.option(stateArb, { nil: undefined }),
    keywords: fc.option(keywordsArb, { nil: undefined }),
  })
  .map(({ messages, copies, files, state, keywords }) => ({
    messages: messagesOf([...Object.entries(messages), ...copies].map(([key, e]) => ({ ...e, key }))),
    files: new Map([...Object.entries(files), ...(state ? [[STATE, state] as const] : []), ...(keywords ? [[KEYWORDS, keywords] as const] : [])]),
  }));

/** A snapshot derived from another by a few edits (on any file of a key), so that triples are related like real histories. */
function derived(s: Snapshot): fc.Arbitrary<Snapshot> {
  const edits = fc.array(fc.tuple(fc.constantFrom(...IDS), fc.option(entryArb, { nil: undefined }), fc.constantFrom('flag', 'set', 'copy'), fc.nat(3)), {
    maxLength: 4,
  });
  // A fetch also rewrites the two-way state or the keyword table now and then.
  const rewrites = fc.tuple(fc.option(stateArb, { nil: undefined }), fc.option(keywordsArb, { nil: undefined }));
  return fc.tuple(edits, rewrites).map(([edits, [state, keywords]]) => {
    const m = new Map(s.messages);
    for (const [key, e, how, pick] of edits) {
      const ids = [...m].filter(([, x]) => x.key === key).map(([id]) => id);
      const id = ids.length === 0 ? key : ids[pick % ids.length]!;
      const old = m.get(id);
      if (e === undefined) m.delete(id);
      else if (how === 'flag' && old) m.set(id, { ...old, info: e.info });
      else if (how === 'copy' && old) m.set(`${id}\0copy`, { ...old, folder: e.folder });
      else m.set(id, { ...e, key });
    }
    const files = new Map(s.files);
    if (state) files.set(STATE, state);
    if (keywords) files.set(KEYWORDS, keywords);
    return { messages: messagesOf(m.values()), files };
  });
}

const tripleArb = fc.oneof(
  fc.tuple(snapArb, snapArb, snapArb),
  snapArb.chain((b) => fc.tuple(fc.constant(b), fc.oneof(derived(b), snapArb), derived(b))),
);
/** Old Lamport counts and hybrid clocks, names shared by two replicas, commit ids. */
const stampArb: fc.Arbitrary<Stamp> = fc.record({
  clock: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom(1_796_000_000_000, 1_796_000_000_001)),
  replica: fc.constantFrom('a', 'b'),
  commit: fc.constantFrom('c1', 'c2', 'c3'),
});
/**
 * Per key, or per key and folder for copies (`changeName`), the stamp of the change behind a
 * side's version (some without: the head stands in); a change before the base now and then.
 */
const changesArb = fc.dictionary(
  fc.oneof(
    fc.constantFrom(...IDS),
    fc.tuple(fc.constantFrom(...IDS), fc.constantFrom(...FOLDERS)).map(([k, f]) => `${k}\0${f}`),
  ),
  fc.oneof({ weight: 3, arbitrary: stampArb }, { weight: 1, arbitrary: fc.constant(BEFORE_HISTORY) }),
  { maxKeys: 6 },
);
/** A side with its head stamp and the stamps of its changes. */
const sideOf = (x: Snapshot, s: Stamp, c: Record<string, Stamp>) => side(x, s, c);

describe('merge properties', () => {
  it('is symmetric: same snapshot, mirrored decisions', () => {
    fc.assert(
      fc.property(tripleArb, stampArb, stampArb, changesArb, changesArb, ([b, x, y], sx, sy, cx, cy) => {
        const r1 = merge({ base: b, ours: sideOf(x, sx, cx), theirs: sideOf(y, sy, cy) });
        const r2 = merge({ base: b, ours: sideOf(y, sy, cy), theirs: sideOf(x, sx, cx) });
        expect(r2.snapshot).toEqual(r1.snapshot);
        expect([...r2.snapshot.messages.keys()]).toEqual([...r1.snapshot.messages.keys()]);
        expect(mirror(r2.decisions)).toEqual(brief(r1.decisions));
      }),
      PROPERTY_RUNS,
    );
  });

  it('is idempotent: merge({ base: b, ours: x, theirs: x }) = x with no decisions', () => {
    fc.assert(
      fc.property(tripleArb, stampArb, stampArb, changesArb, changesArb, ([b, x], s1, s2, c1, c2) => {
        const r = merge({ base: b, ours: sideOf(x, s1, c1), theirs: sideOf(x, s2, c2) });
        expect(r.snapshot).toEqual(x);
        expect(r.decisions).toEqual([]);
      }),
      PROPERTY_RUNS,
    );
  });

  it('gives way to the changed side: merge({ base: b, ours: b, theirs: x }) = merge({ base: b, ours: x, theirs: b }) = x', () => {
    fc.assert(
      fc.property(tripleArb, stampArb, stampArb, changesArb, ([b, x], s1, s2, c) => {
        expect(merge({ base: b, ours: sideOf(b, s1, c), theirs: sideOf(x, s2, c) }).snapshot).toEqual(x);
        expect(merge({ base: b, ours: sideOf(x, s1, c), theirs: sideOf(b, s2, c) }).snapshot).toEqual(x);
      }),
      PROPERTY_RUNS,
    );
  });

  it('keeps every file both sides hold as it is, and invents none', () => {
    fc.assert(
      fc.property(tripleArb, stampArb, stampArb, changesArb, changesArb, ([b, x, y], sx, sy, cx, cy) => {
        const r = merge({ base: b, ours: sideOf(x, sx, cx), theirs: sideOf(y, sy, cy) });
        const blobs = (s: Snapshot) => new Set([...s.messages.values()].map((e) => e.blob));
        const out = blobs(r.snapshot);
        // A file both sides hold as it is (same name, same content) is kept.
        const paths = (m: Snapshot) => new Map([...m.messages.values()].map((e) => [`${e.folder}/${e.sub}/${e.key}${e.info}`, e.blob]));
        const py = paths(y);
        for (const [p, blob] of paths(x)) if (py.get(p) === blob) expect(out.has(blob), p).toBe(true);
        const bx = blobs(x);
        const by = blobs(y);
        for (const blob of out) expect(bx.has(blob) || by.has(blob)).toBe(true);
        for (const [id, e] of r.snapshot.messages) {
          expect(e.key === id || id.startsWith(`${e.key}\0`)).toBe(true);
        }
      }),
      PROPERTY_RUNS,
    );
  });
});

describe('mergeFlags properties', () => {
  const flagsArb = fc
    .subarray([...'DFPRSTabz'])
    .map((a) => fc.shuffledSubarray(a))
    .chain((x) => x)
    .map((a) => a.join(''));
  it('is symmetric, idempotent, sorted, and takes a one-sided change', () => {
    fc.assert(
      fc.property(fc.option(flagsArb, { nil: undefined }), flagsArb, flagsArb, (b, x, y) => {
        const r = mergeFlags(b, x, y);
        expect(mergeFlags(b, y, x)).toBe(r);
        expect(r).toBe(sortFlags(r));
        expect(mergeFlags(b, x, x)).toBe(sortFlags(x));
        if (b !== undefined) expect(mergeFlags(b, b, y)).toBe(sortFlags(y));
        else expect(r).toBe(sortFlags(x + y));
      }),
    );
  });
  it('reads flags from an info suffix', () => {
    expect(flagsOf(':2,FS')).toBe('FS');
    expect(flagsOf(':2,SF')).toBe('FS');
    expect(flagsOf('')).toBe('');
    expect(flagsOf(':2,')).toBe('');
    expect(flagsOf(':1,xyz')).toBe('');
    expect(flagsOf(':2,aST')).toBe('STa');
  });
});
