/**
 * What the benchmark scripts share: argument parsing, the seeded PRNG, the generated
 * Maildir (folders, ~4 KB messages with realistic headers), formatting and the git
 * identity for the git CLI side. Plain Node ESM, no build step. `rng` comes from
 * test/helpers/rng.mjs: bench depends on test, never the reverse.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from '../test/helpers/rng.mjs';

export { rng };

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The CLI to measure: $MAILGIT_BIN (another build's bin/mailgit.js) or this checkout's. */
export const BIN = process.env.MAILGIT_BIN ? resolve(process.env.MAILGIT_BIN) : join(ROOT, 'bin/mailgit.js');

/** Runs a program to its end and returns its stdout; throws with its stderr when it fails. */
export function must(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Compiles the tests' Dovecot harness (test/helpers/dovecot.ts) into bench/out/ and imports it. */
export function loadHarness() {
  const out = join(ROOT, 'bench/out/harness');
  must(process.execPath, [
    join(ROOT, 'node_modules/typescript/bin/tsc'),
    join(ROOT, 'test/helpers/dovecot.ts'),
    '--outDir',
    out,
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--target',
    'es2022',
    '--skipLibCheck',
    '--types',
    'node',
    '--ignoreConfig',
  ]);
  return import(join(out, 'dovecot.js'));
}

/**
 * Options from an argument list. `opt(name, dflt)` and `flag(name)` take what they find out
 * of `rest` (so what is left are the positional arguments and anything unknown).
 * @param {string[]} [argv]
 */
export function parseArgs(argv = process.argv.slice(2)) {
  const rest = [...argv];
  /** The value after `name`, or `dflt`. */
  const opt = (name, dflt) => {
    const i = rest.indexOf(name);
    if (i < 0) return dflt;
    const v = rest[i + 1];
    rest.splice(i, 2);
    return v;
  };
  /** Whether `name` is given. */
  const flag = (name) => {
    const i = rest.indexOf(name);
    if (i < 0) return false;
    rest.splice(i, 1);
    return true;
  };
  return { opt, flag, rest };
}

/** The generated mailbox's folders (fs layout) and each one's share of the messages. */
export const FOLDERS = [
  ['INBOX', 0.4],
  ['Archive', 0.3],
  ['Sent', 0.1],
  ['Lists/rust', 0.1],
  ['Trash', 0.1],
];

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there ' +
  'mail message server build release patch review merge branch commit thanks regards meeting tomorrow project update please attached ' +
  'report question issue fixed version test rust compiler cargo async trait lifetime borrow checker crate docs example performance'
).split(' ');
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'];
const DOMS = ['example.org', 'lists.example.com', 'mail.example.net', 'corp.example'];

/**
 * Message number `i`, dated `date` (ms): 3000–5000 bytes of body under realistic headers
 * (Received, DKIM-Signature, ...), all drawn from `r`.
 * @param {() => number} r
 * @param {number} i
 * @param {number} date
 */
export function generateMessage(r, i, date) {
  const pick = (a) => a[Math.floor(r() * a.length)];
  const b64 = (n) => {
    let s = '';
    for (let k = 0; k < n; k++) s += B64[Math.floor(r() * 64)];
    return s;
  };
  const d = new Date(date).toUTCString().replace('GMT', '+0000');
  const words = 3 + Math.floor(r() * 6);
  let subject = pick(WORDS);
  for (let k = 1; k < words; k++) subject += ` ${pick(WORDS)}`;
  const from = `${pick(NAMES)}@${pick(DOMS)}`;
  const h = [
    `Return-Path: <${from}>`,
    `Delivered-To: me@example.org`,
    `Received: from mx${Math.floor(r() * 9)}.${pick(DOMS)} (mx.${pick(DOMS)} [192.0.2.${Math.floor(r() * 250)}])`,
    `\tby mail.example.org (Postfix) with ESMTPS id ${b64(10)}`,
    `\tfor <me@example.org>; ${d}`,
    `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=${pick(DOMS)}; s=s1;`,
    `\th=from:to:subject:date:message-id; bh=${b64(44)};`,
    `\tb=${b64(76)}`,
    `\t${b64(76)}`,
    `\t${b64(76)}`,
    `Message-ID: <${i}.${b64(12)}@${pick(DOMS)}>`,
    `Date: ${d}`,
    `From: ${from}`,
    `To: me@example.org`,
    `Subject: ${subject}`,
    `MIME-Version: 1.0`,
    `Content-Type: text/plain; charset=utf-8`,
    `Content-Transfer-Encoding: 8bit`,
  ];
  const target = 3000 + Math.floor(r() * 2000);
  let body = '';
  let line = '';
  while (body.length < target) {
    line += `${pick(WORDS)} `;
    if (line.length > 66) {
      body += `${line.trimEnd()}\n`;
      line = '';
    }
  }
  return `${h.join('\n')}\n\n${body}`;
}

/** Date of message 0; message `i` is dated `T0 + i * 10 min`. */
export const T0 = Date.UTC(2020, 0, 1);

/** The Maildir key (file name before `:2,`) of message `i`. */
export const messageKey = (i, date, body) => `${Math.floor(date / 1000)}.M${i}P${1000 + (i % 5000)}.bench,S=${Buffer.byteLength(body)}`;

/**
 * Writes a Maildir tree of `n` generated messages to `dir` (fs layout, {@link FOLDERS}),
 * seeded with `n`: in INBOX a share `newShare` lands in new/, the rest in cur/, 80% of
 * the cur/ ones marked seen.
 * @param {string} dir
 * @param {number} n
 * @param {{ newShare?: number }} [opts]
 */
