/**
 * Test helpers: the message files a mail repo holds, in HEAD and on disk, and how to tell
 * them apart (by key, by content hash).
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gitOut } from './cli.js';

const MESSAGE_PATH = /(^|\/)(cur|new)\/[^/]+$/;

/** `path → blob` of every message file (in a cur/ or new/) in HEAD of the repo at `dir`. */
export function headMessages(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const rec of gitOut(dir, ['ls-tree', '-r', '-z', 'HEAD']).split('\0')) {
    if (!rec) continue;
    const [meta, path] = rec.split('\t') as [string, string];
    if (MESSAGE_PATH.test(path)) m.set(path, meta.split(' ')[2]!);
  }
  return m;
}

/** Message files on disk (cur/ and new/ of every folder) under `dir`, relative paths, sorted. */
export function diskMessages(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      if (e.name === '.git' || e.name === '.mailgit' || e.name === 'tmp') continue;
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else if (MESSAGE_PATH.test(p)) out.push(p);
    }
  };
  walk('');
  return out.sort();
}

/** The Maildir key of a message path: its file name before `:`. */
export const keyOf = (path: string): string => path.slice(path.lastIndexOf('/') + 1).split(':')[0]!;

/** Hex SHA-256 of some bytes. */
export const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
