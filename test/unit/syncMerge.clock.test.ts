/**
 * Last-writer-wins at the sync level, on both CommitStores (real git and memory): a conflict
 * goes to the later change to that message, found in history, not to the busier replica;
 * a clock far ahead wins only until another replica has built on it; a commit without
 * mailgit's trailers never resets a clock; copies of one key are two messages.
 */
import { describe, expect, it } from 'vitest';
import type { CommitStore } from '../../src/store/commitStore.js';
import { mergeHeads } from '../../src/sync/mergeHeads.js';
import { nextClock } from '../../src/merge/clock.js';
import { commitStores } from '../helpers/commitStores.js';

const H = 3_600_000;
const T0 = Date.parse('2026-12-03T08:00:00Z');

/** Replicas on one store with a simulated real time and per-replica clock skew. */
class World {
  now = T0;
  readonly heads = new Map<string, string>();
  readonly skew = new Map<string, number>();
  constructor(readonly s: CommitStore) {}

  wall(r: string): number {
    return this.now + (this.skew.get(r) ?? 0);
  }

  async init(replicas: string[], paths: string[]): Promise<void> {
    const edits = await Promise.all(paths.map(async (path) => ({ path, oid: await this.s.writeBlob(`mail ${path.replace(/:.*/, '').replace(/.*\//, '')}`) })));
    const root = await this.s.commit({
      tree: await this.s.editTree(null, edits),
      parents: [],
      subject: 'init',
      stamp: { clock: nextClock(0, T0), replica: replicas[0]! },
      time: T0,
    });
    for (const r of replicas) this.heads.set(r, root);
  }

  /** A record on replica `r` (or, `plain`, a user's `git commit` without trailers). */
  async change(r: string, edits: { path: string; from?: string; content?: string }[], plain = false): Promise<void> {
    const head = this.heads.get(r)!;
    const tree = await this.s.diff(null, head);
    const out: { path: string; oid: string | null }[] = [];
    for (const e of edits) {
      const old = e.from === undefined ? undefined : tree.find((c) => c.path === e.from);
      if (e.from !== undefined) out.push({ path: e.from, oid: null });
      if (e.path !== '') out.push({ path: e.path, oid: old?.newOid ?? (await this.s.writeBlob(e.content ?? `new ${e.path}`)) });
    }
    const stamp = plain ? null : { clock: nextClock((await this.s.stamp(head)).clock, this.wall(r)), replica: r };
    this.heads.set(r, await this.s.commit({ tree: await this.s.editTree(head, out), parents: [head], subject: 'record', stamp, time: this.wall(r) }));
  }

  /** Unrelated commits: a busy replica (watch records every change). */
  async busy(r: string, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      this.now += 1000;
      await this.change(r, [{ path: `INBOX/dovecot-keywords`, content: `${r} ${this.now}` }]);
    }
  }

  /** `a` pulls `b`; returns the decisions' sentences. */
  async pull(a: string, b: string): Promise<string[]> {
    const out = await mergeHeads({
      store: this.s,
      ours: this.heads.get(a)!,
      theirs: this.heads.get(b)!,
      origin: b,
      replica: a,
      describe: () => [],
      wall: () => this.wall(a),
    });
    this.heads.set(a, out.commit);
    return out.decisions.map((d) => d.text);
  }

  async paths(r: string): Promise<string[]> {
    return (await this.s.diff(null, this.heads.get(r)!)).map((c) => c.path).filter((p) => /\/(cur|new)\//.test(p));
  }
}

