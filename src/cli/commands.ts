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
  /** For a number: the smallest and largest accepted. */
  min?: number;
  max?: number;
  /** For a number: only whole numbers. */
  integer?: boolean;
  /** Options (by name) that cannot be given together with this one. */
  conflicts?: string[];
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
  /** Command lines a person would type, each with what it does. */
  examples?: [string, string][];
  /**
   * Exit statuses besides 0 and 64 (every verb has those): a code, or a code with what it
   * means for this verb when {@link EXIT_STATUSES} says it too generally.
   */
  exits?: (number | [number, string])[];
  /** Imports the verb's file and returns its handler. */
  load?: () => Promise<Handler>;
  verbs?: VerbSpec[];
}

/** What each exit status means (sysexits(3)); help, the man page and README list them. */
export const EXIT_STATUSES: [number, string][] = [
  [0, 'success'],
  [64, 'usage error: an unknown command or option, a missing or bad argument'],
  [65, 'bad or unsafe data: a damaged, rewound or unrelated remote, a check that found problems'],
  [66, 'no input: not a mail repo, no such directory, message or folder'],
  [69, 'unavailable: a remote or IMAP server cannot be reached, TLS failed, an unknown ssh host key'],
  [70, 'internal error: a bug in mailgit (MAILGIT_DEBUG=1 shows where)'],
  [73, 'cannot create: the target exists or is not empty, a read-only file system'],
  [74, 'I/O error: disk full, a read or write failed'],
  [75, 'temporary failure: the repo is locked by another mailgit, or a lock on a remote; try again'],
  [76, 'protocol: the IMAP server answered a command with an error'],
  [77, 'permission denied: a wrong password, a file or repo owned by another user'],
  [78, 'configuration: no accounts or remotes, a missing password command, an untrusted server change'],
];

/** Exit statuses every command that opens a repo can return. */
const REPO: number[] = [66, 74, 75, 77];

/** Options every verb accepts, before or after the verb. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  C: { type: 'string', short: 'C', arg: 'DIR', description: 'run as if started in DIR' },
  verbose: { type: 'boolean', short: 'v', description: 'say more' },
  json: { type: 'boolean', description: 'machine-readable output' },
  progress: { type: 'boolean', description: 'progress bars on stderr (default: when stderr is a terminal); --no-progress: none' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
  version: { type: 'boolean', description: 'show the version number' },
};

const REMOTE_NAME: PositionalSpec = { name: 'name', required: true, description: 'remote name (letters, digits, ., - and _)' };

const ACCOUNT_NAME: PositionalSpec = { name: 'name', required: true, description: 'account name (letters, digits, - and _)' };

/** One secret command's `account` verb: its name, what the command prints, its handler in account.ts, an example. */
interface SecretCommandVerb {
  name: string;
  what: string;
  handler: 'passwordCommand' | 'tokenCommand' | 'refreshTokenCommand' | 'clientSecretCommand';
  example: [string, string];
}

