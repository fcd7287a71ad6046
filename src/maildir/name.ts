/**
 * Maildir file names: `UNIQUE` or `UNIQUE:2,FLAGS`, split into key and info.
 */
import type { Sub } from './snapshot.js';

/** A message path split into its parts. */
export interface MessagePath {
  folder: string;
  sub: Sub;
  key: string;
  info: string;
}

/** Splits a file name into its key (before the first `:`) and verbatim info suffix. */
export function splitName(name: string): { key: string; info: string } {
  const colon = name.indexOf(':');
  if (colon < 0) return { key: name, info: '' };
  return { key: name.slice(0, colon), info: name.slice(colon) };
}

/** Joins a key and info back into a file name. */
export function joinName(key: string, info: string): string {
  return key + info;
}

/**
 * Sorts flag letters in ASCII order and drops repeated letters (`"SFS"` → `"FS"`). Every flag
 * string mailgit compares or writes goes through this one order.
 */
export function sortFlags(flags: string): string {
  return [...new Set(flags)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join('');
}

/**
 * Returns the flag letters of an info suffix, sorted and without repeats: `":2,FS"` → `"FS"`.
 * An info that is empty or not in the `:2,` form (for example the experimental `:1,`) has no
 * flags and gives `""`.
 */
export function flagsOf(info: string): string {
  return info.startsWith(':2,') ? sortFlags(info.slice(3)) : '';
}

/** Returns the info suffix for a set of flag letters (sorted, without repeats). */
export function infoOfFlags(flags: string): string {
  return `:2,${sortFlags(flags)}`;
}

/**
 * Parses a repo-relative path as a message path (`FOLDER/cur/NAME`, `FOLDER/new/NAME`,
 * or `cur/NAME` at the root), or returns `null` if it is not one. Dot files inside
 * `cur/` and `new/` are not messages (Maildir readers skip them).
 */
export function parseMessagePath(path: string): MessagePath | null {
  const slash = path.lastIndexOf('/');
  if (slash < 0) return null;
  const name = path.slice(slash + 1);
  if (name === '' || name.startsWith('.')) return null;
  const dir = path.slice(0, slash);
  const subSlash = dir.lastIndexOf('/');
  const sub = dir.slice(subSlash + 1);
  if (sub !== 'cur' && sub !== 'new') return null;
  const folder = subSlash < 0 ? '' : dir.slice(0, subSlash);
  return { folder, sub, ...splitName(name) };
}

/** Returns the repo-relative path of a message. */
export function messagePath(m: { folder: string; sub: Sub; key: string; info: string }): string {
  const prefix = m.folder === '' ? '' : `${m.folder}/`;
  return `${prefix}${m.sub}/${joinName(m.key, m.info)}`;
}
