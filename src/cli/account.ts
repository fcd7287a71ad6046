/**
 * `mailgit account add|list|remove|password-command|token-command|refresh-token-command|client-secret-command|trust|login`
 *
 * Definitions are synced (`.mailgit/accounts/NAME.json`, committed at once); the password
 * command is per machine (`.git/mailgit/accounts/NAME.json`); the password itself is never
 * stored by mailgit.
 */
import { record } from '../repo/record.js';
import { withRepoLock } from '../repo/lock.js';
import { MailgitError, EX, UsageError } from '../util/errors.js';
import {
  checkAccountName,
  listAccounts,
  passwordEnvVar,
  readAccount,
  readLocalSettings,
  removeAccount,
  splitCommand,
  validateAccount,
  writeAccount,
  writeLocalSettings,
  serverOf,
  trustAccount,
  checkTrusted,
  type Account,
  type LocalAccountSettings,
} from '../fetch/account.js';
import { resolve } from 'node:path';
import { checkEndpoint, deviceLogin, type OAuthConfig } from '../fetch/oauth.js';
import type { GlobalArgs } from './context.js';
import { chatty, printJson, repoFromArgs } from './context.js';

interface AddArgs extends GlobalArgs {
  name: string;
  host: string;
  port?: number;
  tls?: boolean;
  starttls?: boolean;
  insecure?: boolean;
  user: string;
  passwordCommand?: string;
  folder?: string[];
  exclude?: string[];
  idle?: string[];
  map?: string[];
  sync?: string;
  expunge?: boolean;
  auth?: string;
  tokenCommand?: string;
  oauthTokenUrl?: string;
  oauthClientId?: string;
  oauthClientSecretCommand?: string;
  oauthDeviceUrl?: string;
  oauthScope?: string;
  refreshTokenCommand?: string;
  offlineimapStatus?: string;
  offlineimapValidity?: string;
  force?: boolean;
}

interface NameArgs extends GlobalArgs {
  name: string;
}

interface PassCmdArgs extends GlobalArgs {
  name: string;
  command?: string;
  clear?: boolean;
}

/** Parses `--map REMOTE=LOCAL` options (the last `=` splits: remote names may contain `=`). */
export function parseMaps(maps: string[] | undefined): Record<string, string> | undefined {
  if (!maps || maps.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const m of maps) {
    const eq = m.lastIndexOf('=');
    if (eq <= 0 || eq === m.length - 1) throw new UsageError(`--map wants REMOTE=LOCAL, got ${JSON.stringify(m)}`);
    out[m.slice(0, eq)] = m.slice(eq + 1);
  }
  return out;
}

/** The per-machine secret commands of an account. */
type SecretField = 'passwordCommand' | 'tokenCommand' | 'refreshTokenCommand' | 'clientSecretCommand';

/** Splits a command option (undefined when not given); an empty one is a usage error. */
function commandOption(line: string | undefined, option: string): string[] | undefined {
  if (line === undefined) return undefined;
  const argv = splitCommand(line);
  if (argv.length === 0) throw new UsageError(`${option} is empty`);
  return argv;
}

/** This machine's offlineimap state directories (`--offlineimap-status` and `--offlineimap-validity` go together). */
function offlineimapOf(argv: AddArgs): Pick<LocalAccountSettings, 'offlineimap'> {
  const { offlineimapStatus: status, offlineimapValidity: validity } = argv;
  if (status === undefined && validity === undefined) return {};
  if (!status || !validity) throw new UsageError('--offlineimap-status and --offlineimap-validity go together');
  return { offlineimap: { status: resolve(status), validity: resolve(validity) } };
}

