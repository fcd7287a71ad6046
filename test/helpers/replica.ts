/**
 * Test helpers for sync end-to-end tests: make replicas with the real CLI, act like a
 * mail client on their Maildirs (rename, move, delete files), and read back what HEAD
 * and the disk hold so tests can compare them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { gitOut, mailgit } from './cli.js';
import type { Run } from './cli.js';

/** Runs `mailgit -C repo ARGS` and throws with its output unless it exits 0. */
export function mg(repo: string, args: string[], env?: Record<string, string>): Run {
  const r = mailgit(['-C', repo, ...args], { cwd: repo, env });
  if (r.code !== 0) throw new Error(`mailgit ${args.join(' ')} in ${repo} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Creates a new mail repo `dir` for replica `name`. */
export function initReplica(dir: string, name: string): string {
  const r = mailgit(['init', dir, '--name', name]);
  if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
  return dir;
}

/** Clones `src` into `dir` as replica `name`. */
export function cloneReplica(src: string, dir: string, name: string, env?: Record<string, string>): string {
  const r = mailgit(['clone', src, dir, '--name', name], { env });
  if (r.code !== 0) throw new Error(`clone failed (${r.code}): ${r.stderr}`);
  return dir;
}

/** Makes an empty bare repo to serve as a hub. */
export function bareHub(dir: string): string {
  gitOut('/', ['init', '-q', '--bare', '-b', 'main', dir]);
  return dir;
}

/** A replica A with `n` INBOX messages in `dir`, synced to a fresh bare hub, and a clone B. */
export function hubPair(dir: string, n: number): { hub: string; a: string; b: string; keys: string[] } {
  const a = initReplica(join(dir, 'a'), 'a');
  const keys: string[] = [];
  for (let i = 0; i < n; i++) keys.push(arrive(a, `m${i}`));
  const hub = bareHub(join(dir, 'hub.git'));
  addRemote(a, 'hub', hub);
  mg(a, ['sync']);
  return { hub, a, b: cloneReplica(hub, join(dir, 'b'), 'b'), keys };
}

/** Adds a git remote. */
export function addRemote(repo: string, name: string, url: string): void {
  gitOut(repo, ['remote', 'add', name, url]);
}

/** A unique message text. */
export function messageText(subject: string): string {
  return `From: a@example.org\nTo: b@example.org\nSubject: ${subject}\nMessage-ID: <${randomBytes(8).toString('hex')}@test>\n\n${subject} body ${randomBytes(8).toString('hex')}\n`;
}

/** Delivers a message through `mailgit deliver`; returns its key (file name before `:`). */
export function deliver(repo: string, subject: string, folder = 'INBOX', text = messageText(subject)): string {
  const r = mailgit(['-C', repo, 'deliver', '--json', '--folder', folder], { cwd: repo, input: text });
  if (r.code !== 0) throw new Error(`deliver failed: ${r.stderr}`);
  const path = (JSON.parse(r.stdout) as { path: string }).path;
  return path.slice(path.lastIndexOf('/') + 1).split(':')[0]!;
}

let seq = 0;

/**
 * A message arrives as an MDA outside mailgit would deliver it (tmp/ → new/), to be
 * recorded by the next commit or sync; cheaper than a `mailgit deliver` run. Returns its key.
 */
export function arrive(repo: string, subject: string, folder = 'INBOX'): string {
  const key = `1700${String(++seq).padStart(6, '0')}.M${randomBytes(4).toString('hex')}P${process.pid}.test`;
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(repo, folder, sub), { recursive: true });
  const tmp = join(repo, folder, 'tmp', key);
  writeFileSync(tmp, messageText(subject));
  renameSync(tmp, join(repo, folder, 'new', key));
  return key;
}

/** Writes a message straight into `FOLDER/cur/KEY:2,FLAGS` as a client (or mbsync) would. */
export function dropMessage(repo: string, folder: string, key: string, text: string, flags = ''): void {
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(repo, folder, sub), { recursive: true });
  const tmp = join(repo, folder, 'tmp', key);
  writeFileSync(tmp, text);
  renameSync(tmp, join(repo, folder, 'cur', `${key}:2,${flags}`));
}

/** The git blob id of a byte string. */
export function blobId(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

/** HEAD's tree id. */
export function headTree(repo: string): string {
  return gitOut(repo, ['rev-parse', 'HEAD^{tree}']).trim();
}

/** Every path of HEAD with its blob id and mode. */
export function headFiles(repo: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rec of gitOut(repo, ['ls-tree', '-r', '-z', 'HEAD']).split('\0')) {
    if (!rec) continue;
    const tab = rec.indexOf('\t');
    const [mode, , oid] = rec.slice(0, tab).split(' ');
    out.set(rec.slice(tab + 1), `${mode} ${oid}`);
  }
  for (const m of impliedMarkers(out.keys())) if (!out.has(m)) out.set(m, `100644 ${blobId(Buffer.alloc(0))}`);
  return out;
}

/**
 * The markers of the folders (other than the root) holding messages among `paths`: a
 * folder that history has by its message directories alone (a peer that never recorded
 * its marker) counts as marked, as its directory on disk does ({@link unwrittenMarker}).
 */
export function impliedMarkers(paths: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const p of paths) {
    const m = /^(.+)\/(cur|new)\/[^/]+$/.exec(p);
    if (m) out.add(`${m[1]}/maildirfolder`);
  }
  return out;
}

const CACHES = /(^|\/)(dovecot-uidlist|dovecot\.index[^/]*|\.mbsyncstate[^/]*|\.uidvalidity|[^/]*\.lock)$/;

/**
 * The marker a folder directory keeps in history without holding it on disk (mailgit
 * records a new folder's `maildirfolder` and never writes it into the client's folder),
 * or null: `rel` is a folder (not the root; it has `cur/`, or `new/` and `tmp/`) whose
 * listing `names` lacks the marker.
 */
export function unwrittenMarker(repo: string, rel: string, names: readonly string[]): string | null {
  if (rel === '' || names.includes('maildirfolder')) return null;
  const isDir = (n: string) => names.includes(n) && statSync(join(repo, rel, n)).isDirectory();
  return isDir('cur') || (isDir('new') && isDir('tmp')) ? `${rel}/maildirfolder` : null;
}

/**
 * Every file of the work tree as git would record it (path → "mode blob"), leaving out
 * `.git/`, `tmp/` contents and client caches; a folder's marker counts as there when
 * the folder is (see {@link unwrittenMarker}).
 */
export function diskFiles(repo: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    const names = readdirSync(join(repo, rel));
    const marker = unwrittenMarker(repo, rel, names);
    if (marker !== null) out.set(marker, `100644 ${blobId(Buffer.alloc(0))}`);
    for (const name of names) {
      const p = rel ? `${rel}/${name}` : name;
      if (p === '.git' || name === '.notmuch') continue;
      const st = lstatSync(join(repo, p));
      if (st.isDirectory()) {
        if (name === 'tmp') continue;
        walk(p);
      } else if (!CACHES.test(p)) {
        const mode = st.isSymbolicLink() ? '120000' : st.mode & 0o111 ? '100755' : '100644';
        out.set(p, `${mode} ${blobId(readFileSync(join(repo, p)))}`);
      }
    }
  };
  walk('');
  return out;
}

/** Sorted "path mode blob" lines, for readable diffs in assertions. */
export function listing(m: Map<string, string>): string[] {
  return [...m].map(([p, v]) => `${p} ${v}`).sort();
}

/** Folders (directories holding a `maildirfolder` marker in HEAD) missing cur/new/tmp on disk. */
export function foldersMissingDirs(repo: string): string[] {
  const missing: string[] = [];
  for (const p of headFiles(repo).keys()) {
    if (!(p === 'maildirfolder' || p.endsWith('/maildirfolder'))) continue;
    const dir = p.slice(0, Math.max(0, p.lastIndexOf('/')));
    for (const sub of ['cur', 'new', 'tmp']) {
      const d = join(repo, dir, sub);
      if (!existsSync(d) || !statSync(d).isDirectory()) missing.push(`${dir}/${sub}`);
    }
  }
  return missing;
}

/** The Maildir on disk holds exactly what HEAD holds, and every folder has cur/new/tmp. */
export function expectDiskIsHead(repo: string): void {
  expect(listing(diskFiles(repo))).toEqual(listing(headFiles(repo)));
  expect(foldersMissingDirs(repo)).toEqual([]);
}

/** A message as HEAD has it. */
export interface Msg {
  folder: string;
  sub: string;
  flags: string;
  path: string;
  blob: string;
}

/** Messages in HEAD (or in `rev`), by key; several paths per key are listed. */
export function messagesAt(repo: string, rev = 'HEAD'): Map<string, Msg[]> {
  const out = new Map<string, Msg[]>();
  for (const rec of gitOut(repo, ['ls-tree', '-r', '-z', rev]).split('\0')) {
    if (!rec) continue;
    const tab = rec.indexOf('\t');
    const path = rec.slice(tab + 1);
    const m = /^(?:(.*)\/)?(cur|new)\/([^/.][^/]*)$/.exec(path);
    if (!m) continue;
    const name = m[3]!;
    const colon = name.indexOf(':');
    const key = colon < 0 ? name : name.slice(0, colon);
    const info = colon < 0 ? '' : name.slice(colon);
    const msg: Msg = { folder: m[1] ?? '', sub: m[2]!, flags: info.startsWith(':2,') ? info.slice(3) : '', path, blob: rec.slice(0, tab).split(' ')[2]! };
    out.set(key, [...(out.get(key) ?? []), msg]);
  }
  return out;
}

/** The one message with `key` in HEAD (throws if absent or duplicated). */
export function msg(repo: string, key: string): Msg {
  const all = messagesAt(repo).get(key) ?? [];
  if (all.length !== 1) throw new Error(`expected one message ${key} in ${repo}, found ${all.length}`);
  return all[0]!;
}

/** Finds the on-disk path (repo-relative) of message `key`. */
export function findOnDisk(repo: string, key: string): string {
  for (const p of diskFiles(repo).keys()) {
    const name = p.slice(p.lastIndexOf('/') + 1);
    if ((name === key || name.startsWith(`${key}:`)) && /(^|\/)(cur|new)\/[^/]+$/.test(p)) return p;
  }
  throw new Error(`message ${key} not on disk in ${repo}`);
}

/** As a client: sets the flags of message `key` (moving it to cur/ as readers do). */
export function setFlags(repo: string, key: string, flags: string): void {
  const p = findOnDisk(repo, key);
  const folder = p.replace(/\/?(cur|new)\/[^/]+$/, '');
  const sorted = [...new Set(flags)].sort().join('');
  renameSync(join(repo, p), join(repo, folder, 'cur', `${key}:2,${sorted}`));
}

/** As a client: adds flags to message `key`. */
export function addFlags(repo: string, key: string, flags: string): void {
  const p = findOnDisk(repo, key);
  const name = p.slice(p.lastIndexOf('/') + 1);
  const info = name.includes(':2,') ? name.slice(name.indexOf(':2,') + 3) : '';
  setFlags(repo, key, info + flags);
}

/** As a client: moves message `key` to `folder` keeping its name. */
export function moveTo(repo: string, key: string, folder: string): void {
  const p = findOnDisk(repo, key);
  const name = p.slice(p.lastIndexOf('/') + 1);
  const sub = p.includes('/new/') || p.startsWith('new/') ? 'new' : 'cur';
  for (const s of ['cur', 'new', 'tmp']) mkdirSync(join(repo, folder, s), { recursive: true });
  renameSync(join(repo, p), join(repo, folder, sub, name));
}

/** As a client: deletes message `key`. */
export function remove(repo: string, key: string): void {
  unlinkSync(join(repo, findOnDisk(repo, key)));
}

/** Runs `git fsck --strict`-ish check; returns its exit code and output. */
export function fsck(repo: string): { code: number; out: string } {
  const r = spawnSync('git', ['fsck', '--no-progress', '--no-dangling'], { cwd: repo, encoding: 'utf8' });
  return { code: r.status ?? 128, out: r.stdout + r.stderr };
}
