/**
 * A mail client acting on a Maildir as mutt, notmuch, Dovecot and mbsync do: deliver
 * into new/ through tmp/, new→cur, flag renames inside cur/, moves keeping the name,
 * copy + delete under a new name (mutt's save), expunges, folder creation and removal;
 * and ({@link editOp}) what no Maildir client does but an editor or a script may: other
 * bytes under the same name. Every message body is unique, so a message (a version of
 * one, after an edit) is identified by its blob id.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blobId, isMessagePath } from './lib.js';
import type { Rand } from './lib.js';

/** A message file on disk. */
export interface DiskMsg {
  /** Repo-relative path. */
  path: string;
  folder: string;
  sub: 'cur' | 'new';
  key: string;
  flags: string;
}

/** Folders (fs layout) present on disk: directories with a `cur/` subdirectory. */
export function folders(repo: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const abs = join(repo, rel);
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch {
      return;
    }
    if (rel && names.includes('cur')) out.push(rel);
    for (const n of names) {
      if (n === '.git' || n === '.mailgit' || n === 'cur' || n === 'new' || n === 'tmp' || n.startsWith('.')) continue;
      const p = rel ? `${rel}/${n}` : n;
      try {
        if (readdirSync(join(repo, p)) && true) walk(p);
      } catch {
        /* a file */
      }
    }
  };
  walk('');
  return out.sort();
}

