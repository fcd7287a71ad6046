/**
 * What the next record would find, without writing anything: `status` shows it and
 * `sync --dry-run` reports it with what would go out.
 */
import { formatEvents } from '../maildir/describe.js';
import type { FolderEvents } from '../maildir/describe.js';
import { copyAliases } from './copies.js';
import { summarize } from './record.js';
import type { Repo } from './repo.js';
import { scanChanges } from './scan.js';
import { checkGitView } from './gitIndex.js';

/** The changes a record would make, per folder, and whether there are none. */
export async function pendingEvents(repo: Repo): Promise<{ events: Map<string, FolderEvents>; clean: boolean }> {
  await checkGitView(repo, { readOnly: true });
  // Hash without writing objects: this must work in a read-only repo.
  const scan = await scanChanges(repo, { write: false });
  return { events: summarize(repo, scan, await copyAliases(repo.root, scan.added, scan.removed)), clean: scan.edits.length === 0 };
}

/** The changes a record would make, as "FOLDER: …" lines. */
export async function pendingChanges(repo: Repo): Promise<string[]> {
  return formatEvents((await pendingEvents(repo)).events);
}
