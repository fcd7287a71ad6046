/**
 * `mailgit account add|list|remove|password-command|trust`
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
  type Account,
} from '../fetch/account.js';
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
  map?: string[];
  sync?: string;
  expunge?: boolean;
  auth?: string;
  tokenCommand?: string;
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

/** The `account add` verb: defines an IMAP account and commits it; the password command stays on this machine. */
export async function add(argv: AddArgs): Promise<void> {
  checkAccountName(argv.name);
  const repo = await repoFromArgs(argv);
  const security = argv.starttls ? 'starttls' : argv.tls === false ? 'none' : 'tls';
  if (argv.expunge && argv.sync === 'pull') throw new UsageError('--expunge needs --sync both');
  if (argv.tokenCommand !== undefined && argv.auth !== 'oauth2') throw new UsageError('--token-command needs --auth oauth2');
  if (argv.passwordCommand !== undefined && argv.auth === 'oauth2') throw new UsageError('--password-command is for --auth password; use --token-command');
  const account: Account = validateAccount(
    {
      host: argv.host,
      port: argv.port,
      security,
      user: argv.user,
      insecure: argv.insecure,
      folders: argv.folder,
      exclude: argv.exclude,
      map: parseMaps(argv.map),
      sync: argv.sync ?? 'both',
      expunge: argv.expunge,
      auth: argv.auth,
    },
    argv.name,
  );
  const passCmd = argv.passwordCommand !== undefined ? splitCommand(argv.passwordCommand) : undefined;
  if (passCmd !== undefined && passCmd.length === 0) throw new UsageError('--password-command is empty');
  const tokenCmd = argv.tokenCommand !== undefined ? splitCommand(argv.tokenCommand) : undefined;
  if (tokenCmd !== undefined && tokenCmd.length === 0) throw new UsageError('--token-command is empty');
  const commit = await withRepoLock(repo, `account add ${argv.name}`, async (locked) => {
    const exists = (await listAccounts(repo.root)).includes(argv.name);
    if (exists && !argv.force) {
      throw new MailgitError(
        `account ${argv.name} exists (use --force to replace it, or "account password-command" to set this machine's password command)`,
        'EEXIST',
        EX.CANTCREAT,
      );
    }
    await writeAccount(repo, account);
    const local = await readLocalSettings(repo.gitDir, argv.name);
    await writeLocalSettings(repo.gitDir, argv.name, {
      ...local,
      ...(passCmd ? { passwordCommand: passCmd } : {}),
      ...(tokenCmd ? { tokenCommand: tokenCmd } : {}),
      server: serverOf(account),
    });
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
    const local = await readLocalSettings(repo.gitDir, n);
    const pw =
      a.auth === 'oauth2'
        ? local.tokenCommand
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
      `${r.name}\t${r.user}@${r.host}:${r.port}\t${r.security}${r.insecure ? ' insecure' : ''}\tsync: ${r.sync}${r.expunge ? ' expunge' : ''}\t${r.auth === 'oauth2' ? 'oauth2' : 'password'}: ${r.password}`,
    );
  }
}

/** The `account remove` verb: removes an account definition and its checkpoint, and commits. */
export async function remove(argv: NameArgs): Promise<void> {
  checkAccountName(argv.name);
  const repo = await repoFromArgs(argv);
  await readAccount(repo.root, argv.name);
  const commit = await withRepoLock(repo, `account remove ${argv.name}`, async (locked) => {
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

/** Sets, prints or forgets one of this machine's secret commands of an account. */
async function localCommand(argv: PassCmdArgs, field: 'passwordCommand' | 'tokenCommand'): Promise<void> {
  const repo = await repoFromArgs(argv);
  const account = await readAccount(repo.root, argv.name);
  const local = await readLocalSettings(repo.gitDir, argv.name);
  if (argv.clear) {
    const { [field]: _gone, ...rest } = local;
    await writeLocalSettings(repo.gitDir, argv.name, rest);
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
  await writeLocalSettings(repo.gitDir, argv.name, { ...local, [field]: argvCmd, server: serverOf(account) });
}

/** The `account trust` verb: trusts the account's current server settings on this machine. */
export async function trust(argv: NameArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  const account = await readAccount(repo.root, argv.name);
  await trustAccount(repo.gitDir, account);
  if (argv.json) printJson({ account: argv.name, server: serverOf(account) });
  else if (chatty(argv))
    console.log(
      `account ${argv.name}: trusting ${account.user} on ${account.host}:${account.port} (${account.security}${account.insecure ? ', insecure' : ''})`,
    );
}
