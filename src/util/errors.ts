/**
 * Typed errors with a stable `code` and a sysexits(3) exit status.
 *
 * Every failure a person can cause or meet (bad input, a dead server, a held lock) is
 * thrown as a {@link MailgitError}; the CLI prints its message on one line and exits with
 * its `exitCode`. Anything else is a bug and is reported as such (exit 70).
 */

/** sysexits(3) codes used by mailgit. */
export const EX = {
  OK: 0,
  USAGE: 64,
  DATAERR: 65,
  NOINPUT: 66,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  CANTCREAT: 73,
  IOERR: 74,
  TEMPFAIL: 75,
  PROTOCOL: 76,
  NOPERM: 77,
  CONFIG: 78,
} as const;

/**
 * A {@link MailgitError} as a value: what a report (`sync --json`, `fetch --json`) carries
 * for a failure, and what {@link MailgitError.fromJSON} turns back into the error.
 */
export interface MailgitErrorJSON {
  message: string;
  code: string;
  exitCode: number;
}

/** The base class: a message for a person, a stable code for scripts, an exit status. */
export class MailgitError extends Error {
  /** Creates an error with a stable `code` (e.g. `ENOTREPO`) and a sysexits status. */
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'MailgitError';
  }

  /** The error as a plain value (message, code, exit status), as reports carry it. */
  toJSON(): MailgitErrorJSON {
    return { message: this.message, code: this.code, exitCode: this.exitCode };
  }

  /**
   * The error that {@link MailgitError.toJSON} gave `json`: of the subclass its code names
   * when that subclass is made from a message alone and gives the same exit status, else a
   * MailgitError with the same message, code and exit status.
   */
  static fromJSON(json: MailgitErrorJSON): MailgitError {
    const made = BY_CODE[json.code]?.(json.message);
    return made && made.exitCode === json.exitCode ? made : new MailgitError(json.message, json.code, json.exitCode);
  }
}

/** The directory is not a mail repo (or does not exist). */
export class NotARepoError extends MailgitError {
  /** Creates the error for `dir`. */
  constructor(dir: string) {
    super(`not a mail repo (or any parent up to /): ${dir}`, 'ENOTREPO', EX.NOINPUT);
  }
}

/** Bad command-line usage. */
export class UsageError extends MailgitError {
  /** Creates a usage error with the given explanation. */
  constructor(message: string) {
    super(message, 'EUSAGE', EX.USAGE);
  }
}

/** Another mailgit process holds the repo lock. */
export class LockedError extends MailgitError {
  /** Creates the error naming the holder's pid and what it is doing. */
  constructor(pid: number, what: string) {
    super(`repo is locked by another mailgit (pid ${pid}, ${what}); try again later`, 'ELOCKED', EX.TEMPFAIL);
  }
}

/** Data from a remote or a file that mailgit refuses to accept. */
export class UnsafeDataError extends MailgitError {
  /** Creates the error with a description of what was refused. */
  constructor(message: string) {
    super(message, 'EUNSAFE', EX.DATAERR);
  }
}

/** A remote or server could not be reached. */
export class UnavailableError extends MailgitError {
  /** Creates the error with a description of what could not be reached. */
  constructor(message: string) {
    super(message, 'EUNAVAILABLE', EX.UNAVAILABLE);
  }
}

/** Authentication failed or permission denied. */
export class PermissionError extends MailgitError {
  /** Creates the error with a description (never including a secret). */
  constructor(message: string) {
    super(message, 'ENOPERM', EX.NOPERM);
  }
}

/** A file could not be read or written (disk full, unreadable file). */
export class IoError extends MailgitError {
  /** Creates the error; `code` is the underlying errno name where known. */
  constructor(message: string, code = 'EIO') {
    super(message, code, EX.IOERR);
  }
}

/**
 * Something moved under mailgit while it worked (the branch, a remote, an earlier apply):
 * nothing was changed, and running the command again is the remedy (exit 75).
 */
export class RaceError extends MailgitError {
  /** Creates the error with a description of what moved and what was left undone. */
  constructor(message: string) {
    super(message, 'ERACE', EX.TEMPFAIL);
  }
}

/** The subclasses that a message alone makes, by code, for {@link MailgitError.fromJSON}. */
const BY_CODE: Record<string, (message: string) => MailgitError> = {
  EUSAGE: (m) => new UsageError(m),
  EUNSAFE: (m) => new UnsafeDataError(m),
  EUNAVAILABLE: (m) => new UnavailableError(m),
  ENOPERM: (m) => new PermissionError(m),
  ERACE: (m) => new RaceError(m),
};

/**
 * Ends a command that did all it could but met failures (one per remote or account):
 * every failure after the first gets a line on stderr, and the first is thrown, so that
 * it gives the exit status. Returns when there is none.
 */
export function throwFirstFailure(failures: readonly MailgitErrorJSON[]): void {
  if (failures.length === 0) return;
  for (const f of failures.slice(1)) process.stderr.write(`mailgit: ${f.message}\n`);
  throw MailgitError.fromJSON(failures[0]!);
}

/**
 * What a system error means to a person and to a script: the one errno → exit-status table
 * (disk full and i/o errors 74, permission 77, a read-only file system 73, a name the file
 * system cannot hold 65). An errno not listed is a bug's (70).
 */
const ERRNO_MEANING: Record<string, { what: string; exit: number }> = {
  ENOSPC: { what: 'disk full', exit: EX.IOERR },
  EDQUOT: { what: 'i/o error', exit: EX.IOERR },
  EIO: { what: 'i/o error', exit: EX.IOERR },
  EACCES: { what: 'permission denied', exit: EX.NOPERM },
  EPERM: { what: 'permission denied', exit: EX.NOPERM },
  EROFS: { what: 'read-only file system', exit: EX.CANTCREAT },
  ENAMETOOLONG: { what: 'name too long', exit: EX.DATAERR },
};

/** Returns the stable code of a failure: a {@link MailgitError}'s own, else its errno name, else `""`. */
export function errnoOf(e: unknown): string {
  return e instanceof MailgitError ? e.code : ((e as NodeJS.ErrnoException | null)?.code ?? '');
}

/**
 * Returns what a system error (an errno the table knows) means — a few words for a person
 * and its exit status — or undefined for a {@link MailgitError} or any other failure.
 */
export function errnoMeaning(e: unknown): { what: string; exit: number } | undefined {
  if (e instanceof MailgitError) return undefined;
  const code = errnoOf(e);
  return Object.hasOwn(ERRNO_MEANING, code) ? ERRNO_MEANING[code] : undefined;
}

/** Returns the exit status of a failure: a {@link MailgitError}'s own, else by errno, else 70. */
export function exitOf(e: unknown): number {
  return e instanceof MailgitError ? e.exitCode : (errnoMeaning(e)?.exit ?? EX.SOFTWARE);
}

/** Returns the message of a failure, whatever was thrown. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
