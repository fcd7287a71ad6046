/**
 * Remote data is hostile until checked. Before any tree from a remote is merged or
 * checked out, every path it adds or changes must be a Maildir message, a folder data
 * file, a `.mailgit/` file or the repo's git attributes — a regular file of mode
 * 100644 with a plain relative name — and small enough to be mail. `.gitignore` and
 * `.gitattributes` must hold mailgit's own content and may not be removed: they decide
 * how git stores and checks out bytes in every clone.
 */
import type { HistoryStore, TreeEntry } from '../store/commitStore.js';
import { classifyPath, unsafeReason } from '../maildir/paths.js';
import { UnsafeDataError } from '../util/errors.js';
import { ROOT_FILE_TEXT } from '../repo/ignore.js';
import { ROOT_FILES } from '../maildir/paths.js';

/** The largest message file accepted from a remote (default). */
export const MAX_BLOB_BYTES = 256 * 1024 * 1024;

/**
 * The largest message file accepted from a remote: {@link MAX_BLOB_BYTES}, or a smaller
 * or larger limit from `MAILGIT_MAX_MESSAGE_BYTES` (e.g. for a replica that must never
 * take huge mail, and for tests that cannot afford a 256 MB blob).
 */
export function maxMessageBytes(): number {
  const v = Number(process.env.MAILGIT_MAX_MESSAGE_BYTES);
  return Number.isSafeInteger(v) && v > 0 ? v : MAX_BLOB_BYTES;
}
/** The largest `.mailgit/` file accepted from a remote. */
export const MAX_META_BYTES = 1024 * 1024;

/** A path quoted for an error line: JSON escapes, plus DEL and C1 controls, so no raw control byte reaches a terminal. */
export function quote(path: string): string {
  return JSON.stringify(path).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Returns why one entry is refused, or `null` if it is acceptable. */
export function entryProblem(e: Pick<TreeEntry, 'mode' | 'type' | 'path'>): string | null {
  const bad = unsafeReason(e.path);
  if (bad) return bad;
  if (e.mode === '120000') return 'symbolic link';
  if (e.mode === '160000' || e.type === 'commit') return 'submodule';
  if (e.mode === '100755') return 'executable file';
  if (e.type !== 'blob' || e.mode !== '100644') return `mode ${e.mode}`;
  if (classifyPath(e.path) === null) return 'not a Maildir message, folder file or .mailgit file';
  return null;
}

function describe(problems: string[], total: number, origin: string): string {
  const more = total > problems.length ? ` (and ${total - problems.length} more)` : '';
  return `refusing ${origin}: ${problems.join('; ')}${more}; nothing was applied`;
}

/**
 * Checks entries from an untrusted tree (all of it on clone, the changed paths on sync)
 * and throws {@link UnsafeDataError} listing what is refused.
 */
export async function validateIncoming(store: HistoryStore, entries: TreeEntry[], origin: string): Promise<void> {
  const problems: string[] = [];
  let total = 0;
  const note = (msg: string) => {
    total++;
    if (problems.length < 5) problems.push(msg);
  };
  for (const e of entries) {
    const why = entryProblem(e);
    if (why) note(`${quote(e.path)}: ${why}`);
  }
  if (total === 0 && entries.length > 0) {
    const sizes = await store.blobSizes(entries.map((e) => e.oid));
    const meta: TreeEntry[] = [];
    const maxMessage = maxMessageBytes();
    entries.forEach((e, i) => {
      const size = sizes[i];
      const isMeta = e.path.startsWith('.mailgit/') || ROOT_FILES.has(e.path);
      if (size === null || size === undefined) note(`${quote(e.path)}: missing object`);
      else if (size > (isMeta ? MAX_META_BYTES : maxMessage)) note(`${quote(e.path)}: ${size} bytes is too large`);
      else if (isMeta && (e.path.endsWith('.json') || ROOT_FILES.has(e.path))) meta.push(e);
    });
    for (const e of meta.filter((m) => ROOT_FILES.has(m.path))) {
      if (!(await store.readBlob(e.oid)).equals(Buffer.from(ROOT_FILE_TEXT[e.path]!)))
        note(`${quote(e.path)}: not mailgit's own content (it decides how git stores mail bytes)`);
    }
    for (const e of meta.filter((m) => !ROOT_FILES.has(m.path))) {
      const text = (await store.readBlob(e.oid)).toString('utf8');
      try {
        const v = JSON.parse(text) as unknown;
        if (v === null || typeof v !== 'object' || Array.isArray(v)) note(`${quote(e.path)}: not a JSON object`);
      } catch {
        note(`${quote(e.path)}: not valid JSON`);
      }
    }
  }
  if (total > 0) throw new UnsafeDataError(describe(problems, total, origin));
}

/**
 * Refuses a remote change that removes `.gitignore` or `.gitattributes`: without them a
 * plain clone of a hub converts bytes (ignore.ts: ROOT_FILE_TEXT).
 */
export function refuseRootFileRemovals(changes: readonly { path: string; newOid: string | null }[], origin: string): void {
  const gone = changes
    .filter((c) => c.newOid === null && ROOT_FILES.has(c.path))
    .map((c) => `${quote(c.path)}: removed (it decides how git stores mail bytes)`);
  if (gone.length > 0) throw new UnsafeDataError(describe(gone, gone.length, origin));
}