/** The `oauth` part of a definition from the `--oauth-*` options (undefined without `--oauth-token-url`). */
function oauthOf(argv: AddArgs): OAuthConfig | undefined {
  const extra = argv.oauthClientId ?? argv.oauthDeviceUrl ?? argv.oauthScope ?? argv.oauthClientSecretCommand ?? argv.refreshTokenCommand;
  if (argv.oauthTokenUrl === undefined) {
    if (extra !== undefined) throw new UsageError('--oauth-client-id, --oauth-device-url, --oauth-scope and the refresh commands need --oauth-token-url');
    return undefined;
  }
  if (argv.auth !== 'oauth2') throw new UsageError('--oauth-token-url needs --auth oauth2');
  if (argv.tokenCommand !== undefined) throw new UsageError('give --token-command or --oauth-token-url, not both');
  if (!argv.oauthClientId) throw new UsageError('--oauth-token-url needs --oauth-client-id');
  checkEndpoint(argv.oauthTokenUrl, '--oauth-token-url');
  if (argv.oauthDeviceUrl !== undefined) checkEndpoint(argv.oauthDeviceUrl, '--oauth-device-url');
  return {
    tokenUrl: argv.oauthTokenUrl,
    clientId: argv.oauthClientId,
    ...(argv.oauthDeviceUrl !== undefined ? { deviceUrl: argv.oauthDeviceUrl } : {}),
    ...(argv.oauthScope ? { scope: argv.oauthScope } : {}),
  };
}

/** The `account add` verb: defines an IMAP account and commits it; the password command stays on this machine. */
export async function add(argv: AddArgs): Promise<void> {
  checkAccountName(argv.name);
  const repo = await repoFromArgs(argv);
  const security = argv.starttls ? 'starttls' : argv.tls === false ? 'none' : 'tls';
  if (argv.expunge && argv.sync === 'pull') throw new UsageError('--expunge needs --sync both');
  if (argv.tokenCommand !== undefined && argv.auth !== 'oauth2') throw new UsageError('--token-command needs --auth oauth2');
  if (argv.passwordCommand !== undefined && argv.auth === 'oauth2') throw new UsageError('--password-command is for --auth password; use --token-command');
  const oauth = oauthOf(argv);
  const account: Account = validateAccount(
    {
      host: argv.host,
      port: argv.port,
      security,
      user: argv.user,
      insecure: argv.insecure,
      folders: argv.folder,
      exclude: argv.exclude,
      idle: argv.idle,
      map: parseMaps(argv.map),
      sync: argv.sync ?? 'both',
      expunge: argv.expunge,
      auth: argv.auth,
      oauth,
    },
    argv.name,
  );
  const commands: Partial<Record<SecretField, string[]>> = {
    passwordCommand: commandOption(argv.passwordCommand, '--password-command'),
    tokenCommand: commandOption(argv.tokenCommand, '--token-command'),
    refreshTokenCommand: commandOption(argv.refreshTokenCommand, '--refresh-token-command'),
    clientSecretCommand: commandOption(argv.oauthClientSecretCommand, '--oauth-client-secret-command'),
  };
  const offlineimap = offlineimapOf(argv);
  const commit = await withRepoLock(repo, { what: `account add ${argv.name}` }, async (locked) => {
    const exists = (await listAccounts(repo.root)).includes(argv.name);
    if (exists && !argv.force) {
      throw new MailgitError(
        `account ${argv.name} exists (use --force to replace it, or "account password-command" to set this machine's password command)`,
        'EEXIST',
        EX.CANTCREAT,
      );
    }
    await writeAccount(repo, account);
    const local = await readLocalSettings(repo, argv.name);
    const given = Object.fromEntries(Object.entries(commands).filter(([, v]) => v !== undefined));
    await writeLocalSettings(repo, argv.name, { ...local, ...given, ...offlineimap, server: serverOf(account) });
    return record(locked, { message: `account ${exists ? 'update' : 'add'} ${argv.name}` });
  });
  if (argv.json) printJson({ account: argv.name, commit: commit?.commit ?? null });
  else if (chatty(argv)) console.log(`account ${argv.name}: ${account.user} on ${account.host}:${account.port} (${account.security})`);
}

/** The `account list` verb: prints the defined accounts and where each password would come from. */
export async function list(argv: GlobalArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  const names = await listAccounts(repo.root);
  const rows = [];
  for (const n of names) {
    const a = await readAccount(repo.root, n);
    const local = await readLocalSettings(repo, n);
    const pw =
      a.auth === 'oauth2'
        ? a.oauth
          ? local.refreshTokenCommand
            ? 'refreshed by mailgit'
            : 'no refresh token'
          : local.tokenCommand
            ? 'token command'
            : 'none'
        : process.env[passwordEnvVar(n)]
          ? 'env'
          : local.passwordCommand
            ? 'command'
            : 'none';
    rows.push({ ...a, password: pw });
  }
  if (argv.json) {
    printJson(rows);
    return;
  }
  for (const r of rows) {
    console.log(
      `${r.name}\t${r.user}@${r.host}:${r.port}\t${r.security}${r.insecure ? ' insecure' : ''}\tsync: ${r.sync}${r.expunge ? ' expunge' : ''}\t${r.auth === 'oauth2' ? 'oauth2' : 'password'}: ${r.password}${r.idle ? `\tidle: ${r.idle.join(', ')}` : ''}`,
    );
  }
}

