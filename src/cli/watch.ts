/**
 * `mailgit watch [--sync [REMOTE...]] [--fetch [ACCOUNT...]] [--interval S]` — record
 * client changes as they happen (and with `--fetch` keep IMAP accounts level: new server
 * mail at once, local changes pushed after each commit); runs until SIGINT/SIGTERM, then
 * records what is pending and exits 0.
 */
import { startWatch } from '../watch/watch.js';
import { makeSync } from '../watch/sync.js';
import type { SyncOutcome } from '../watch/sync.js';
import { chooseRemotes } from '../sync/sync.js';
import { EX, MailgitError } from '../util/errors.js';
import { listAccounts, readAccount, resolvePassword, type Account } from '../fetch/account.js';
import type { Repo } from '../repo/repo.js';
import type { FetchLoop } from '../watch/fetchLoop.js';
import type { GlobalArgs } from './context.js';
import { repoFromArgs } from './context.js';
import { counted } from '../util/words.js';

interface WatchArgs extends GlobalArgs {
  sync?: string[];
  fetch?: string[];
  interval?: number;
  debounce?: number;
}

function stamp(): string {
  return new Date().toISOString().replace('T', ' ').slice(0, 19);
}

type Out = (obj: Record<string, unknown>, text: string) => void;

/**
 * Starts `--fetch` for the named accounts (all without names). Their password or token
 * sources are checked first (exit 78 before anything runs); a password is asked once, an
 * OAuth token at each connection (it expires).
 */
async function fetchLoop(repo: Repo, { names, intervalS }: { names: string[]; intervalS: number }, out: Out): Promise<FetchLoop> {
  const all = names.length ? names : await listAccounts(repo.root);
  if (all.length === 0) throw new MailgitError('watch --fetch: no accounts defined: see "mailgit account add"', 'ENOACCOUNT', EX.CONFIG);
  const accounts: Account[] = [];
  for (const n of all) accounts.push(await readAccount(repo.root, n));
  const passwords = new Map<string, string>();
  const secret = async (a: Account) => passwords.get(a.name) ?? resolvePassword(repo, a);
  for (const a of accounts) {
    const s = await secret(a);
    if (a.auth !== 'oauth2') passwords.set(a.name, s);
  }
  // imapflow loads only when --fetch is given.
  const { startFetchLoop } = await import('../watch/fetchLoop.js');
  return startFetchLoop(repo, {
    accounts,
    secret,
    intervalMs: intervalS * 1000,
    onFetch: (r) => {
      if (r.commits.length)
        out({ event: 'fetch', account: r.account, fetched: r.fetched, commits: r.commits }, `fetch ${r.account}: ${r.fetched} new message(s)`);
    },
    onWarning: (m) => process.stderr.write(`${stamp()} mailgit watch: ${m}\n`),
  });
}

/**
 * One sync round in words: where the pushes went on the first line (watch's commit lines
 * already said what they hold), then what sync itself recorded or brought in.
 */
function syncWords(o: SyncOutcome, ms: number): string {
  const where = o.pushed.length > 0 ? `: pushed to ${o.pushed.join(', ')}` : o.lines.length > 0 ? '' : ': up to date';
  return `synced in ${ms} ms${where}${o.lines.map((l) => `\n    ${l}`).join('')}`;
}

/** The `watch` verb: records client changes as they happen until a signal, optionally syncing. */
export async function handler(argv: WatchArgs): Promise<void> {
  const interval = argv.interval ?? 300;
  const debounce = argv.debounce ?? 300;
  const repo = await repoFromArgs(argv);
  // A remote that does not exist is a mistake to tell at once, not at the first sync.
  if (argv.sync !== undefined) await chooseRemotes(repo, argv.sync);
  const json = argv.json === true;
  const out = (obj: Record<string, unknown>, text: string) => {
    if (json) process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...obj })}\n`);
    else process.stdout.write(`${stamp()} ${text}\n`);
  };
  const loop = argv.fetch !== undefined ? await fetchLoop(repo, { names: argv.fetch, intervalS: interval }, out) : undefined;
  const w = await startWatch(repo, {
    quietMs: debounce,
    intervalMs: interval * 1000,
    sync: argv.sync !== undefined ? makeSync(repo, argv.sync) : undefined,
    onCommit: (r) => {
      out({ event: 'commit', commit: r.commit, summary: r.summary }, `[main ${r.commit.slice(0, 10)}] ${r.summary.join('; ')}`);
      loop?.localChanged();
    },
    onSync: (o, ms) => {
      if (json) out({ event: 'sync', ms, lines: o.lines, pushed: o.pushed, failures: o.failures }, '');
      else if (o.lines.length > 0 || o.pushed.length > 0 || argv.verbose) out({}, syncWords(o, ms));
    },
    onWarning: (m) => process.stderr.write(`${stamp()} mailgit watch: ${m}\n`),
  });
  out(
    { event: 'ready', root: repo.root, folders: w.folders, watches: w.watches },
    `watching ${repo.root}: ${counted(w.folders, 'folder')}, ${counted(w.watches, 'directory watch', 'directory watches')}`,
  );
  await new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
  });
  await loop?.stop();
  await w.stop();
  out({ event: 'stopped', commits: w.commits }, `stopped after ${counted(w.commits, 'commit')}`);
}
