/**
 * The command table: every verb's name, description, arguments and options, and a loader
 * for its handler (one file per verb).
 *
 * This module is loaded on every start, so it holds data only: a verb's implementation and
 * the modules it needs are imported when that verb runs, never here.
 */
import { LAYOUTS } from '../maildir/layout.js';

/** One option of a verb, or a global one. Its name in the table is the `--long-name`. */
export interface OptionSpec {
  /** A `number` is given as text and checked: anything but a finite number is a usage error. */
  type: 'string' | 'boolean' | 'number';
  /** One-letter alias (`-m`). */
  short?: string;
  /**
   * A list: the option takes every following word up to the next option, and may be
   * repeated (`--exclude Junk Trash --exclude Spam`).
   */
  array?: boolean;
  /** For a list: may be given without values (`watch --sync`, meaning every remote). */
  allowEmpty?: boolean;
  /** Must be given. */
  required?: boolean;
  /** Value when the option is not given. */
  default?: string | boolean | number;
  /** The only values accepted. */
  choices?: readonly string[];
  /** Placeholder for the value in help (default: the option name in capitals). */
  arg?: string;
  /** One line for help. */
  description: string;
}

/** One positional argument of a verb. */
export interface PositionalSpec {
  name: string;
  required?: boolean;
  /** Takes all remaining words (only the last positional). */
  variadic?: boolean;
  description?: string;
}

/**
 * A verb's handler. It gets the parsed arguments with camelCase names (`--dry-run` is
 * `dryRun`) and the global options; its own argument type is checked by the verb file.
 */
export type Handler = (argv: never) => Promise<void>;

/** One verb: either it runs (`load`), or it groups sub-verbs (`verbs`). */
export interface VerbSpec {
  name: string;
  /** One line for help. */
  description: string;
  positionals?: PositionalSpec[];
  options?: Record<string, OptionSpec>;
  /** Imports the verb's file and returns its handler. */
  load?: () => Promise<Handler>;
  verbs?: VerbSpec[];
}

/** Options every verb accepts, before or after the verb. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  C: { type: 'string', short: 'C', arg: 'DIR', description: 'run as if started in DIR' },
  verbose: { type: 'boolean', short: 'v', description: 'say more' },
  json: { type: 'boolean', description: 'machine-readable output' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
  version: { type: 'boolean', description: 'show the version number' },
};

const ACCOUNT_NAME: PositionalSpec = { name: 'name', required: true, description: 'account name (letters, digits, - and _)' };

/** An `account` verb that sets, prints or (`--clear`) forgets one of this machine's secret commands. */
function secretCommandVerb(name: string, what: string, handler: 'passwordCommand' | 'tokenCommand' | 'refreshTokenCommand' | 'clientSecretCommand'): VerbSpec {
  return {
    name,
    description: `set (or --clear) this machine's ${what} command for an account`,
    positionals: [ACCOUNT_NAME, { name: 'command', description: 'command line, split like a shell does but run without one' }],
    options: {
      clear: { type: 'boolean', description: 'forget the command' },
    },
    load: async () => (await import('./account.js'))[handler],
  };
}

