/**
 * Rule 2c by keyword names (issue 14): whatever letters each side's `dovecot-keywords`
 * gave its keywords — new keywords on each side claiming the same letters, a side whose
 * table a criss-cross merge re-lettered — a message's keywords after the merge, read
 * through the merged table, are the per-name three-way merge of the names each side gave
 * it, and so are its system flags; the merged table gives every keyword one letter; and
 * the result does not depend on which side is ours.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeywordLetters } from '../../src/maildir/keywords.js';
import { flagsOf, infoOfFlags, sortFlags } from '../../src/maildir/name.js';
import type { FileEntry, MessageEntry, Snapshot } from '../../src/maildir/snapshot.js';
import { messageMap } from '../../src/merge/identity.js';
import { merge } from '../../src/merge/merge.js';
import { mergeKeywordTables } from '../../src/merge/keywordTables.js';
import { side, st, PROPERTY_RUNS } from './merge.helpers.js';

const TABLE = 'INBOX/dovecot-keywords';
const NAMES = ['$Junk', '$NotJunk', '$Label1', '$Work', 'proj-x', 'Later'];
const SYSTEM = ['F', 'R', 'S', 'T'];
const KEYS = ['k0', 'k1', 'k2', 'k3'];
const LETTERS = 'abcdefghijklmnopqrstuvwxyz'.split('');

/** One message's state on one side: system flags and keyword names. */
interface Marks {
  system: string[];
  names: string[];
}

/** A side: its keywords with their letters, and each key's marks. */
interface SideModel {
  table: [string, string][];
  marks: Record<string, Marks>;
}

/** A stand-in for a git blob id: a function of the content, as the real one is. */
function blobOf(content: string): string {
  let h = 5381;
  for (let i = 0; i < content.length; i++) h = ((h * 33) ^ content.charCodeAt(i)) >>> 0;
  return `h${h.toString(16)}`;
}

const subset = <T>(xs: T[]): fc.Arbitrary<T[]> => fc.subarray(xs);

/** `names` given distinct random letters. */
const lettered = (names: string[]): fc.Arbitrary<[string, string][]> =>
  fc.shuffledSubarray(LETTERS, { minLength: names.length, maxLength: names.length }).map((ls) => names.map((n, i) => [ls[i]!, n]));

const marksArb = (names: string[]): fc.Arbitrary<Marks> => fc.record({ system: subset(SYSTEM), names: subset(names) });

/**
 * A side derived from the base: the base's keywords kept (re-lettered now and then, as a
 * criss-cross merge leaves a table), new ones given free letters (often the same letters
 * the other side gives its own new ones), and each message's marks changed or not.
 */
function sideArb(base: SideModel): fc.Arbitrary<SideModel> {
  const baseNames = base.table.map(([, n]) => n);
  const used = new Set(base.table.map(([l]) => l));
  const free = LETTERS.filter((l) => !used.has(l)).slice(0, 4);
  const others = NAMES.filter((n) => !baseNames.includes(n));
  const table = fc.subarray(others, { maxLength: Math.min(free.length, others.length) }).chain((news) =>
    fc.oneof(
      lettered([...baseNames, ...news]),
      fc
        .shuffledSubarray(free, { minLength: news.length, maxLength: news.length })
        .map((ls) => [...base.table, ...ls.map((l, i) => [l, news[i]!] as [string, string])]),
    ),
  );
  return table.chain((t) => {
    const names = t.map(([, n]) => n);
    return fc
      .record(Object.fromEntries(KEYS.map((k) => [k, fc.option(marksArb(names), { nil: undefined })])) as Record<string, fc.Arbitrary<Marks | undefined>>)
      .map((changed) => {
        const marks: Record<string, Marks> = {};
        for (const k of KEYS) marks[k] = changed[k] ?? base.marks[k]!;
        return { table: t, marks };
      });
  });
}

