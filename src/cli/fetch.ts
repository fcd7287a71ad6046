/**
 * `mailgit fetch [ACCOUNT...] [--folder F] [--newest-first] [--max-size N] [--rescan]`
 *
 * Silent on success without a terminal; a progress bar on a terminal; `--json` prints a
 * summary. Exit status: 77 wrong password, 69 server unreachable / TLS failure /
 * connection lost, 75 repo locked, 78 account or password configuration.
 */
import { LOCK_WAIT_MS, withRepoLock } from '../repo/lock.js';
import { MailgitError, EX, UsageError, throwFirstFailure } from '../util/errors.js';
import { listAccounts, readAccount, resolvePassword, splitCommand, type Account } from '../fetch/account.js';
import type { AccountResult, FetchOptions } from '../fetch/fetch.js';
import type { LockedRepo } from '../repo/lock.js';
import type { GlobalArgs } from './context.js';
import { chatty, printJson, repoFromArgs, wantProgress } from './context.js';
import { counted } from '../util/words.js';

interface FetchArgs extends GlobalArgs {
  accounts?: string[];
  folder?: string[];
  newestFirst?: boolean;
  maxSize?: string;
  rescan?: boolean;
  passwordCommand?: string;
  tokenCommand?: string;
  acceptVanished?: boolean;
  batch?: number;
}

/** Parses a size: `1000`, `512k`, `10M`, `1G` (powers of 1024). */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(s.trim());
  if (!m) throw new UsageError(`bad size ${JSON.stringify(s)} (e.g. 500k, 10M)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * mult);
}

/** A result that only says why an account was not fetched. */
function failed(a: Account, err: MailgitError): AccountResult {
  return {
    account: a.name,
    folders: [],
    refused: [],
    fetched: 0,
    bytes: 0,
    commits: [],
    warnings: [],
    error: err.toJSON(),
  };
}

/**
 * Fetches one account with its password or access token. When the server refuses an
 * access token mailgit refreshes itself, a new one is got once and tried (a cached token
 * may have been revoked before it expired).
 */
async function fetchOne(repo: LockedRepo, a: Account, { override, opts }: { override: string[] | undefined; opts: FetchOptions }): Promise<AccountResult> {
  const { fetchAccount } = await import('../fetch/fetch.js');
  const refreshed = a.auth === 'oauth2' && a.oauth !== undefined && override === undefined;
  try {
    const r = await fetchAccount(repo, { account: a, password: await resolvePassword(repo, a, { command: override }) }, opts);
    if (!refreshed || r.error?.exitCode !== EX.NOPERM) return r;
    return await fetchAccount(repo, { account: a, password: await resolvePassword(repo, a, { command: override, fresh: true }) }, opts);
  } catch (err) {
    if (err instanceof MailgitError) return failed(a, err);
    throw err;
  }
}

/** The `fetch` verb: downloads new mail from IMAP accounts and commits it. */
export async function handler(argv: FetchArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  const names = argv.accounts?.length ? argv.accounts : await listAccounts(repo.root);
  if (names.length === 0) throw new MailgitError('no accounts defined: see "mailgit account add"', 'ENOACCOUNT', EX.CONFIG);
  if ((argv.passwordCommand ?? argv.tokenCommand) !== undefined && names.length !== 1)
    throw new UsageError('--password-command and --token-command need exactly one account');
  const accounts: Account[] = [];
  for (const n of names) accounts.push(await readAccount(repo.root, n));
  const maxSize = argv.maxSize !== undefined ? parseSize(argv.maxSize) : undefined;
  const given = argv.passwordCommand ?? argv.tokenCommand;
  const override = given !== undefined ? splitCommand(given) : undefined;
  // imapflow and cli-progress load only when fetch runs: every other verb starts faster.
  const { barProgress, silentProgress } = await import('../fetch/progress.js');
  const progress = wantProgress(argv) ? barProgress() : silentProgress;
  const log = argv.verbose ? (line: string) => process.stderr.write(`mailgit: ${line}\n`) : undefined;

  const opts: FetchOptions = {
    folders: argv.folder,
    newestFirst: argv.newestFirst,
    maxSize,
    rescan: argv.rescan,
    acceptVanished: argv.acceptVanished,
    progress,
    log,
    chunkMessages: argv.batch,
    commitMessages: argv.batch,
  };
  const results: AccountResult[] = await withRepoLock(repo, { what: `fetch ${names.join(' ')}`, waitMs: LOCK_WAIT_MS.none }, async (locked) => {
    const out: AccountResult[] = [];
    try {
      for (const a of accounts) out.push(await fetchOne(locked, a, { override, opts }));
    } finally {
      progress.stop();
    }
    return out;
  });

  if (argv.json) {
    printJson({
      accounts: results,
      fetched: results.reduce((s, r) => s + r.fetched, 0),
      bytes: results.reduce((s, r) => s + r.bytes, 0),
      ok: results.every((r) => !r.error),
    });
  } else if (chatty(argv)) {
    for (const r of results) {
      if (r.error) continue;
      const flags = r.folders.reduce((s, f) => s + f.flagsUpdated, 0);
      console.log(`${r.account}: ${counted(r.fetched, 'new message')}, ${counted(r.bytes, 'byte')}${flags ? `, ${counted(flags, 'flag change')}` : ''}`);
    }
  }
  for (const r of results) for (const f of r.refused) process.stderr.write(`mailgit: ${r.account}: folder ${JSON.stringify(f.remote)} skipped: ${f.reason}\n`);
  for (const r of results) for (const w of r.warnings) process.stderr.write(`mailgit: ${w}\n`);
  throwFirstFailure(results.flatMap((r) => (r.error ? [r.error] : [])));
}