/** The `account remove` verb: removes an account definition and its checkpoint, and commits. */
export async function remove(argv: NameArgs): Promise<void> {
  checkAccountName(argv.name);
  const repo = await repoFromArgs(argv);
  await readAccount(repo.root, argv.name);
  const commit = await withRepoLock(repo, { what: `account remove ${argv.name}` }, async (locked) => {
    await removeAccount(repo, argv.name);
    return record(locked, { message: `account remove ${argv.name}` });
  });
  if (argv.json) printJson({ account: argv.name, commit: commit?.commit ?? null });
}

/** The `account password-command` verb: sets, prints or (`--clear`) forgets this machine's password command. */
export function passwordCommand(argv: PassCmdArgs): Promise<void> {
  return localCommand(argv, 'passwordCommand');
}

/** The `account token-command` verb: the same for an OAuth 2 account's access token command. */
export function tokenCommand(argv: PassCmdArgs): Promise<void> {
  return localCommand(argv, 'tokenCommand');
}

/** The `account refresh-token-command` verb: the same for the refresh token of an account mailgit refreshes. */
export function refreshTokenCommand(argv: PassCmdArgs): Promise<void> {
  return localCommand(argv, 'refreshTokenCommand');
}

/** The `account client-secret-command` verb: the same for the OAuth 2 client secret. */
export function clientSecretCommand(argv: PassCmdArgs): Promise<void> {
  return localCommand(argv, 'clientSecretCommand');
}

/**
 * The `account login` verb: the OAuth 2 device login. Where to go and the code to enter
 * are said on stderr; the refresh token is printed alone on stdout, for the person's
 * secret store (`mailgit account login work | pass insert -m mail/work-refresh`) — mailgit
 * keeps only the access token, in its per-machine cache.
 */
export async function login(argv: NameArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  const account = await readAccount(repo.root, argv.name);
  if (account.auth !== 'oauth2' || !account.oauth) throw new UsageError(`account ${argv.name} is not an OAuth 2 account with --oauth-token-url`);
  await checkTrusted(repo, account);
  const local = await readLocalSettings(repo, argv.name);
  const refresh = await deviceLogin(account, local, (line) => process.stderr.write(`mailgit: ${line}\n`));
  process.stdout.write(`${refresh}\n`);
  if (!local.refreshTokenCommand)
    process.stderr.write(`mailgit: logged in; store the refresh token and run "mailgit account refresh-token-command ${argv.name} CMD"\n`);
}

/** Sets, prints or forgets one of this machine's secret commands of an account. */
async function localCommand(argv: PassCmdArgs, field: SecretField): Promise<void> {
  const repo = await repoFromArgs(argv);
  const account = await readAccount(repo.root, argv.name);
  const local = await readLocalSettings(repo, argv.name);
  if (argv.clear) {
    const { [field]: _gone, ...rest } = local;
    await writeLocalSettings(repo, argv.name, rest);
    return;
  }
  if (!argv.command) {
    if (argv.json) printJson({ account: argv.name, [field]: local[field] ?? null });
    else console.log(local[field] ? JSON.stringify(local[field]) : '(none)');
    return;
  }
  const argvCmd = splitCommand(argv.command);
  if (argvCmd.length === 0) throw new UsageError('empty command');
  // Setting a secret source here is trusting the server the definition names now.
  await writeLocalSettings(repo, argv.name, { ...local, [field]: argvCmd, server: serverOf(account) });
}

/** The `account trust` verb: trusts the account's current server settings on this machine. */
export async function trust(argv: NameArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  const account = await readAccount(repo.root, argv.name);
  await trustAccount(repo, account);
  if (argv.json) printJson({ account: argv.name, server: serverOf(account) });
  else if (chatty(argv))
    console.log(
      `account ${argv.name}: trusting ${account.user} on ${account.host}:${account.port} (${account.security}${account.insecure ? ', insecure' : ''})`,
    );
}
