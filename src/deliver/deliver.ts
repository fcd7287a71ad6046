/**
 * Local delivery (an MDA): one message from a stream into a folder of the repo, then a
 * commit. Order is important:
 *   1. stream the message into `<folder>/tmp/<unique>` and fsync it,
 *   2. take the repo lock (waiting a while: a sync or watch commit may hold it),
 *   3. link the file into `new/` (or `cur/NAME:2,FLAGS`), unlink the tmp name, fsync `new/`,
 *   4. record the work tree as one commit, release the lock.
 * A failure before 3 leaves nothing delivered (the tmp file is removed) and is a temporary
 * failure: the MTA keeps the message and retries. After 3 the message is delivered —
 * a mail client sees it — so a failure of 4 is only a warning: the next commit records
 * the file. An exit status of 75 therefore never leaves a copy behind that the MTA's
 * retry would duplicate.
 */
import { link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { folderDir, folderNameProblem } from '../maildir/layout.js';
import { infoOfFlags, sortFlags } from '../maildir/name.js';
import { LOCK_WAIT_MS, withRepoLock } from '../repo/lock.js';
import { record } from '../repo/record.js';
import type { RecordResult } from '../repo/record.js';
import type { Repo } from '../repo/repo.js';
import { fsyncDir } from '../util/atomic.js';
import { EX, IoError, MailgitError, UsageError } from '../util/errors.js';
import { MAIL_DIR_MODE, MAIL_FILE_MODE } from '../repo/perms.js';

/** Options for {@link deliver}. */
export interface DeliverOptions {
  /** Logical folder name (default `INBOX`). Created with `cur/ new/ tmp/` when missing. */
  folder?: string;
  /** Maildir flags (`S`, `FS`, …): the message goes to `cur/` with `:2,FLAGS`. */
  flags?: string;
  /** How long to wait for the repo lock before giving up with exit 75 (default 30 s). */
  lockWaitMs?: number;
  /** Commit message subject (default: the summary, e.g. `INBOX: 1 delivered`). */
  message?: string;
}

/** What a delivery did. */
export interface DeliverResult {
  /** Repo-relative path of the delivered file. */
  path: string;
  /** Bytes written (after dropping an mbox `From ` line). */
  size: number;
  /** The commit that recorded it, or null when recording failed (the file stays; see `warning`). */
  record: RecordResult | null;
  /** Why the delivery was not recorded, when it was not. */
  warning?: string;
}

/** The input is not a message (empty). */
export class EmptyMessageError extends MailgitError {
  /** Creates the error. */
  constructor() {
    super('no message on standard input (empty input); nothing delivered', 'EEMPTY', EX.DATAERR);
  }
}

let deliveries = 0;

/** Host part of a Maildir name: `/` and `:` are encoded as the Maildir spec says. */
export function maildirHost(name = hostname()): string {
  return (name || 'localhost')
    .replace(/\//g, '\\057')
    .replace(/:/g, '\\072')
    .replace(/[^\x21-\x7e]/g, '_');
}

/** A unique Maildir key `SECONDS.M<usec>P<pid>Q<n>.HOST` (the qmail/Dovecot form). */
export function uniqueKey(now = Date.now(), hrUsec = Number(process.hrtime.bigint() / 1000n) % 1_000_000): string {
  deliveries++;
  const sec = Math.floor(now / 1000);
  const usec = ((now % 1000) * 1000 + (hrUsec % 1000)) % 1_000_000;
  return `${sec}.M${usec}P${process.pid}Q${deliveries}.${maildirHost()}`;
}

/** Validates Maildir flags and returns them sorted (`"SF"` → `"FS"`). */
export function normalizeFlags(flags: string): string {
  if (!/^[A-Za-z]*$/.test(flags)) throw new UsageError(`invalid flags ${JSON.stringify(flags)}: use Maildir flag letters (D F P R S T, a-z keywords)`);
  return sortFlags(flags);
}

/**
 * Streams `input` into `file` (created exclusively; 0600 in a private tree, see
 * src/repo/perms.ts), dropping a leading mbox `From ` envelope line as dovecot-lda and
 * maildrop do, and fsyncs it. Returns the size.
 */
async function writeMessage(input: Readable, file: string): Promise<number> {
  const fh = await open(file, 'wx', MAIL_FILE_MODE);
  let size = 0;
  try {
    let head: Buffer | null = Buffer.alloc(0); // bytes held back until the first line is known
    for await (const chunk of input) {
      let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      if (head !== null) {
        head = Buffer.concat([head, buf]);
        const nl = head.indexOf(0x0a);
        if (nl < 0 && head.length < 5) continue;
        if (head.subarray(0, 5).toString('latin1') === 'From ') {
          if (nl < 0) continue; // the envelope line goes on
          buf = head.subarray(nl + 1);
        } else buf = head;
        head = null;
      }
      if (buf.length > 0) {
        await fh.write(buf);
        size += buf.length;
      }
    }
    if (head !== null && head.length > 0 && head.subarray(0, 5).toString('latin1') !== 'From ') {
      await fh.write(head);
      size += head.length;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return size;
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Where a delivery goes: the folder's directory (repo-relative and absolute) and its flags. */
interface Target {
  dir: string;
  abs: string;
  /** Sorted flags (the message goes to `cur/`), or null (`new/`). */
  flags: string | null;
}

/** Checks the folder name and flags and makes the folder's `cur/ new/ tmp/` (phase 0). */
async function prepareTarget(repo: Repo, opts: DeliverOptions): Promise<Target> {
  const folder = opts.folder ?? 'INBOX';
  const problem = folderNameProblem(repo.layout, folder);
  if (problem) throw new UsageError(`invalid folder name ${JSON.stringify(folder)}: ${problem}`);
  const flags = opts.flags === undefined ? null : normalizeFlags(opts.flags);
  const dir = folderDir(repo.layout, folder);
  const abs = join(repo.root, dir);
  const created = !(await isDir(join(abs, 'cur'))) || !(await isDir(join(abs, 'new')));
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(abs, sub), { recursive: true, mode: MAIL_DIR_MODE });
  if (created) await fsyncDir(abs).catch(() => undefined);
  return { dir, abs, flags };
}

/** A message written to the folder's `tmp/` and fsynced (step 1). */
interface Received {
  tmp: string;
  size: number;
}

/** Step 1: streams `input` into `tmp/`; nothing is left behind when it fails or is empty. */
async function receive(input: Readable, target: Target): Promise<Received> {
  const tmp = join(target.abs, 'tmp', uniqueKey());
  let size: number;
  try {
    size = await writeMessage(input, tmp);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  if (size === 0) {
    await unlink(tmp).catch(() => undefined);
    throw new EmptyMessageError();
  }
  return { tmp, size };
}

/** True for the errors of a file system without hard links (some FUSE and USB ones). */
function noHardLinks(code: string | undefined): boolean {
  return code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EOPNOTSUPP';
}

/**
 * Step 3, first half: links the message into `new/` (or `cur/` with its flags) under a
 * fresh unique name, never replacing a message, and drops the tmp name; returns the
 * repo-relative path. The directories are not fsynced yet.
 */
async function linkIntoPlace(target: Target, received: Received): Promise<string> {
  const sub = target.flags === null ? 'new' : 'cur';
  for (let attempt = 0; attempt < 10; attempt++) {
    const key = attempt === 0 ? basename(received.tmp) : uniqueKey();
    const name = target.flags === null ? key : key + infoOfFlags(target.flags);
    const path = join(target.abs, sub, name);
    let linked = true;
    try {
      await link(received.tmp, path); // never replaces an existing message (rename would)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && attempt < 5) continue;
      if (!noHardLinks(code)) throw e;
      // No hard links here: rename, after checking that the name is free.
      if (await exists(path)) continue;
      await rename(received.tmp, path);
      linked = false;
    }
    if (linked) await unlink(received.tmp);
    return `${target.dir === '' ? '' : `${target.dir}/`}${sub}/${name}`;
  }
  throw new IoError(`cannot find a free message name in ${join(target.abs, sub)}`, 'ENAME');
}

/** The result of a delivery that a client sees but that no commit recorded (`why` failed). */
function notRecorded(path: string, size: number, why: unknown): DeliverResult {
  return { path, size, record: null, warning: `delivered but not recorded (${(why as Error).message}); the next commit records it` };
}

/**
 * Delivers one message read from `input` into the repo; see the module comment. Throws
 * {@link EmptyMessageError} (65) for empty input and LockedError (75) when the lock stays
 * held, in both cases with nothing delivered.
 */
export async function deliver(repo: Repo, input: Readable, opts: DeliverOptions = {}): Promise<DeliverResult> {
  const target = await prepareTarget(repo, opts);
  const received = await receive(input, target);
  let delivered: string | null = null;
  try {
    return await withRepoLock(repo, { what: 'deliver', waitMs: opts.lockWaitMs ?? LOCK_WAIT_MS.delivery }, async (locked) => {
      const path = await linkIntoPlace(target, received);
      delivered = path;
      await fsyncDir(join(target.abs, target.flags === null ? 'new' : 'cur'));
      await fsyncDir(join(target.abs, 'tmp')).catch(() => undefined);
      try {
        return { path, size: received.size, record: await record(locked, { message: opts.message }) };
      } catch (e) {
        return notRecorded(path, received.size, e);
      }
    });
  } catch (e) {
    if (delivered === null) {
      await unlink(received.tmp).catch(() => undefined);
      throw e;
    }
    return notRecorded(delivered, received.size, e);
  }
}