/** An `account` verb that sets, prints or (`--clear`) forgets one of this machine's secret commands. */
function secretCommandVerb({ name, what, handler, example }: SecretCommandVerb): VerbSpec {
  return {
    name,
    description: `set (or --clear) this machine's ${what} command for an account`,
    positionals: [ACCOUNT_NAME, { name: 'command', description: 'command line, split like a shell does but run without one' }],
    options: {
      clear: { type: 'boolean', description: 'forget the command' },
    },
    examples: [example],
    exits: [[66, 'not a mail repo, or no such account'], 77],
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
    examples: [
      ['mailgit init ~/Maildir', 'adopt the Maildir tree mutt, mbsync or Dovecot already use'],
      ['mailgit init --name laptop ~/Mail', 'a new, empty mail repo named laptop'],
    ],
    exits: [[65, 'DIR is not empty and holds no Maildir'], [73, 'DIR is a file, a mail repo already, or a git repo of something else'], 74, 77],
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
    examples: [
      ['mailgit clone ssh://server/~/mail.git ~/Maildir', 'a replica of the hub on the server'],
      ['mailgit clone --name usb /media/usb/mail.git', 'a replica from a path'],
    ],
    exits: [[65, 'SRC is a git repo but not a mail repo'], [69, 'SRC cannot be reached (or its ssh host key is unknown)'], 73, 74, 77],
    load: async () => (await import('./clone.js')).handler,
  },
  {
    name: 'commit',
    description: 'record what the mail client changed since the last commit',
    options: {
      message: { type: 'string', short: 'm', arg: 'SUBJECT', description: 'subject line of the commit' },
    },
    examples: [
      ['mailgit commit', 'record, silently (cron); -v says what was recorded'],
      ['mailgit commit -m "after the big clean-up"', 'with a subject of your own'],
    ],
    exits: REPO,
    load: async () => (await import('./commit.js')).handler,
  },
  {
    name: 'status',
    description: 'show what commit would record, and how the remotes stand',
    examples: [
      ['mailgit status', 'what changed since the last commit, per folder'],
      ['mailgit status --json', 'the same for scripts'],
    ],
    exits: [66, 74, 77],
    load: async () => (await import('./status.js')).handler,
  },
  {
    name: 'log',
    description: 'show history: what happened, where and when',
    positionals: [{ name: 'messages', variadic: true, description: "each message's whole story: keys, file names, paths or Message-IDs" }],
    options: {
      message: { type: 'string', array: true, arg: 'MSG', description: 'the same as giving MSG as an argument; repeatable' },
      folder: { type: 'string', description: 'only what happened in this folder and its subfolders' },
      n: { type: 'number', short: 'n', arg: 'N', integer: true, min: 1, description: 'at most N entries' },
      deleted: { type: 'boolean', description: 'deleted messages: subject, sender, when, where and by which replica' },
      since: { type: 'string', arg: 'T', description: 'from time T (date, "2 days ago" or commit)' },
      until: { type: 'string', arg: 'T', description: 'up to time T' },
    },
    examples: [
      ['mailgit log -n 5', 'the last five commits, in words'],
      ['mailgit log --folder INBOX', 'what happened in INBOX'],
      ['mailgit log "<1234@example.org>"', "one message's story, by its Message-ID"],
      ['mailgit log 1700000001.M1P1.host 1700000002.M2P1.host', 'two stories, one after the other'],
      ['mailgit log --deleted --since "2 days ago"', 'what was deleted lately, and where'],
    ],
    exits: [[66, 'not a mail repo, or no such message'], 74],
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
    examples: [
      ['mailgit show "<1234@example.org>"', 'headers and text of a message, even a deleted one'],
      ['mailgit show --raw 1700000001.M1P1.host > msg.eml', 'its bytes'],
    ],
    exits: [[66, 'not a mail repo, or no such message'], 74],
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
    examples: [
      ['mailgit restore "<1234@example.org>"', 'a message deleted by mistake'],
      ['mailgit restore --folder INBOX --as-of "2026-12-01 09:00" -n', 'what refilling INBOX as it was would bring back'],
    ],
    exits: [[66, 'not a mail repo, or no such message'], ...REPO.slice(1)],
    load: async () => (await import('./restore.js')).handler,
  },
  {
    name: 'undo',
    description: 'revert what one recorded commit did (a mass deletion, a fetch), as a new commit',
    positionals: [{ name: 'commit', required: true, description: 'the commit to undo (from mailgit log)' }],
    examples: [['mailgit undo 3f2a9c1d', 'bring back what that commit deleted, remove what it added']],
    exits: [[65, 'the commit is not one mailgit recorded'], ...REPO],
    load: async () => (await import('./undo.js')).handler,
  },
  {
    name: 'check',
    description: 'compare every file with HEAD, the journal, lock and objects; exit 65 while anything is wrong',
    options: {
      repair: { type: 'boolean', conflicts: ['remote'], description: 'record or restore until HEAD and the Maildir agree, reporting each action' },
      remote: { type: 'string', arg: 'R', description: 'instead: whether this replica and remote R hold the same mail, and what differs' },
    },
    examples: [
      ['mailgit check', 'is everything recorded and intact?'],
      ['mailgit check --remote hub', 'does the hub hold the same mail?'],
    ],
    exits: [[65, 'something is wrong, or the remote holds different mail'], 69, ...REPO],
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
    examples: [
      ['mailgit sync', 'with every remote; silent under cron unless something needs a word'],
      ['mailgit sync -n hub', 'what would come in from the hub and go out to it'],
    ],
    exits: [[65, 'a remote is damaged, rewound or unrelated'], 69, 78, ...REPO],
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
      'password-command': { type: 'string', arg: 'CMD', conflicts: ['token-command'], description: 'password command for this run (one account)' },
      'token-command': { type: 'string', arg: 'CMD', description: 'OAuth 2 access token command for this run (one account)' },
      'accept-vanished': { type: 'boolean', description: 'two-way: a mass disappearance on the server is real; delete it here too' },
      batch: { type: 'number', arg: 'N', integer: true, min: 1, description: 'messages per download chunk and commit (default 200)' },
    },
    examples: [
      ['mailgit fetch', 'every account; silent under cron'],
      ['mailgit fetch work --folder INBOX --newest-first', "one account's INBOX, newest first"],
    ],
    exits: [[69, 'the server cannot be reached, TLS failed, the connection was lost'], 76, [77, 'wrong password'], 78, ...REPO],
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
          port: { type: 'number', integer: true, min: 1, max: 65535, description: 'port (default 993 with TLS, 143 otherwise)' },
          tls: { type: 'boolean', conflicts: ['starttls'], description: 'implicit TLS (the default); --no-tls for plaintext (loopback/testing only)' },
          starttls: { type: 'boolean', description: 'STARTTLS on port 143' },
          insecure: { type: 'boolean', description: 'do not verify the server certificate (self-signed servers)' },
          user: { type: 'string', required: true, description: 'login name' },
          'password-command': { type: 'string', arg: 'CMD', description: 'command printing the password (this machine only; run without a shell)' },
          folder: { type: 'string', array: true, arg: 'PAT', description: 'folders to fetch (patterns: * any, % one level, ?); repeatable' },
          exclude: { type: 'string', array: true, arg: 'PAT', description: 'folders not to fetch (patterns)' },
          idle: {
            type: 'string',
            array: true,
            arg: 'FOLDER',
            description: 'server without NOTIFY: remote folder watch --fetch keeps in IDLE besides INBOX (one connection each, at most 8); repeatable',
          },
          map: { type: 'string', array: true, arg: 'REMOTE=LOCAL', description: 'folder name mapping; repeatable' },
          sync: { type: 'string', choices: ['both', 'pull'], description: "both (default): send the repo's changes to the server too; pull: only download" },
          expunge: { type: 'boolean', description: 'two-way: expunge what the repo deleted (default: mark it \\Deleted)' },
          auth: { type: 'string', choices: ['password', 'oauth2'], description: 'login: password (default) or oauth2 (XOAUTH2/OAUTHBEARER)' },
          'token-command': {
            type: 'string',
            arg: 'CMD',
            conflicts: ['password-command'],
            description: 'oauth2: command printing an access token (this machine only; run without a shell)',
          },
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
        examples: [
          ['mailgit account add work --host imap.example.org --user me --password-command "pass show work"', 'an account on port 993'],
          ['mailgit account add lab --host 10.0.0.5 --starttls --folder INBOX "Lists/*"', 'STARTTLS, two folders'],
        ],
        exits: [[73, 'the account exists (--force replaces it)'], 78, ...REPO],
        load: async () => (await import('./account.js')).add,
      },
      {
        name: 'list',
        description: 'list the defined accounts',
        examples: [['mailgit account list --json', 'every account, and where its password comes from']],
        exits: [66],
        load: async () => (await import('./account.js')).list,
      },
      {
        name: 'remove',
        description: 'remove an account definition and its checkpoint (mail stays)',
        positionals: [ACCOUNT_NAME],
        examples: [['mailgit account remove old', 'fetch no longer downloads from it; its mail stays']],
        exits: [[66, 'not a mail repo, or no such account'], ...REPO.slice(1)],
        load: async () => (await import('./account.js')).remove,
      },
      secretCommandVerb({
        name: 'password-command',
        what: 'password',
        handler: 'passwordCommand',
        example: ['mailgit account password-command work "pass show mail/work"', 'this machine asks pass'],
      }),
      {
        name: 'trust',
        description: "trust the account's current server settings on this machine (after a change made on another replica)",
        positionals: [ACCOUNT_NAME],
        examples: [['mailgit account trust work', 'after checking the host another replica set']],
        exits: [[66, 'not a mail repo, or no such account'], 77],
        load: async () => (await import('./account.js')).trust,
      },
      secretCommandVerb({
        name: 'token-command',
        what: 'OAuth 2 access token',
        handler: 'tokenCommand',
        example: ['mailgit account token-command gmail "oauth2-helper gmail"', 'this machine gets tokens from a helper'],
      }),
      secretCommandVerb({
        name: 'refresh-token-command',
        what: 'OAuth 2 refresh token',
        handler: 'refreshTokenCommand',
        example: ['mailgit account refresh-token-command work "pass show mail/work-refresh"', 'mailgit refreshes with the token pass keeps'],
      }),
      secretCommandVerb({
        name: 'client-secret-command',
        what: 'OAuth 2 client secret',
        handler: 'clientSecretCommand',
        example: ['mailgit account client-secret-command gmail "pass show mail/gmail-client"', 'a provider that wants a client secret'],
      }),
      {
        name: 'login',
        description: 'get an OAuth 2 refresh token by device login; prints it on stdout for your secret store',
        positionals: [ACCOUNT_NAME],
        examples: [['mailgit account login work | pass insert -m mail/work-refresh', 'log in on a web page; the refresh token goes to pass']],
        exits: [[66, 'not a mail repo, or no such account'], [69, 'the provider cannot be reached'], [77, 'the login was refused or not finished in time'], 78],
        load: async () => (await import('./account.js')).login,
      },
    ],
  },
  {
    name: 'remote',
    description: 'manage the remotes sync talks to: hubs and peers',
    verbs: [
      {
        name: 'add',
        description: 'add a remote; --create makes a new hub there (a local path or ssh) holding this replica',
        positionals: [REMOTE_NAME, { name: 'url', required: true, description: 'path, ssh://[user@]host[:port]/path or [user@]host:path' }],
        options: {
          create: { type: 'boolean', description: 'create an empty bare hub at URL (HEAD main, owner-only) and push this replica to it' },
        },
        examples: [
          ['mailgit remote add hub ssh://server/~/mail.git --create', 'a new hub on a server, holding this replica; clone it on the laptop'],
          ['mailgit remote add laptop ssh://laptop/~/Mail', 'sync straight with another replica (it merges pushes at its next sync)'],
        ],
        exits: [[69, 'the ssh host cannot be reached'], [73, 'URL already holds something (leave out --create)'], ...REPO],
        load: async () => (await import('./remote.js')).add,
      },
      {
        name: 'list',
        description: 'list the remotes: URL, hub or peer, last sync, commits ahead and behind',
        examples: [['mailgit remote list --json', 'the same for scripts (docs/json.md)']],
        exits: [66, 74],
        load: async () => (await import('./remote.js')).list,
      },
      {
        name: 'remove',
        description: 'forget a remote (the mail it brought stays)',
        positionals: [REMOTE_NAME],
        examples: [['mailgit remote remove old-hub', 'stop syncing with it']],
        exits: REPO,
        load: async () => (await import('./remote.js')).remove,
      },
      {
        name: 'rename',
        description: 'rename a remote, keeping what mailgit knows about it',
        positionals: [
          { name: 'old', required: true, description: 'its name now' },
          { name: 'new', required: true, description: 'its new name' },
        ],
        examples: [['mailgit remote rename origin hub', 'a clone calls its source origin; call it hub']],
        exits: REPO,
        load: async () => (await import('./remote.js')).rename,
      },
    ],
  },
  {
    name: 'demo',
    description: 'run the built-in story: two replicas, mail, changes on both, sync, history',
    options: {
      keep: { type: 'boolean', description: 'keep the demo directory to look around in' },
    },
    examples: [['mailgit demo --keep', 'the story, then its replicas stay for you to try commands in']],
    exits: [[1, 'the replicas ended up different (a bug)'], 73, 74],
    load: async () => (await import('./demo.js')).handler,
  },
  {
    name: 'watch',
    description: 'record what mail clients change as it happens (one commit per burst); optionally sync and fetch',
    options: {
      sync: {
        type: 'string',
        array: true,
        allowEmpty: true,
        arg: 'REMOTE',
        description: 'sync with these remotes after commits and every interval (no names: all remotes)',
      },
      fetch: {
        type: 'string',
        array: true,
        allowEmpty: true,
        arg: 'ACCOUNT',
        description: 'keep these IMAP accounts level: IDLE on INBOX, fetch at once, push local changes (no names: all accounts)',
      },
      interval: {
        type: 'number',
        default: 300,
        min: 0,
        arg: 'S',
        description: 'seconds between full checks (and syncs with --sync, fetches with --fetch)',
      },
      debounce: { type: 'number', default: 300, min: 0, max: 60_000, arg: 'MS', description: 'milliseconds of quiet that end a burst of changes' },
    },
    examples: [
      ['mailgit watch', 'record as mutt changes things; stop with Ctrl-C'],
      ['mailgit watch --sync hub --interval 60', 'and sync with the hub after each commit and every minute'],
      ['mailgit watch --fetch', 'and keep every IMAP account level: new mail at once, local changes pushed'],
    ],
    exits: REPO,
    load: async () => (await import('./watch.js')).handler,
  },
  {
    name: 'deliver',
    description: 'deliver one message from stdin into a folder and commit it (an MDA for postfix, procmail, fdm)',
    options: {
      folder: { type: 'string', short: 'f', description: 'folder to deliver to (default INBOX; created if missing)' },
      flags: { type: 'string', description: 'Maildir flags, e.g. S: deliver into cur/ as already read' },
      wait: { type: 'number', default: 30, arg: 'S', description: 'seconds to wait for the repo lock before exit 75 (negative: not at all)' },
      message: { type: 'string', short: 'm', arg: 'SUBJECT', description: 'subject line of the commit' },
    },
    examples: [
      ['mailgit -C ~/Maildir deliver < message.eml', 'into INBOX'],
      ['mailgit deliver -f Lists/rust', 'in ~/.forward or procmail: "|mailgit -C ~/Maildir deliver -f Lists/rust"'],
    ],
    exits: [
      [65, 'the input is empty'],
      [75, 'anything else: nothing was delivered and the MTA will retry'],
    ],
    load: async () => (await import('./deliver.js')).handler,
  },
];