describe.each(commitStores)('last writer wins by the change to the message: %s', (_name, make) => {
  it('a busy replica gains nothing: a deletion an hour after a flag wins, however many commits the flagger made', async () => {
    const w = new World(make());
    await w.init(['laptop', 'desktop'], ['INBOX/cur/k1:2,']);
    w.now += H;
    await w.change('laptop', [{ path: 'INBOX/cur/k1:2,F', from: 'INBOX/cur/k1:2,' }]);
    await w.busy('laptop', 30);
    w.now += H;
    await w.change('desktop', [{ path: '', from: 'INBOX/cur/k1:2,' }]);
    const texts = await w.pull('laptop', 'desktop');
    expect(await w.paths('laptop')).toEqual([]);
    expect(texts).toEqual([
      'INBOX/cur/k1: deleted on desktop (by desktop, 2026-12-03 10:00:30 UTC) and re-flagged (flags "F") here (by laptop, 2026-12-03 09:00:00 UTC); deleted it: the change on desktop is later',
    ]);
    // The other way round gives the same tree.
    await w.pull('desktop', 'laptop');
    expect(await w.paths('desktop')).toEqual([]);
  });

  it('a flag made on two replicas, the later one after a deletion: the later flag dates the version a merge took from the earlier', async () => {
    const w = new World(make());
    await w.init(['laptop', 'desktop', 'phone'], ['INBOX/cur/k1:2,S']);
    w.now += H;
    await w.change('laptop', [{ path: 'INBOX/cur/k1:2,FRS', from: 'INBOX/cur/k1:2,S' }]);
    w.now += H;
    await w.change('desktop', [{ path: '', from: 'INBOX/cur/k1:2,S' }]);
    w.now += H;
    await w.change('phone', [{ path: 'INBOX/cur/k1:2,FS', from: 'INBOX/cur/k1:2,S' }]);
    // The merge holds laptop's version (FRS), which also carries phone's later F.
    expect(await w.pull('laptop', 'phone')).toEqual([]);
    const texts = await w.pull('laptop', 'desktop');
    expect(texts).toEqual([
      'INBOX/cur/k1: deleted on desktop (by desktop, 2026-12-03 10:00:00 UTC) and re-flagged (flags "FRS") here (by phone, 2026-12-03 11:00:00 UTC); kept it: the change here is later',
    ]);
    expect(await w.paths('laptop')).toEqual(['INBOX/cur/k1:2,FRS']);
  });

  it('names the replica that made the change, not the one whose head brought it', async () => {
    const w = new World(make());
    await w.init(['laptop', 'desktop', 'phone'], ['INBOX/cur/k1:2,S']);
    w.now += H;
    await w.change('phone', [{ path: 'Trash/cur/k1:2,S', from: 'INBOX/cur/k1:2,S' }]);
    await w.pull('desktop', 'phone');
    await w.busy('desktop', 3);
    w.now += H;
    await w.change('laptop', [{ path: 'Archive/cur/k1:2,S', from: 'INBOX/cur/k1:2,S' }]);
    const texts = await w.pull('laptop', 'desktop');
    expect(texts).toEqual([
      'INBOX/cur/k1: moved to Archive here (by laptop, 2026-12-03 10:00:03 UTC) and to Trash on desktop (by phone, 2026-12-03 09:00:00 UTC); kept Archive: the change here is later',
    ]);
    expect(await w.paths('laptop')).toEqual(['Archive/cur/k1:2,S']);
  });

  it('a clock years ahead wins only until another replica has built on it', async () => {
    const w = new World(make());
    w.skew.set('fast', 10 * 365 * 24 * H);
    await w.init(['fast', 'desktop', 'laptop', 'phone'], ['INBOX/cur/k1:2,', 'INBOX/cur/k2:2,']);
    await w.change('desktop', [{ path: 'INBOX/new/d1' }]);
    w.now += H;
    await w.change('fast', [
      { path: 'INBOX/cur/k1:2,F', from: 'INBOX/cur/k1:2,' },
      { path: 'INBOX/cur/k2:2,F', from: 'INBOX/cur/k2:2,' },
    ]);
    // Before anyone else has built on it, the far clock wins against a later deletion...
    w.now += H / 2;
    await w.change('laptop', [{ path: '', from: 'INBOX/cur/k1:2,' }]);
    await w.pull('laptop', 'fast');
    expect(await w.paths('laptop')).toContain('INBOX/cur/k1:2,F');
    // ...but once desktop (a right clock) has merged it, it counts as made by then at the latest.
    w.now += H / 2;
    await w.pull('desktop', 'fast');
    w.now += 2 * H;
    await w.change('phone', [{ path: '', from: 'INBOX/cur/k2:2,' }]);
    const texts = await w.pull('phone', 'desktop');
    expect(await w.paths('phone')).not.toContain('INBOX/cur/k2:2,F');
    expect(texts).toEqual([
      'INBOX/cur/k2: deleted here (by phone, 2026-12-03 12:00:00 UTC) and re-flagged (flags "F") on desktop (by fast, 2026-12-03 11:00:00 UTC); deleted it: the change here is later',
    ]);
  });

  it("right clocks dragged ahead by a far one (the HLC takes the parents' when later) still order changes by real time", async () => {
    const w = new World(make());
    w.skew.set('fast', 10 * 365 * 24 * H);
    await w.init(['fast', 'desktop', 'laptop'], ['INBOX/cur/k1:2,']);
    await w.change('fast', [{ path: 'INBOX/new/f1' }]);
    for (const r of ['desktop', 'laptop']) {
      await w.change(r, [{ path: `INBOX/new/${r}1` }]);
      await w.pull(r, 'fast');
    }
    w.now += H;
    await w.change('laptop', [{ path: 'INBOX/cur/k1:2,F', from: 'INBOX/cur/k1:2,' }]);
    await w.busy('laptop', 20); // its clock counts on from the far one: 20 more than desktop's
    w.now += H;
    await w.change('desktop', [{ path: '', from: 'INBOX/cur/k1:2,' }]);
    const texts = await w.pull('desktop', 'laptop');
    expect(await w.paths('desktop')).not.toContain('INBOX/cur/k1:2,F');
    expect(texts.join('\n')).toMatch(
      /deleted here \(by desktop, 2026-12-03 10:00:20 UTC\) and re-flagged \(flags "F"\) on laptop \(by laptop, 2026-12-03 09:00:00 UTC\); deleted it: the change here is later/,
    );
  });

  it('a plain git commit without trailers neither resets the clock nor counts as a later change', async () => {
    const w = new World(make());
    await w.init(['laptop', 'desktop'], ['INBOX/cur/k1:2,', 'INBOX/cur/k2:2,']);
    w.now += H;
    await w.change('laptop', [{ path: 'INBOX/cur/k2:2,S', from: 'INBOX/cur/k2:2,' }]);
    const before = (await w.s.stamp(w.heads.get('laptop')!)).clock;
    w.now += H;
    await w.change('desktop', [{ path: 'INBOX/cur/k1:2,F', from: 'INBOX/cur/k1:2,' }]);
    w.now += H;
    await w.change('laptop', [{ path: '', from: 'INBOX/cur/k1:2,' }], true); // git commit -a of a deletion
    expect((await w.s.stamp(w.heads.get('laptop')!)).clock).toBe(before);
    const texts = await w.pull('laptop', 'desktop');
    // The plain commit counts as made when the last mailgit commit before it was: the flag is later.
    expect(await w.paths('laptop')).toContain('INBOX/cur/k1:2,F');
    expect(texts.join('\n')).toMatch(/deleted here \(by a commit without mailgit trailers, 2026-12-03 09:00:00 UTC\)/);
    expect((await w.s.stamp(w.heads.get('laptop')!)).clock).toBeGreaterThan(before);
  });

  it('copies of one key in two folders: one deleted here, the other there: both gone', async () => {
    const w = new World(make());
    await w.init(['laptop', 'desktop'], ['INBOX/cur/k1:2,S', 'INBOX/maildirfolder']);
    w.now += H;
    await w.change('laptop', [{ path: 'Work/cur/k1:2,S', from: undefined }, { path: 'Work/maildirfolder' }]);
    // cp keeps the content: make the copy's blob the original's.
    const s = w.s;
    const orig = (await s.diff(null, w.heads.get('laptop')!)).find((c) => c.path === 'INBOX/cur/k1:2,S')!.newOid!;
    const head = w.heads.get('laptop')!;
    w.heads.set(
      'laptop',
      await s.commit({
        tree: await s.editTree(head, [{ path: 'Work/cur/k1:2,S', oid: orig }]),
        parents: [head],
        subject: 'cp',
        stamp: { clock: nextClock((await s.stamp(head)).clock, w.wall('laptop')), replica: 'laptop' },
        time: w.wall('laptop'),
      }),
    );
    await w.pull('desktop', 'laptop');
    w.now += H;
    await w.change('laptop', [{ path: '', from: 'INBOX/cur/k1:2,S' }]);
    await w.change('desktop', [{ path: '', from: 'Work/cur/k1:2,S' }]);
    await w.pull('laptop', 'desktop');
    await w.pull('desktop', 'laptop');
    for (const r of ['laptop', 'desktop']) expect((await w.paths(r)).filter((p) => p.includes('/cur/'))).toEqual([]);
  });

  it('copies: one deleted here, the same copy flagged there later: that copy kept once, the other untouched', async () => {
    const w = new World(make());
    await w.init(['laptop', 'desktop'], ['INBOX/cur/k1:2,S', 'Work/cur/k1:2,S']);
    w.now += H;
    await w.change('laptop', [{ path: '', from: 'INBOX/cur/k1:2,S' }]);
    w.now += H;
    await w.change('desktop', [{ path: 'INBOX/cur/k1:2,FS', from: 'INBOX/cur/k1:2,S' }]);
    const texts = await w.pull('laptop', 'desktop');
    expect(await w.paths('laptop')).toEqual(['INBOX/cur/k1:2,FS', 'Work/cur/k1:2,S']);
    expect(texts).toEqual([
      'INBOX/cur/k1: deleted here (by laptop, 2026-12-03 09:00:00 UTC) and re-flagged (flags "FS") on desktop (by desktop, 2026-12-03 10:00:00 UTC); kept it: the change on desktop is later',
    ]);
  });

  it('copies: a cp into Work here and into Archive there before they sync are two copies, and a deletion of one stays', async () => {
    const w = new World(make());
    await w.init(['laptop', 'desktop'], ['INBOX/cur/k1:2,S']);
    w.now += H;
    await w.change('laptop', [{ path: 'Work/cur/k1:2,S', content: 'mail k1' }]);
    await w.change('desktop', [{ path: 'Archive/cur/k1:2,S', content: 'mail k1' }]);
    await w.pull('laptop', 'desktop');
    await w.pull('desktop', 'laptop');
    expect(await w.paths('laptop')).toEqual(['Archive/cur/k1:2,S', 'INBOX/cur/k1:2,S', 'Work/cur/k1:2,S']);
    w.now += H;
    await w.change('desktop', [{ path: '', from: 'Work/cur/k1:2,S' }]);
    await w.change('laptop', [{ path: 'Archive/cur/k1:2,FS', from: 'Archive/cur/k1:2,S' }]);
    await w.pull('laptop', 'desktop');
    expect(await w.paths('laptop')).toEqual(['Archive/cur/k1:2,FS', 'INBOX/cur/k1:2,S']);
  });

  it("copies: a message fetched on both, moved out of INBOX here, cp'd there: the original once (history says it moved), the cp kept", async () => {
    const w = new World(make());
    await w.init(['laptop', 'desktop'], ['INBOX/cur/k0:2,S']);
    w.now += H;
    await w.change('laptop', [{ path: 'INBOX/cur/k1:2,', content: 'mail k1' }]);
    await w.change('desktop', [{ path: 'INBOX/cur/k1:2,', content: 'mail k1' }]);
    w.now += H;
    await w.change('laptop', [{ path: 'Archive/cur/k1:2,', from: 'INBOX/cur/k1:2,' }]);
    await w.change('desktop', [{ path: 'Trash/cur/k1:2,', content: 'mail k1' }]);
    await w.pull('laptop', 'desktop');
    expect(await w.paths('laptop')).toEqual(['Archive/cur/k1:2,', 'INBOX/cur/k0:2,S', 'Trash/cur/k1:2,']);
  });
});
