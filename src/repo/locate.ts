/**
 * Finding a message in history as a person names it: a Maildir key, a file name
 * (`KEY:2,S`), a path (`INBOX/cur/KEY:2,S`) or a Message-ID (`<id@host>`, brackets
 * optional). A message is looked up in the tree of a moment (HEAD by default); one that
 * is not there is found as it was just before the last change that took it away.
 */
import { basename } from 'node:path';
import { git } from '../git/run.js';
import { diffTrees } from '../git/diff.js';
import { CatFile } from '../git/catfile.js';
import { parseMessagePath, splitName } from '../maildir/name.js';
import { EX, MailgitError } from '../util/errors.js';
import { keyPathspecs } from './history.js';
import { messageIdOf } from './copies.js';
import { listDeleted } from './deleted.js';
import { TreeCache } from './treeMessages.js';
import type { StoredMessage } from './treeMessages.js';
import type { Moment } from './when.js';
import type { Repo } from './repo.js';

/** A message as some commit's tree holds it. */
export interface Located extends StoredMessage {
  /** The commit whose tree holds this version. */
  commit: string;
}

/** No message in history matches what the user named (exit 66). */
export class UnknownMessageError extends MailgitError {
  /** Creates the error for the name `x` as given. */
  constructor(x: string, where: string) {
    super(`no message ${JSON.stringify(x)} ${where}`, 'ENOMSG', EX.NOINPUT);
  }
}

/** What a name refers to: a Message-ID (with brackets) or a key. */
export function parseMessageName(x: string): { messageId: string } | { key: string } {
  const t = x.trim();
  if (/^<[^<>\s]+>$/.test(t)) return { messageId: t };
  if (/^[^<>\s/:]+@[^<>\s/:]+$/.test(t)) return { messageId: `<${t}>` };
  return { key: parseMessagePath(t)?.key ?? splitName(basename(t)).key };
}

/** The versions of `key` just before the last commit at or before `rev` that removed it. */
async function lastVersions(repo: Repo, key: string, rev: string): Promise<Located[]> {
  const specs = keyPathspecs(key);
  const out = await git(['log', '-1', '--format=%H %P', rev, '--', ...specs], { cwd: repo.root });
  const [commit, ...parents] = out.stdout.toString('utf8').trim().split(' ').filter(Boolean);
  if (!commit) return [];
  for (const parent of parents) {
    const gone = (await diffTrees(repo.root, { from: parent, to: commit, paths: specs })).filter((c) => c.oldOid !== null && c.newOid === null);
    const found = gone.map((c) => ({ ...parseMessagePath(c.path)!, path: c.path, oid: c.oldOid!, commit: parent }));
    if (found.length > 0) return found.filter((f) => f.key === key);
  }
  return [];
}

function regexEscape(s: string): string {
  return s.replace(/[.[\]()*+?{}|^$\\]/g, (c) => `\\${c}`);
}

/** Messages of `commit`'s tree whose Message-ID header is `id`: `git grep`, then each hit read to be sure. */
async function byMessageId(repo: Repo, { trees, commit, id }: { trees: TreeCache; commit: string; id: string }): Promise<Located[]> {
  const re = `^message-id:[[:space:]]*${regexEscape(id)}`;
  const out = await git(['grep', '-l', '-z', '-i', '-E', '-e', re, commit, '--', ':(glob)**/cur/*', ':(glob)**/new/*'], { cwd: repo.root, okCodes: [1] });
  const paths = out.stdout
    .toString('utf8')
    .split('\0')
    .filter(Boolean)
    .map((p) => p.slice(commit.length + 1));
  if (paths.length === 0) return [];
  const tree = await trees.get(commit);
  const cat = new CatFile(repo.root);
  const found: Located[] = [];
  try {
    for (const p of paths) {
      const m = parseMessagePath(p);
      const stored = m ? tree.byKey.get(m.key)?.find((s) => s.path === p) : undefined;
      if (stored && messageIdOf(await cat.read(stored.oid)) === id) found.push({ ...stored, commit });
    }
  } finally {
    cat.close();
  }
  return found;
}

/** What {@link locate} looks for: a name as the user gave it, the moment, and the tree listings kept between names. */
export interface LocateQuery {
  name: string;
  at: Moment;
  trees?: TreeCache | undefined;
}

/**
 * Finds the messages `x` (the query's `name`) names as of moment `at`: the versions in its tree, or else
 * the last version of each that history had before `at`. A Message-ID may name several
 * messages (one version each). Throws {@link UnknownMessageError} when there is none.
 * `trees` keeps the listings for the next name.
 */
export async function locate(repo: Repo, { name: x, at, trees = new TreeCache(repo) }: LocateQuery): Promise<Located[]> {
  const name = parseMessageName(x);
  const where = at.time === null ? `in the history up to ${at.commit.slice(0, 10)}` : 'in the history up to then';
  if ('key' in name) {
    if (name.key === '') throw new UnknownMessageError(x, where);
    const tree = await trees.get(at.commit);
    const here = (tree.byKey.get(name.key) ?? []).map((s) => ({ ...s, commit: at.commit }));
    const found = here.length > 0 ? here : await lastVersions(repo, name.key, at.commit);
    if (found.length === 0) throw new UnknownMessageError(x, where);
    return found;
  }
  const here = await byMessageId(repo, { trees, commit: at.commit, id: name.messageId });
  if (here.length > 0) return here;
  const seen = new Set<string>();
  const found: Located[] = [];
  for (const d of await listDeleted(repo, { until: at.time ?? undefined })) {
    if (d.messageId !== name.messageId || seen.has(d.key)) continue;
    seen.add(d.key);
    found.push({ ...parseMessagePath(d.path)!, path: d.path, oid: d.oid, commit: `${d.commit}^` });
  }
  if (found.length === 0) throw new UnknownMessageError(x, where);
  return found;
}