const baseArb: fc.Arbitrary<SideModel> = subset(NAMES.slice(0, 4)).chain((names) =>
  fc
    .tuple(lettered(names), fc.record(Object.fromEntries(KEYS.map((k) => [k, marksArb(names)])) as Record<string, fc.Arbitrary<Marks>>))
    .map(([table, marks]) => ({ table, marks })),
);

const modelsArb = baseArb.chain((b) => fc.tuple(fc.constant(b), sideArb(b), sideArb(b)));

/** The snapshot of a side: its table file (absent when empty) and one INBOX/cur file per key. */
function snapshotOf(m: SideModel): Snapshot {
  const table = KeywordLetters.of(m.table);
  const entries: MessageEntry[] = KEYS.map((key) => {
    const letters = m.marks[key]!.names.map((n) => table.find(n)!);
    return { key, folder: 'INBOX', sub: 'cur', info: infoOfFlags(sortFlags([...m.marks[key]!.system, ...letters].join(''))), blob: `b-${key}` };
  });
  const text = table.format();
  const files = new Map<string, FileEntry>(text === '' ? [] : [[TABLE, { blob: blobOf(text), content: text }]]);
  return { messages: messageMap(entries), files };
}

/** Per-element three-way merge of sets: an element changed on one side takes that side's value. */
function threeWay(b: string[], o: string[], t: string[]): string[] {
  const all = new Set([...b, ...o, ...t]);
  return [...all].filter((x) => (o.includes(x) !== b.includes(x) ? o.includes(x) : t.includes(x))).sort();
}

/** A merged snapshot's marks, read through its own table. */
function marksOf(s: Snapshot): Record<string, { system: string[]; names: string[] }> {
  const table = KeywordLetters.parse(s.files.get(TABLE)?.content ?? null);
  const out: Record<string, { system: string[]; names: string[] }> = {};
  for (const m of s.messages.values()) {
    const flags = [...flagsOf(m.info)];
    const names = flags.filter((l) => l >= 'a' && l <= 'z').map((l) => table.keywordOf(l) ?? `?${l}`);
    out[m.key] = { system: flags.filter((l) => !(l >= 'a' && l <= 'z')).sort(), names: names.sort() };
  }
  return out;
}

describe('keyword letters merge by name (rule 2c)', () => {
  it('the merged table gives each keyword of either side exactly one letter, and does not depend on the order of the sides', () => {
    fc.assert(
      fc.property(modelsArb, ([b, o, t]) => {
        const [kb, ko, kt] = [b, o, t].map((m) => KeywordLetters.of(m.table));
        const merged = mergeKeywordTables(kb!, ko!, kt!);
        expect(merged.entries()).toEqual(mergeKeywordTables(kb!, kt!, ko!).entries());
        const names = merged.entries().map(([, n]) => n.toLowerCase());
        expect(new Set(names).size).toBe(names.length);
        for (const [, n] of [...ko!.entries(), ...kt!.entries()]) expect(merged.find(n), n).toBeDefined();
      }),
      PROPERTY_RUNS,
    );
  });

  it("each message's keyword names and system flags are the per-name three-way merge of the sides', whichever side is ours", () => {
    fc.assert(
      fc.property(modelsArb, ([b, o, t]) => {
        const [sb, so, sT] = [b, o, t].map(snapshotOf);
        const r1 = merge({ base: sb!, ours: side(so!, st(5, 'a')), theirs: side(sT!, st(7, 'b')) });
        const r2 = merge({ base: sb!, ours: side(sT!, st(7, 'b')), theirs: side(so!, st(5, 'a')) });
        const got = marksOf(r1.snapshot);
        const why = JSON.stringify({ b, o, t });
        for (const k of KEYS) {
          const [mb, mo, mt] = [b, o, t].map((m) => m.marks[k]!);
          expect(got[k], `${k} ${why}`).toEqual({ system: threeWay(mb!.system, mo!.system, mt!.system), names: threeWay(mb!.names, mo!.names, mt!.names) });
        }
        expect(marksOf(r2.snapshot)).toEqual(got);
      }),
      PROPERTY_RUNS,
    );
  });
});