/** Every verb mailgit has, in the order help lists them. */
export const COMMANDS: VerbSpec[] = [
  {
    name: 'init',
    description: 'create a mail repo, or adopt the Maildir tree in DIR',
    positionals: [{ name: 'dir', description: 'directory (default: current)' }],
    options: {
      name: { type: 'string', description: 'replica name of this machine (default: host name)' },
      layout: { type: 'string', choices: LAYOUTS, description: 'folder layout (detected when adopting)' },
    },
    load: async () => (await import('./init.js')).handler,
  },
  {
    name: 'clone',
    description: 'make a new replica from a git URL or path',
    positionals: [
      { name: 'src', required: true, description: 'git URL or path' },
      { name: 'dir', description: 'directory (default: from SRC)' },
    ],
    options: {
      name: { type: 'string', description: 'replica name of this machine (default: host name)' },
    },
    load: async () => (await import('./clone.js')).handler,
  },
  {
    name: 'commit',
    description: 'record what the mail client changed since the last commit',
    options: {
      message: { type: 'string', short: 'm', description: 'subject line of the commit' },
    },
    load: async () => (await import('./commit.js')).handler,
  },
  {
    name: 'status',
    description: 'show what commit would record, and how the remotes stand',
    load: async () => (await import('./status.js')).handler,
  },
  {
    name: 'log',
    description: 'show history: what happened, where and when',
    options: {
      folder: { type: 'string', description: 'only what happened in this folder' },
      message: { type: 'string', arg: 'KEY', description: "one message's whole story (its Maildir key)" },
      n: { type: 'number', short: 'n', arg: 'N', description: 'at most N entries' },
      deleted: { type: 'boolean', description: 'deleted messages: subject, sender, when, where and by which replica' },
      since: { type: 'string', arg: 'T', description: 'with --deleted: from time T (date, "2 days ago" or commit)' },
      until: { type: 'string', arg: 'T', description: 'with --deleted: up to time T' },
    },
    load: async () => (await import('./log.js')).handler,
  },
  {
    name: 'show',
    description: 'show one message as it was (headers and text; --raw for the bytes)',
    positionals: [{ name: 'message', required: true, description: 'key, file name, path or Message-ID' }],
    options: {
      at: { type: 'string', arg: 'T', description: 'as it was at T (date, "2 days ago" or commit)' },
      raw: { type: 'boolean', description: 'the stored bytes as they are' },
    },
    load: async () => (await import('./show.js')).handler,
  },
  {
    name: 'restore',
    description: 'bring deleted messages back, with their flags and folder (a new commit)',
    positionals: [{ name: 'messages', variadic: true, description: 'keys, file names, paths or Message-IDs' }],
    options: {
      at: { type: 'string', arg: 'T', description: 'as they were at T (default: just before they were deleted)' },
      folder: { type: 'string', arg: 'F', description: 'restore folder F as of --as-of (keeps what arrived since)' },
      'as-of': { type: 'string', arg: 'T', description: 'with --folder: the time (date, "2 days ago" or commit)' },
      'dry-run': { type: 'boolean', short: 'n', description: 'list what would come back; change nothing' },
      progress: { type: 'boolean', description: 'progress bar (default: when stderr is a terminal)' },
    },
    load: async () => (await import('./restore.js')).handler,
  },
  {
    name: 'undo',
    description: 'revert what one recorded commit did (a mass deletion, a fetch), as a new commit',
    positionals: [{ name: 'commit', required: true, description: 'the commit to undo (from mailgit log)' }],
    load: async () => (await import('./undo.js')).handler,
  },
  {
    name: 'check',
    description: 'compare every file with HEAD, the journal, lock and objects; exit 65 while anything is wrong',
    options: {
      repair: { type: 'boolean', description: 'record or restore until HEAD and the Maildir agree, reporting each action' },
      remote: { type: 'string', arg: 'R', description: 'instead: whether this replica and remote R hold the same mail, and what differs' },
    },
    load: async () => (await import('./check.js')).handler,
  },
  {
    name: 'sync',
    description: 'record local changes, then fetch, merge, apply and push with each remote',
    positionals: [{ name: 'remotes', variadic: true, description: 'git remotes (default: all)' }],
    options: {
      'dry-run': { type: 'boolean', short: 'n', description: 'show what would come in and go out; change nothing' },
      'allow-unrelated': { type: 'boolean', description: 'merge a remote whose history shares no commit with ours (another mailbox)' },
      'allow-rewound': { type: 'boolean', description: 'accept a remote whose main went back or was replaced since the last sync, and push over it' },
    },
    load: async () => (await import('./sync.js')).handler,
  },
  {
    name: 'fetch',
    description: 'download new mail from IMAP accounts into the repo',
    positionals: [{ name: 'accounts', variadic: true, description: 'accounts to fetch (default: all)' }],
    options: {
      folder: { type: 'string', array: true, description: 'only this folder (remote or local name; patterns allowed); repeatable' },
      'newest-first': { type: 'boolean', description: 'download the newest messages of each folder first' },
      'max-size': { type: 'string', arg: 'SIZE', description: 'skip messages larger than this (e.g. 10M)' },
      rescan: { type: 'boolean', description: 're-read whole folders, ignoring the checkpoint (never duplicates)' },
      'password-command': { type: 'string', arg: 'CMD', description: 'password command for this run (one account)' },
      'token-command': { type: 'string', arg: 'CMD', description: 'OAuth 2 access token command for this run (one account)' },
      'accept-vanished': { type: 'boolean', description: 'two-way: a mass disappearance on the server is real; delete it here too' },
      batch: { type: 'number', arg: 'N', description: 'messages per download chunk and commit (default 200)' },
      progress: { type: 'boolean', description: 'progress bar (default: when stderr is a terminal)' },
    },
    load: async () => (await import('./fetch.js')).handler,
  },
  {
    name: 'account',
    description: 'manage IMAP accounts for fetch',
    verbs: [
      {
        name: 'add',
        description: 'define an IMAP account (synced; the password is not stored)',
        positionals: [ACCOUNT_NAME],
        options: {
          host: { type: 'string', required: true, description: 'IMAP server' },
          port: { type: 'number', description: 'port (default 993 with TLS, 143 otherwise)' },
          tls: { type: 'boolean', default: true, description: 'implicit TLS (default); --no-tls for plaintext (loopback/testing only)' },
          starttls: { type: 'boolean', description: 'STARTTLS on port 143' },
          insecure: { type: 'boolean', description: 'do not verify the server certificate (self-signed servers)' },
          user: { type: 'string', required: true, description: 'login name' },
          'password-command': { type: 'string', arg: 'CMD', description: 'command printing the password (this machine only; run without a shell)' },
          folders: { type: 'string', array: true, arg: 'PAT', description: 'folders to fetch (patterns: * any, % one level, ?)' },
          exclude: { type: 'string', array: true, arg: 'PAT', description: 'folders not to fetch (patterns)' },
          map: { type: 'string', array: true, arg: 'REMOTE=LOCAL', description: 'folder name mapping; repeatable' },
          sync: { type: 'string', arg: 'both|pull', description: "both (default): send the repo's changes to the server too; pull: only download" },
          expunge: { type: 'boolean', description: 'two-way: expunge what the repo deleted (default: mark it \\Deleted)' },
          auth: { type: 'string', arg: 'password|oauth2', description: 'login: password (default) or oauth2 (XOAUTH2/OAUTHBEARER)' },
          'token-command': { type: 'string', arg: 'CMD', description: 'oauth2: command printing an access token (this machine only; run without a shell)' },
          'oauth-token-url': { type: 'string', arg: 'URL', description: 'oauth2: token endpoint; mailgit refreshes the access token itself' },
          'oauth-client-id': { type: 'string', arg: 'ID', description: 'oauth2: the client id registered with the provider' },
          'oauth-client-secret-command': {
            type: 'string',
            arg: 'CMD',
            description: 'oauth2: command printing the client secret, if the provider wants one (this machine only)',
          },
          'oauth-device-url': { type: 'string', arg: 'URL', description: 'oauth2: device authorization endpoint, for "account login"' },
          'oauth-scope': { type: 'string', arg: 'SCOPES', description: 'oauth2: scopes asked for at login (space-separated)' },
          'refresh-token-command': { type: 'string', arg: 'CMD', description: 'oauth2: command printing the refresh token (this machine only)' },
          'offlineimap-status': { type: 'string', arg: 'DIR', description: "moving from offlineimap: its account's LocalStatus directory (plain backend)" },
          'offlineimap-validity': { type: 'string', arg: 'DIR', description: "moving from offlineimap: its remote repository's FolderValidity directory" },
          force: { type: 'boolean', description: 'replace an existing definition' },
        },
        load: async () => (await import('./account.js')).add,
      },
      {
        name: 'list',
        description: 'list the defined accounts',
        load: async () => (await import('./account.js')).list,
      },
      {
        name: 'remove',
        description: 'remove an account definition and its checkpoint (mail stays)',
        positionals: [ACCOUNT_NAME],
        load: async () => (await import('./account.js')).remove,
      },
      secretCommandVerb('password-command', 'password', 'passwordCommand'),
      {
        name: 'trust',
        description: "trust the account's current server settings on this machine (after a change made on another replica)",
        positionals: [ACCOUNT_NAME],
        load: async () => (await import('./account.js')).trust,
      },
      secretCommandVerb('token-command', 'OAuth 2 access token', 'tokenCommand'),
      secretCommandVerb('refresh-token-command', 'OAuth 2 refresh token', 'refreshTokenCommand'),
      secretCommandVerb('client-secret-command', 'OAuth 2 client secret', 'clientSecretCommand'),
      {
        name: 'login',
        description: 'get an OAuth 2 refresh token by device login; prints it on stdout for your secret store',
        positionals: [ACCOUNT_NAME],
        load: async () => (await import('./account.js')).login,
      },
    ],
  },
  {
    name: 'demo',
    description: 'run the built-in story: two replicas, mail, changes on both, sync, history',
    options: {
      keep: { type: 'boolean', description: 'keep the demo directory' },
    },
    load: async () => (await import('./demo.js')).handler,
  },
  {
    name: 'watch',
    description: 'record what mail clients change as it happens (one commit per burst); optionally sync',
    options: {
      sync: {
        type: 'string',
        array: true,
        allowEmpty: true,
        arg: 'REMOTE',
        description: 'sync with these remotes after commits and every interval (no names: all remotes)',
      },
      interval: { type: 'number', default: 300, arg: 'S', description: 'seconds between full checks (and syncs with --sync)' },
      debounce: { type: 'number', default: 300, arg: 'MS', description: 'milliseconds of quiet that end a burst of changes' },
    },
    load: async () => (await import('./watch.js')).handler,
  },
  {
    name: 'deliver',
    description: 'deliver one message from stdin into a folder and commit it (an MDA for postfix, procmail, fdm)',
    options: {
      folder: { type: 'string', short: 'f', description: 'folder to deliver to (default INBOX; created if missing)' },
      flags: { type: 'string', description: 'Maildir flags, e.g. S: deliver into cur/ as already read' },
      wait: { type: 'number', default: 30, arg: 'S', description: 'seconds to wait for the repo lock before exit 75' },
      message: { type: 'string', short: 'm', description: 'commit subject line' },
    },
    load: async () => (await import('./deliver.js')).handler,
  },
];
