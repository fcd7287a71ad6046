/**
 * Deciding whether a remote's freshly fetched `main` may be merged at all, before the
 * merge looks at its trees: it must be a commit; it must not have gone back or been
 * replaced since we last saw it (that is someone's reset, a restored backup or another
 * history: a person decides, not sync); and it must share history with ours, unless one
 * side holds no mail yet. Each refusal is one line naming the remote, what is wrong and
 * the option that overrides it.
 */
import { parseMessagePath } from '../maildir/name.js';
import type { HistoryStore } from '../store/commitStore.js';
import { UnsafeDataError } from '../util/errors.js';
import type { Fetched } from './remotes.js';

/** What the person allowed for this sync. */
export interface AdmitOptions {
  /** Merge a remote whose history shares no commit with ours. */
  allowUnrelated?: boolean;
  /** Accept a remote whose main went back or was replaced since we last saw it. */
  allowRewound?: boolean;
}

const short = (oid: string) => oid.slice(0, 12);

/** True when commit `c`'s tree holds at least one Maildir message. */
async function holdsMail(store: HistoryStore, c: string): Promise<boolean> {
  return (await store.diff(null, c)).some((p) => parseMessagePath(p.path) !== null);
}

async function refuseRewound(store: HistoryStore, name: string, { theirs, last }: { theirs: string; last: string }): Promise<never> {
  const what = (await store.isAncestor(theirs, last))
    ? `went back to an older commit (${short(theirs)}; we last saw ${short(last)} there): someone reset it or restored a backup`
    : `was replaced by another history (${short(theirs)} does not contain ${short(last)}, which we last saw there)`;
  throw new UnsafeDataError(`remote ${name}'s main ${what}; nothing was merged or pushed; if that is intended, run mailgit sync --allow-rewound ${name}`);
}

/**
 * True when commits `ours` and `theirs` share history, or when either holds no mail yet
 * (a new replica joining, a new hub): only then may they be merged without being asked.
 */
export async function mayMerge(store: HistoryStore, ours: string, theirs: string): Promise<boolean> {
  if ((await store.mergeBases(ours, theirs)).length > 0) return true;
  return !(await holdsMail(store, ours)) || !(await holdsMail(store, theirs));
}

/** What {@link admitRemoteHead} decides about. */
export interface AdmitRequest {
  store: HistoryStore;
  /** The remote's name, for the refusals. */
  name: string;
  fetched: Fetched;
  /** Our head (null before the first commit). */
  ours: string | null;
  opts: AdmitOptions;
}

/**
 * Returns the remote's `main` commit that sync may merge (null when the remote has none),
 * or throws an {@link UnsafeDataError} saying why not. Histories are
 * compared only when the remote's main is new to us or did not grow from what we last
 * saw: what we accepted before is related to ours already.
 */
export async function admitRemoteHead({ store, name, fetched, ours, opts }: AdmitRequest): Promise<string | null> {
  const main = fetched.main;
  if (!main) return null;
  if (main.type !== 'commit') {
    throw new UnsafeDataError(
      `remote ${name}'s main is a ${main.type}, not a commit (the remote is damaged); nothing was merged; point its main back at a commit there, or remove the remote`,
    );
  }
  const last = fetched.lastSeen;
  const grew = last !== null && (main.oid === last || (await store.isAncestor(last, main.oid)));
  if (last && !grew && !opts.allowRewound) await refuseRewound(store, name, { theirs: main.oid, last });
  if (ours && !grew && !opts.allowUnrelated && !(await mayMerge(store, ours, main.oid))) {
    throw new UnsafeDataError(
      `remote ${name} shares no history with this replica (another mailbox?); nothing was merged or pushed; to merge the two mailboxes run mailgit sync --allow-unrelated ${name}`,
    );
  }
  return main.oid;
}
