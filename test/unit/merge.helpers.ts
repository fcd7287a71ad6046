/**
 * Compact notation for merge tests: `"INBOX/cur/k1:2,S@b1"` is one message file.
 */
import type { FileEntry, MessageEntry, Snapshot, Stamp, Sub } from '../../src/maildir/snapshot.js';
import { expect } from 'vitest';
import { merge } from '../../src/merge/merge.js';
import type { Decision, MergeResult, MergeSide } from '../../src/merge/merge.js';
import { messageMap } from '../../src/merge/identity.js';

/**
 * Parses `folder/sub/key[:info][@blob]` into `[id, entry]`. The folder may be empty
 * (`cur/k1`) or nested (`Lists/rust/cur/k1`). The blob defaults to `b-<key>`.
 */
export function msg(spec: string): [string, MessageEntry] {
  const at = spec.lastIndexOf('@');
  const path = at >= 0 ? spec.slice(0, at) : spec;
  const parts = path.split('/');
  const name = parts.pop()!;
  const sub = parts.pop() as Sub;
  if (sub !== 'cur' && sub !== 'new') throw new Error(`bad sub in ${spec}`);
  const folder = parts.join('/');
  const colon = name.indexOf(':');
  const key = colon >= 0 ? name.slice(0, colon) : name;
  const info = colon >= 0 ? name.slice(colon) : '';
  const blob = at >= 0 ? spec.slice(at + 1) : `b-${key}`;
  return [key, { folder, sub, key, info, blob }];
}

/** Files in test notation: a blob id, or a full entry. */
export type FileSpec = Record<string, string | FileEntry>;

/** Builds a snapshot from message specs and optional files (copies of one key get canonical ids). */
export function snap(messages: string[] = [], files: FileSpec = {}): Snapshot {
  const m = messageMap(messages.map((spec) => msg(spec)[1]));
  const f = new Map<string, FileEntry>();
  for (const [p, v] of Object.entries(files)) f.set(p, typeof v === 'string' ? { blob: v } : v);
  return { messages: m, files: f };
}

/** Writes a snapshot's messages back in test notation, sorted, for readable failures. */
export function show(s: Snapshot): string[] {
  return [...s.messages.entries()]
    .map(([id, e]) => {
      const p = e.folder === '' ? `${e.sub}/${e.key}${e.info}@${e.blob}` : `${e.folder}/${e.sub}/${e.key}${e.info}@${e.blob}`;
      return id === e.key ? p : `${p} (id ${id})`;
    })
    .sort();
}

/** A stamp. */
export function st(clock: number, replica: string): Stamp {
  return { clock, replica };
}

/** A merge side; `changes` gives the stamp of the change behind each key's version. */
export function side(snapshot: Snapshot, stamp: Stamp, changes?: Record<string, Stamp>): MergeSide {
  return changes === undefined ? { snapshot, stamp } : { snapshot, stamp, changes: (key) => changes[key] };
}

/** An HLC stamp at `hh:mm` UTC on 2026-12-03. */
export function at(hhmm: string, replica: string, commit?: string): Stamp {
  const clock = Date.parse(`2026-12-03T${hhmm}:00Z`);
  return commit === undefined ? { clock, replica } : { clock, replica, commit };
}

/** A checkpoint file entry with JSON content. */
export function cpFile(blob: string, data: Record<string, { uidValidity: string; uid: number; modseq?: string }>): FileEntry {
  return { blob, content: `${JSON.stringify(data, null, 2)}\n` };
}

/** A two-way IMAP state file (UIDVALIDITY 7) with lines `uid key :LETTERS stamp`. */
export function stateFile(blob: string, lines: string[]): FileEntry {
  return { blob, content: `mailgit-imap-state 1 7\n${lines.map((l) => `${l}\n`).join('')}` };
}

/** Writes decisions compactly as `kind id winner`. */
export function brief(ds: Decision[]): string[] {
  return ds.map((d) => `${d.kind} ${d.id} ${d.winner}`);
}

/** Swaps ours and theirs in a decision list, for checking the mirrored merge. */
export function mirror(ds: Decision[]): string[] {
  const swap = { ours: 'theirs', theirs: 'ours', both: 'both' } as const;
  return ds.map((d) => `${d.kind} ${d.id} ${swap[d.winner]}`);
}

/** One row of a merge table: base / ours / theirs → expected (and the decisions made). */
export interface MergeRow {
  name: string;
  base?: string[];
  ours?: string[];
  theirs?: string[];
  expect: string[];
  baseFiles?: FileSpec;
  oursFiles?: FileSpec;
  theirsFiles?: FileSpec;
  expectFiles?: FileSpec;
  /** Expected decisions as `kind id winner` (ours' point of view). */
  decisions?: string[];
  /** Stamps of ours and theirs; by default theirs (laptop, clock 7) is newer than ours (desktop, 5). */
  stamps?: [Stamp, Stamp];
  /** Stamps of the changes behind each side's version of a key (else the head stamps stand in). */
  changes?: [Record<string, Stamp>, Record<string, Stamp>];
  /** What the decisions' sentences must say, in order. */
  texts?: RegExp[];
}

/** The head stamps a row gets by default: ours older (desktop, 5) than theirs (laptop, 7). */
export const DEFAULT_STAMPS: [Stamp, Stamp] = [st(5, 'desktop'), st(7, 'laptop')];

/**
 * Runs one table row: the merged snapshot and decisions are the expected ones, every
 * decision is a sentence, and the mirrored merge (ours and theirs swapped) gives the same
 * snapshot and the mirrored decisions. Returns the result and the two sides for checks of
 * the caller's own.
 */
export function checkMergeRow(row: MergeRow): { result: MergeResult; base: Snapshot; ours: MergeSide; theirs: MergeSide } {
  const [so, sT] = row.stamps ?? DEFAULT_STAMPS;
  const base = snap(row.base, row.baseFiles);
  const ours = side(snap(row.ours ?? row.base, row.oursFiles ?? row.baseFiles), so, row.changes?.[0]);
  const theirs = side(snap(row.theirs ?? row.base, row.theirsFiles ?? row.baseFiles), sT, row.changes?.[1]);
  const expected = snap(row.expect, row.expectFiles ?? row.baseFiles);
  const result = merge({ base, ours, theirs });
  expect(show(result.snapshot)).toEqual(show(expected));
  expect(result.snapshot).toEqual(expected);
  if (row.decisions !== undefined) expect(brief(result.decisions)).toEqual(row.decisions);
  for (const d of result.decisions) expect(d.text).toMatch(/\S.*: .*;/);
  for (const [i, re] of (row.texts ?? []).entries()) expect(result.decisions[i]?.text).toMatch(re);
  const m = merge({ base, ours: theirs, theirs: ours });
  expect(m.snapshot).toEqual(result.snapshot);
  expect(mirror(m.decisions)).toEqual(brief(result.decisions));
  return { result, base, ours, theirs };
}

/**
 * fast-check's settings for the merge properties: 1,000 runs, `MAILGIT_MERGE_PROPERTY_RUNS=N`
 * for a long hunt; `MAILGIT_MERGE_SEED=N` fixes the seed, so that a failure can be replayed.
 */
export const PROPERTY_RUNS = {
  numRuns: Number(process.env.MAILGIT_MERGE_PROPERTY_RUNS ?? 1000),
  ...(process.env.MAILGIT_MERGE_SEED === undefined ? {} : { seed: Number(process.env.MAILGIT_MERGE_SEED) }),
};
