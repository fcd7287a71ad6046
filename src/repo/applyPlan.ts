/**
 * The apply as data (pure: no I/O). {@link planApply} reads a diff into what each path
 * wants; the race rules say what the executor (apply.ts) does when it finds the Maildir
 * other than the record left it, because a mail client renamed or deleted a message
 * between the record and the apply:
 *
 *   arriving path, found ...   | wants the same bytes | wants new bytes at this name
 *   ---------------------------|----------------------|-----------------------------
 *   there already              | keep                 | write (replace atomically)
 *   renamed from its old name  | keep (done)          | keep (done)
 *   old names taken by others  | write (a copy)       | write
 *   client renamed the old one | follow the client    | follow the client
 *   old names gone             | keep the removal     | keep the removal
 *   absent, nothing to move    | write                | write
 *
 *   leaving path, found ...    | action
 *   ---------------------------|------------------------------------------
 *   renamed away by this apply | keep (done)
 *   removed (as recorded)      | keep (done)
 *   client renamed it          | keep the client's, with a note
 *   edited, not recorded yet   | keep the edit where it is, with a note
 *   gone                       | keep (the client deleted it too)
 *
 * "Follow the client": the client's name and the wanted one are merged three-way over the
 * old one (clientName.ts); "keep the removal": the change is not brought in, with a note.
 */
import type { PathChange } from '../git/diff.js';
import { folderOfMarker, isFolderMarker } from '../maildir/layout.js';
import { parseMessagePath } from '../maildir/name.js';

/** One path the applied tree has (new, or with other content). */
export interface Arrival {
  change: PathChange;
  /** True for a message (`FOLDER/cur|new/NAME`); other files are written or kept. */
  message: boolean;
  /**
   * True when a name already there is to be written over: a file whose bytes change, or
   * a message whose content changes under the same name (a same-key clash).
   */
  replaces: boolean;
  /** Old names of the same message with the same content, to rename from (in diff order). */
  sources: PathChange[];
}

/** Everything an apply does, in the order it does it. */
export interface ApplyPlan {
  /** Folders (repo-relative, '' for the root) that get `cur/ new/ tmp/` before anything arrives. */
  folders: string[];
  /** New and changed paths, in diff order. */
  arrivals: Arrival[];
  /** Paths that go, in diff order, after every arrival. */
  departures: PathChange[];
  /** Folders whose `maildirfolder` marker goes: removed when they hold nothing. */
  unmarked: string[];
  /** Every path the applied tree has among the changes (never taken for a client's copy). */
  targets: ReadonlySet<string>;
}

/** Reads a diff into an {@link ApplyPlan}. */
export function planApply(changes: readonly PathChange[]): ApplyPlan {
  const leaving = new Map<string, PathChange[]>();
  const targets = new Set<string>();
  const folders = new Set<string>();
  for (const c of changes) {
    const m = parseMessagePath(c.path);
    if (c.newOid !== null) {
      targets.add(c.path);
      if (m) folders.add(m.folder);
      else if (isFolderMarker(c.path)) folders.add(folderOfMarker(c.path));
    }
    if (m && c.oldOid !== null && c.newOid !== c.oldOid) leaving.set(m.key, [...(leaving.get(m.key) ?? []), c]);
  }
  const arrivals: Arrival[] = [];
  const departures: PathChange[] = [];
  const unmarked: string[] = [];
  for (const c of changes) {
    if (c.newOid === null) {
      departures.push(c);
      if (isFolderMarker(c.path)) unmarked.push(folderOfMarker(c.path));
      continue;
    }
    const m = parseMessagePath(c.path);
    if (!m) {
      arrivals.push({ change: c, message: false, replaces: c.oldOid !== c.newOid, sources: [] });
      continue;
    }
    const sources = (leaving.get(m.key) ?? []).filter((s) => s.oldOid === c.newOid && s.path !== c.path);
    arrivals.push({ change: c, message: true, replaces: c.oldOid !== null && c.oldOid !== c.newOid, sources });
  }
  return { folders: [...folders], arrivals, departures, unmarked, targets };
}

/**
 * The messages whose recorded bytes an apply of `changes` takes from their name: replaced
 * by other bytes under the same name, or removed without arriving under another name (a
 * rename carries the file, and whatever it holds, along). An edit in place not recorded
 * yet in one of them would be overwritten or unlinked, so sync records such edits first.
 */
export function droppedMessages(changes: readonly PathChange[]): PathChange[] {
  const plan = planApply(changes);
  const carried = new Set(plan.arrivals.flatMap((a) => a.sources.map((s) => s.path)));
  const replaced = plan.arrivals.filter((a) => a.message && a.replaces).map((a) => a.change);
  const removed = plan.departures.filter((c) => c.oldOid !== null && parseMessagePath(c.path) !== null && !carried.has(c.path));
  return [...replaced, ...removed];
}

/** What the executor found at an arriving path (see the module comment). */
export type ArrivalFound = 'there' | 'renamed' | 'taken' | 'client-renamed' | 'gone' | 'absent';

/** What the executor does next for an arriving path. */
export type ArrivalAction = 'keep' | 'write' | 'follow-client' | 'keep-removal';

const ARRIVAL_RULES: Record<ArrivalFound, { same: ArrivalAction; replaces: ArrivalAction }> = {
  there: { same: 'keep', replaces: 'write' },
  renamed: { same: 'keep', replaces: 'keep' },
  taken: { same: 'write', replaces: 'write' },
  'client-renamed': { same: 'follow-client', replaces: 'follow-client' },
  gone: { same: 'keep-removal', replaces: 'keep-removal' },
  absent: { same: 'write', replaces: 'write' },
};

/** The race rule for an arriving path: what to do after finding `found` (see the module comment). */
export function arrivalAction(arrival: Pick<Arrival, 'replaces'>, found: ArrivalFound): ArrivalAction {
  const rule = ARRIVAL_RULES[found];
  return arrival.replaces ? rule.replaces : rule.same;
}

/** What the executor found at a leaving path. */
export type DepartureFound = 'moved' | 'removed' | 'client-renamed' | 'edited' | 'gone';

/** What the executor does next for a leaving path: nothing, or keep the client's message (renamed, or edited in place) with a note. */
export type DepartureAction = 'keep' | 'keep-client' | 'keep-edit';

const DEPARTURE_RULES: Record<DepartureFound, DepartureAction> = {
  moved: 'keep',
  removed: 'keep',
  'client-renamed': 'keep-client',
  edited: 'keep-edit',
  gone: 'keep',
};

/** The race rule for a leaving path (see the module comment). */
export function departureAction(found: DepartureFound): DepartureAction {
  return DEPARTURE_RULES[found];
}
