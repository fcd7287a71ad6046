/**
 * The apply's plan and race rules (src/repo/applyPlan.ts), as tables: what the client did
 * between the record and the apply × what the merge wants → what the apply does. The
 * e2e test apply-race.test.ts runs the same situations against a real Maildir.
 */
import { describe, expect, it } from 'vitest';
import type { PathChange } from '../../src/git/diff.js';
import { arrivalAction, departureAction, droppedMessages, planApply } from '../../src/repo/applyPlan.js';
import type { ArrivalAction, ArrivalFound, DepartureAction, DepartureFound } from '../../src/repo/applyPlan.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const change = (path: string, oldOid: string | null, newOid: string | null): PathChange => ({ path, oldOid, newOid }) as PathChange;

describe('race rules for an arriving path', () => {
  // [what the client did, what the merge wants, what the apply finds, replaces, action]
  const rows: [string, string, ArrivalFound, boolean, ArrivalAction][] = [
    ['nothing', 'a new message', 'absent', false, 'write'],
    ['nothing', 'a flag change (a rename)', 'renamed', false, 'keep'],
    ['renamed it (its own flag change)', 'a flag change', 'client-renamed', false, 'follow-client'],
    ['moved it to another folder', 'a flag change', 'gone', false, 'keep-removal'],
    ['deleted it', 'a move to Archive', 'gone', false, 'keep-removal'],
    ['nothing (another wanted name took the old one)', 'a second copy', 'taken', false, 'write'],
    ['nothing (a killed apply already wrote it)', 'a new message', 'there', false, 'keep'],
    ['nothing', 'new bytes under the same name (a same-key clash)', 'there', true, 'write'],
    ['deleted it', 'new bytes under the same name', 'absent', true, 'write'],
    ['renamed it', 'new bytes at a name it had another', 'client-renamed', true, 'follow-client'],
    ['nothing', 'a settings file changed', 'there', true, 'write'],
    ['nothing', 'a settings file as it is', 'there', false, 'keep'],
  ];
  for (const [client, wants, found, replaces, action] of rows) {
    it(`client: ${client} × merge: ${wants} (found ${found}) → ${action}`, () => {
      expect(arrivalAction({ replaces }, found)).toBe(action);
    });
  }
});

describe('race rules for a leaving path', () => {
  const rows: [string, DepartureFound, DepartureAction][] = [
    ['nothing: the apply removes it', 'removed', 'keep'],
    ['nothing: the apply renamed it to its new name', 'moved', 'keep'],
    ['renamed it (a flag change)', 'client-renamed', 'keep-client'],
    ['edited it in place, not recorded yet', 'edited', 'keep-edit'],
    ['deleted it too', 'gone', 'keep'],
  ];
  for (const [client, found, action] of rows) {
    it(`merge deletes × client: ${client} → ${action}`, () => {
      expect(departureAction(found)).toBe(action);
    });
  }
});

describe('planApply', () => {
  it('a flag change is a move from its old name, the old name a departure', () => {
    const plan = planApply([change('INBOX/cur/1.M1P1.h:2,', A, null), change('INBOX/cur/1.M1P1.h:2,S', null, A)]);
    expect(plan.arrivals).toHaveLength(1);
    expect(plan.arrivals[0]!.sources.map((s) => s.path)).toEqual(['INBOX/cur/1.M1P1.h:2,']);
    expect(plan.arrivals[0]!.replaces).toBe(false);
    expect(plan.departures.map((d) => d.path)).toEqual(['INBOX/cur/1.M1P1.h:2,']);
    expect(plan.folders).toEqual(['INBOX']);
  });

  it('new bytes under a message name replace it; a name of the same key with other bytes is no source', () => {
    const plan = planApply([change('INBOX/cur/1.M1P1.h:2,S', A, B), change('INBOX/new/1.M1P1.h', B, null)]);
    const [arrival] = plan.arrivals;
    expect(arrival!.replaces).toBe(true);
    expect(arrival!.sources.map((s) => s.path)).toEqual(['INBOX/new/1.M1P1.h']);
    expect(planApply([change('INBOX/cur/1.M1P1.h:2,S', A, B), change('INBOX/new/1.M1P1.h', A, null)]).arrivals[0]!.sources).toEqual([]);
  });

  it('a new message does not replace; a changed settings file does, and has no sources', () => {
    const plan = planApply([change('Sent/new/2.M2P2.h', null, A), change('.mailgit/config.json', A, B)]);
    expect(plan.arrivals.map((a) => [a.message, a.replaces, a.sources.length])).toEqual([
      [true, false, 0],
      [false, true, 0],
    ]);
    expect(plan.targets).toEqual(new Set(['Sent/new/2.M2P2.h', '.mailgit/config.json']));
  });

  it('a marker that arrives makes its folder; one that goes leaves it to be removed when empty', () => {
    const plan = planApply([change('Lists/rust/maildirfolder', null, A), change('Old/maildirfolder', A, null), change('maildirfolder', A, null)]);
    expect(plan.folders).toEqual(['Lists/rust']);
    expect(plan.unmarked).toEqual(['Old', '']);
    expect(plan.departures.map((d) => d.path)).toEqual(['Old/maildirfolder', 'maildirfolder']);
  });
});

describe('droppedMessages: the recorded bytes an apply takes from their name (sync records an edit in them first)', () => {
  const C = 'c'.repeat(40);
  // [the diff, what the apply does to the message, dropped]
  const rows: [PathChange[], string, string[]][] = [
    [[change('INBOX/cur/1.M1P1.h:2,S', A, B)], 'replaces its bytes under the same name', ['INBOX/cur/1.M1P1.h:2,S']],
    [[change('INBOX/cur/1.M1P1.h:2,S', A, null)], 'removes it (an expunge elsewhere)', ['INBOX/cur/1.M1P1.h:2,S']],
    [[change('INBOX/cur/1.M1P1.h:2,', A, null), change('INBOX/cur/1.M1P1.h:2,S', null, A)], 'renames it (a flag change: the file goes along)', []],
    [[change('INBOX/cur/1.M1P1.h:2,', A, null), change('Archive/cur/1.M1P1.h:2,', null, A)], 'moves it to another folder', []],
    [
      [change('INBOX/cur/1.M1P1.h:2,', A, null), change('INBOX/cur/1.M1P1.h:2,S', null, C)],
      'removes it and writes other bytes under a new name',
      ['INBOX/cur/1.M1P1.h:2,'],
    ],
    [[change('Sent/new/2.M2P2.h', null, A)], 'writes a new message', []],
    [[change('.mailgit/config.json', A, B), change('Old/maildirfolder', A, null)], 'changes files that are no messages', []],
  ];
  for (const [changes, what, dropped] of rows) {
    it(`an apply that ${what} → ${dropped.length === 0 ? 'none' : dropped.join(', ')}`, () => {
      expect(droppedMessages(changes).map((c) => c.path)).toEqual(dropped);
    });
  }
});