export function writeMaildir(dir, n, { newShare = 0.1 } = {}) {
  const r = rng(n);
  let i = 0;
  for (const [folder, share] of FOLDERS) {
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, folder, sub), { recursive: true });
    const count = folder === FOLDERS[FOLDERS.length - 1][0] ? n - i : Math.round(n * share);
    for (let k = 0; k < count; k++, i++) {
      const date = T0 + i * 600_000;
      const body = generateMessage(r, i, date);
      const key = messageKey(i, date, body);
      const isNew = folder === 'INBOX' && r() < newShare;
      const flags = r() < 0.8 ? 'S' : '';
      writeFileSync(isNew ? join(dir, folder, 'new', key) : join(dir, folder, 'cur', `${key}:2,${flags}`), body);
    }
  }
}

/** Committer identity and no system config, for the git CLI the benchmarks run. */
export const GITENV = { GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b', GIT_CONFIG_NOSYSTEM: '1' };

/** Milliseconds as `812 ms` or `3.42 s`. */
export const fmtS = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
/** Bytes as `512 B`, `3.5 KB` or `1.25 MB`. */
export const fmtB = (b) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(2)} MB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KB` : `${b} B`);
/** The middle value (the upper one of an even count); NaN for none. */
export const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);

/** A day of a mail client's changes (bench/sync.mjs): new messages, flag changes, moves, deletions. */
export const DAY = { fresh: 200, flags: 1000, moves: 50, deletes: 100 };
/** The number of changes in a {@link DAY}. */
export const CHANGES = DAY.fresh + DAY.flags + DAY.moves + DAY.deletes;

/**
 * Every message in FOLDER/cur of a Maildir root, as {folder, key}, sorted. */
export function curKeys(root) {
  const out = [];
  for (const [folder] of FOLDERS) for (const name of readdirSync(join(root, folder, 'cur')).sort()) out.push({ folder, key: name.slice(0, name.indexOf(':')) });
  return out;
}

/** Plans a day from the messages in cur/: which get a flag change, a move, a deletion; the new mail. */
export function planDay(keys, n, round) {
  const r = rng((n ^ 0x5eed) + round);
  const chosen = new Set();
  const pickKey = () => {
    for (;;) {
      const c = keys[Math.floor(r() * keys.length)];
      if (!chosen.has(c.key)) {
        chosen.add(c.key);
        return c;
      }
    }
  };
  const flags = Array.from({ length: DAY.flags }, pickKey);
  const moves = Array.from({ length: DAY.moves }, () => {
    const c = pickKey();
    const to = c.folder === 'Archive' ? 'INBOX' : c.folder === 'Trash' ? 'Archive' : r() < 0.7 ? 'Archive' : 'Trash';
    return { ...c, to };
  });
  const deletes = Array.from({ length: DAY.deletes }, pickKey);
  const fresh = [];
  for (let k = 0; k < DAY.fresh; k++) {
    const i = n + round * DAY.fresh + k;
    const date = T0 + i * 600_000;
    const body = generateMessage(r, i, date);
    fresh.push({ folder: k % 4 === 3 ? 'Lists/rust' : 'INBOX', key: messageKey(i, date, body), body });
  }
  return { flags, moves, deletes, fresh };
}

/** key → current file name in FOLDER/cur (Dovecot may have renamed nothing, but never trust). */
function curIndex(root, folder) {
  const m = new Map();
  for (const name of readdirSync(join(root, folder, 'cur'))) {
    const c = name.indexOf(':');
    m.set(c < 0 ? name : name.slice(0, c), name);
  }
  return m;
}

function toggled(name) {
  const c = name.indexOf(':2,');
  const key = c < 0 ? name : name.slice(0, c);
  const fl = c < 0 ? '' : name.slice(c + 3);
  // Reading unread mail, or flagging / unflagging read mail.
  const next = !fl.includes('S') ? `${fl}S` : fl.includes('F') ? fl.replace('F', '') : `${fl}F`;
  return `${key}:2,${[...next].sort().join('')}`;
}

/** Applies the planned day to a Maildir root, as a mail client would (renames, unlinks, deliveries). */
export function applyDay(root, day) {
  const idx = new Map(FOLDERS.map(([f]) => [f, curIndex(root, f)]));
  const name = (c) => {
    const n = idx.get(c.folder).get(c.key);
    if (!n) throw new Error(`${root}: ${c.folder}/cur/${c.key} not found`);
    return n;
  };
  for (const c of day.flags) {
    const n = name(c);
    renameSync(join(root, c.folder, 'cur', n), join(root, c.folder, 'cur', toggled(n)));
  }
  for (const c of day.moves) {
    const n = name(c);
    renameSync(join(root, c.folder, 'cur', n), join(root, c.to, 'cur', n));
  }
  for (const c of day.deletes) unlinkSync(join(root, c.folder, 'cur', name(c)));
  for (const f of day.fresh) {
    const tmp = join(root, f.folder, 'tmp', f.key);
    writeFileSync(tmp, f.body);
    renameSync(tmp, join(root, f.folder, 'new', f.key));
  }
}

/**
 * Plans the next day of changes for replica `root` of a kept benchmark directory `workdir`
 * (rounds counted in `workdir/.day-round`, from 100, so that reruns plan new days) and makes
 * it there as a mail client would; returns the round.
 */
export function replayDay(workdir, root) {
  const file = join(workdir, '.day-round');
  const round = existsSync(file) ? Number(readFileSync(file, 'utf8')) : 100;
  const keys = curKeys(root);
  applyDay(root, planDay(keys, keys.length, round));
  writeFileSync(file, String(round + 1));
  return round;
}