/** Every message file on disk. */
export function messages(repo: string): DiskMsg[] {
  const out: DiskMsg[] = [];
  for (const f of folders(repo)) {
    for (const sub of ['cur', 'new'] as const) {
      let names: string[] = [];
      try {
        names = readdirSync(join(repo, f, sub));
      } catch {
        continue;
      }
      for (const name of names) {
        const path = `${f}/${sub}/${name}`;
        if (!isMessagePath(path)) continue;
        const colon = name.indexOf(':');
        out.push({ path, folder: f, sub, key: colon < 0 ? name : name.slice(0, colon), flags: colon < 0 ? '' : name.slice(colon + 3) });
      }
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The blob id of a message on disk. */
export function blobOf(repo: string, m: DiskMsg): string {
  return blobId(readFileSync(join(repo, m.path)));
}

let counter = 0;

/** A unique message text (deterministic for a seed). */
export function messageText(r: Rand, tag: string): string {
  const id = `${tag}.${r.hex(12)}`;
  const lf = r.chance(0.3) ? '\r\n' : '\n';
  return [
    `From: someone-${r.int(1, 50)}@example.org`,
    `To: me@example.org`,
    `Subject: message ${id}`,
    `Message-ID: <${id}@torture>`,
    '',
    `body of ${id}`,
    '',
  ].join(lf);
}

/** Makes `folder` a Maildir (cur/new/tmp). */
export function makeFolder(repo: string, folder: string): void {
  for (const s of ['cur', 'new', 'tmp']) mkdirSync(join(repo, folder, s), { recursive: true });
}

/** Delivers `text` through tmp/ into new/ (or cur/ with flags); returns the blob id. */
export function drop(repo: string, folder: string, key: string, text: string | Buffer, flags?: string): string {
  makeFolder(repo, folder);
  const tmp = join(repo, folder, 'tmp', `${key}.${counter++}`);
  writeFileSync(tmp, text);
  const name = flags === undefined ? key : `${key}:2,${flags}`;
  renameSync(tmp, join(repo, folder, flags === undefined ? 'new' : 'cur', name));
  return blobId(Buffer.isBuffer(text) ? text : Buffer.from(text));
}

/** A key as Dovecot makes them (seeded). */
export function newKey(r: Rand, host: string): string {
  return `${1700000000 + r.int(0, 9_999_999)}.M${r.int(0, 999999)}P${r.int(100, 99999)}Q${r.int(1, 99)}.${host}`;
}

const FLAGS = ['D', 'F', 'P', 'R', 'S', 'T', 'a', 'b'];

/** A random flag set, sorted. */
export function randomFlags(r: Rand): string {
  return FLAGS.filter(() => r.chance(0.3))
    .sort()
    .join('');
}

/** What one client operation did, for the op log and the expectation model. */
export interface OpResult {
  text: string;
  /** Blob ids created, modified (flags, moved) or deleted. */
  created?: string[];
  modified?: string[];
  moved?: string[];
  deleted?: string[];
  /** Messages edited in place: the blob before and the blob after, under the same name. */
  edited?: { from: string; to: string }[];
}

/**
 * Gives a random message new bytes under its name, as no Maildir client does but an editor
 * or a script may: written into the file (its directory does not change) or, as `sed -i`
 * and most editors do, written beside it and renamed over it. Null when there is no message.
 */
export function editOp(repo: string, r: Rand, host: string): OpResult | null {
  const msgs = messages(repo);
  if (msgs.length === 0) return null;
  const m = r.pick(msgs);
  const from = blobOf(repo, m);
  const text = messageText(r, `${host}-edit`);
  const over = r.chance(0.5);
  if (over) {
    const tmp = join(repo, m.folder, 'tmp', `edit.${counter++}`);
    writeFileSync(tmp, text);
    renameSync(tmp, join(repo, m.path));
  } else writeFileSync(join(repo, m.path), text);
  const to = blobId(Buffer.from(text));
  return { text: `edit ${m.path} ${over ? 'by a rename over it' : 'in place'}`, created: [to], edited: [{ from, to }] };
}

/**
 * The first half of a client's `rm -rf` of `folder` as coreutils and Node do it: one
 * listing of the folder and of its directories, and the unlink of one message. The
 * second half, returned, removes the rest of what was listed and then the folder, and
 * fails with ENOTEMPTY when something was written into the folder in between (a record
 * must write nothing there). Between the two, mailgit may record (the race made wide).
 */
export function startRemoval(repo: string, folder: string): () => void {
  const abs = join(repo, folder);
  const listed = readdirSync(abs, { withFileTypes: true });
  const inside = new Map(listed.filter((e) => e.isDirectory()).map((e) => [e.name, readdirSync(join(abs, e.name))]));
  const cur = inside.get('cur') ?? [];
  if (cur.length > 0) unlinkSync(join(abs, 'cur', cur[0]!));
  return () => {
    for (const e of listed) {
      if (!e.isDirectory()) rmSync(join(abs, e.name), { force: true });
      else {
        for (const m of inside.get(e.name)!) rmSync(join(abs, e.name, m), { force: true });
        rmdirSync(join(abs, e.name));
      }
    }
    rmdirSync(abs);
  };
}

/** The folders `rmfolder` may remove: not INBOX, no sub-folders. */
export function removableFolders(repo: string): string[] {
  const fs = folders(repo);
  return fs.filter((f) => f !== 'INBOX' && !fs.some((g) => g.startsWith(`${f}/`)));
}

/** Performs one random client operation on `repo`; returns what it did, or null if none fit. */
export function randomOp(repo: string, r: Rand, host: string, allowFolderRemoval = true): OpResult | null {
  const msgs = messages(repo);
  const fs = folders(repo);
  const kind = r.pick(['deliver', 'deliver', 'read', 'flag', 'flag', 'move', 'copymove', 'expunge', 'mkfolder', 'rmfolder'] as const);
  switch (kind) {
    case 'deliver': {
      const folder = fs.length > 0 && r.chance(0.7) ? r.pick(fs) : 'INBOX';
      const key = newKey(r, host);
      const b = drop(repo, folder, key, messageText(r, host));
      return { text: `deliver ${folder}/new/${key}`, created: [b] };
    }
    case 'read': {
      const fresh = msgs.filter((m) => m.sub === 'new');
      if (fresh.length === 0) return null;
      const m = r.pick(fresh);
      const flags = r.chance(0.7) ? 'S' : '';
      renameSync(join(repo, m.path), join(repo, m.folder, 'cur', `${m.key}:2,${flags}`));
      return { text: `read ${m.path} -> cur :2,${flags}`, modified: [blobOf(repo, { ...m, path: `${m.folder}/cur/${m.key}:2,${flags}` })] };
    }
    case 'flag': {
      const cur = msgs.filter((m) => m.sub === 'cur');
      if (cur.length === 0) return null;
      const m = r.pick(cur);
      const flags = randomFlags(r);
      const to = `${m.folder}/cur/${m.key}:2,${flags}`;
      renameSync(join(repo, m.path), join(repo, to));
      return { text: `flag ${m.path} -> ${flags}`, modified: [blobOf(repo, { ...m, path: to })] };
    }
    case 'move':
    case 'copymove': {
      if (msgs.length === 0 || fs.length < 2) return null;
      const m = r.pick(msgs);
      const dest = r.pick(fs.filter((f) => f !== m.folder));
      const b = blobOf(repo, m);
      if (kind === 'move') {
        makeFolder(repo, dest);
        renameSync(join(repo, m.path), join(repo, dest, m.sub, m.path.slice(m.path.lastIndexOf('/') + 1)));
        return { text: `move ${m.path} -> ${dest}`, moved: [b] };
      }
      const key = newKey(r, host);
      const data = readFileSync(join(repo, m.path));
      drop(repo, dest, key, data, m.flags);
      unlinkSync(join(repo, m.path));
      return { text: `copy+delete ${m.path} -> ${dest}/cur/${key}`, moved: [b] };
    }
    case 'expunge': {
      if (msgs.length === 0) return null;
      const m = r.pick(msgs);
      const b = blobOf(repo, m);
      unlinkSync(join(repo, m.path));
      return { text: `expunge ${m.path}`, deleted: [b] };
    }
    case 'mkfolder': {
      const name = r.pick(['Archive', 'Lists/rust', 'Lists/git', 'Sent', 'Trash', `F${r.int(1, 9)}`]);
      if (existsSync(join(repo, name, 'cur'))) return null;
      makeFolder(repo, name);
      return { text: `mkfolder ${name}` };
    }
    case 'rmfolder': {
      const cands = removableFolders(repo);
      if (!allowFolderRemoval || cands.length === 0) return null;
      const f = r.pick(cands);
      const gone = msgs.filter((m) => m.folder === f).map((m) => blobOf(repo, m));
      // A client's rm -rf of a folder. rmSync lists the folder once and retries only the last
      // rmdir, so a marker written into it after that listing still fails it with ENOTEMPTY
      // (mailgit's walk can: docs/design.md, the long torture).
      rmSync(join(repo, f), { recursive: true, force: true, maxRetries: 3 });
      return { text: `rmfolder ${f} (${gone.length} messages)`, deleted: gone };
    }
  }
}
