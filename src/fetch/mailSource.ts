/**
 * The small interface through which `mailgit fetch` reads a mail server: exactly what the
 * fetch engine needs, nothing more. One implementation speaks IMAP through imapflow
 * (`imapSource.ts`); one keeps folders in memory (`test/doubles/memorySource.ts`) for fast tests of the
 * fetch logic, including failures. Both pass the same contract test
 * (`test/unit/mailSource.contract.test.ts`, the IMAP one against Dovecot).
 *
 * Conventions shared by every implementation:
 *  - a folder is opened read-only unless `open(path, { write: true })` (two-way accounts):
 *    only then may the write methods (`storeFlags`, `expunge`, `move`, `append`) be called;
 *  - UIDVALIDITY and MODSEQ values are decimal strings (they are 64-bit on the wire and
 *    the checkpoint keeps them as strings); UIDs and sizes are numbers;
 *  - flags are the server's flag names, sorted, without the session-specific `\Recent`;
 *  - every failure that is the server's or the network's is a {@link MailSourceError}
 *    with a {@link MailSourceErrorKind}; the caller turns it into a user-facing error.
 */
import type { Readable } from 'node:stream';

/** STATUS of a folder (as answered by LIST-STATUS, when the server has it). */
export interface FolderStatus {
  messages: number;
  uidNext: number;
  uidValidity: string;
  /** Present when the server has CONDSTORE. */
  highestModseq?: string;
}

/** One folder as listed. */
export interface SourceFolder {
  /** The full path, decoded (modified UTF-7 → Unicode). */
  path: string;
  /** The hierarchy delimiter (`null`: flat). */
  delimiter: string | null;
  /** LIST attributes as sent (`\Noselect`, `\HasChildren`, …), sorted. */
  flags: string[];
  /** Special use announced by the server (`\Sent`, `\Trash`, …), never guessed from the name. */
  specialUse?: string;
  /** STATUS, for a selectable folder when the server can answer it in the LIST. */
  status?: FolderStatus;
}

/** A folder after {@link MailSource.open}. */
export interface OpenedFolder {
  uidValidity: string;
  uidNext: number;
  /** Number of messages. */
  exists: number;
  /** Whether the folder has MODSEQs (CONDSTORE): then `highestModseq` is set. */
  condstore: boolean;
  highestModseq?: string;
}

/** What fetch needs to know about a message before downloading it. */
export interface MessageMeta {
  uid: number;
  /** RFC822.SIZE in bytes. */
  size: number;
  /** Sorted, without `\Recent`. */
  flags: string[];
  /** INTERNALDATE (whole seconds); `undefined` if the server did not give one. */
  internalDate?: Date;
}

/** What {@link MailSource.changedSince} found. */
export interface ChangedSince {
  /** Messages whose flags changed, ascending by UID. */
  changed: MessageMeta[];
  /**
   * UIDs expunged since (QRESYNC's VANISHED; it may also name UIDs that never existed),
   * or `null` when the server cannot say (no QRESYNC): then compare UID sets.
   */
  vanished: number[] | null;
}

/** A downloaded message held in memory. */
export interface DownloadedMessage {
  uid: number;
  content: Buffer;
}

/** A message's UID and flags (a flag scan). */
export interface UidFlags {
  uid: number;
  /** Sorted, without `\Recent`. */
  flags: string[];
}

/** The server's answer to a STORE for one message it changed: its flags now and (CONDSTORE) its new MODSEQ. */
export interface StoredFlags extends UidFlags {
  modseq?: string;
}

/** What `append` learned (APPENDUID, when the server has UIDPLUS). */
export interface Appended {
  uid?: number;
  uidValidity?: string;
}

/** The kinds of failure a source reports. */
export type MailSourceErrorKind =
  /** Login refused: wrong user or password. */
  | 'auth'
  /** The server cannot be reached (refused, DNS, timeout before the greeting). */
  | 'unreachable'
  /** TLS failed (certificate not trusted, handshake). */
  | 'tls'
  /** The connection went away after login. */
  | 'lost'
  /** The server answered NO/BAD to a command. */
  | 'server'
  /** A method was called while {@link MailSource.downloadMany} was being iterated. */
  | 'busy';

/** A failure of the server, the network, or of the source's usage rules. */
export class MailSourceError extends Error {
  /** Creates an error of `kind`; `detail` is for a person (never contains a secret). */
  constructor(
    readonly kind: MailSourceErrorKind,
    readonly detail: string,
  ) {
    super(`${kind}: ${detail}`);
    this.name = 'MailSourceError';
  }
}

/**
 * A mail server, one connection. Methods are called one at a time (each awaited before
 * the next); {@link downloadMany} must be iterated to its end (or abandoned) before any
 * other method is called — a call made meanwhile rejects with kind `busy`.
 */
export interface MailSource {
  /** Connects and logs in. Rejects with kind `auth`, `unreachable` or `tls`. */
  connect(): Promise<void>;
  /** Logs out (or just closes a broken connection). Never rejects; idempotent. */
  close(): Promise<void>;
  /** Every folder, with STATUS where the server can give it in the same round trip. */
  list(): Promise<SourceFolder[]>;
  /** Opens a folder (read-only unless `write`); later message calls refer to it. */
  open(path: string, opts?: { write?: boolean }): Promise<OpenedFolder>;
  /** Messages of the open folder with a UID greater than `uid`, ascending by UID. */
  messagesAfter(uid: number): Promise<MessageMeta[]>;
  /**
   * Messages of the open folder with a UID up to `maxUid` whose flags changed after
   * MODSEQ `modseq` (CONDSTORE), ascending by UID; with QRESYNC, in the same round trip,
   * the UIDs up to `maxUid` expunged since (VANISHED).
   */
  changedSince(modseq: string, maxUid: number): Promise<ChangedSince>;
  /** The flags of every message of the open folder with a UID up to `maxUid` (`UID FETCH 1:n (FLAGS)`). */
  flagsUpTo(maxUid: number): Promise<UidFlags[]>;
  /** What fetch needs to know about these UIDs of the open folder (gone ones are left out), ascending. */
  metasOf(uids: number[]): Promise<MessageMeta[]>;
  /** Every UID of the open folder, ascending (`UID SEARCH ALL`). */
  uids(): Promise<number[]>;
  /** UIDs of the open folder whose Message-ID header contains `messageId`. */
  searchMessageId(messageId: string): Promise<number[]>;
  /**
   * Adds or removes `flags` on `uids` of the open folder (opened with `write`). Resolves to
   * the server's answer for each message it changed (ascending by UID).
   */
  storeFlags(uids: number[], flags: string[], how: 'add' | 'remove'): Promise<StoredFlags[]>;
  /** Marks `uids` `\Deleted` and expunges exactly them (UID EXPUNGE). */
  expunge(uids: number[]): Promise<void>;
  /** Moves `uids` to folder `dest` (MOVE, or COPY + `\Deleted` + expunge); returns old UID → new UID where known. */
  move(uids: number[], dest: string): Promise<Map<number, number>>;
  /** APPENDs a message to folder `path` with `flags` and INTERNALDATE `date`. */
  append(path: string, content: Buffer, flags: string[], date: Date): Promise<Appended>;
  /** Streams one message's raw bytes (exactly as stored, CRLF kept); `null` if it is gone. */
  download(uid: number): Promise<Readable | null>;
  /**
   * Downloads several (small) messages in one round trip, yielding each as it arrives,
   * ascending by UID; UIDs that are gone are skipped. See the interface note on `busy`.
   */
  downloadMany(uids: number[]): AsyncIterable<DownloadedMessage>;
}
