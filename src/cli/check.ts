/**
 * `mailgit check [--repair]` and `mailgit check --remote R`: compare every file with HEAD
 * (and repair), or this replica's mail with a remote's. Exits 65 while anything differs.
 */
import type { GlobalArgs } from './context.js';
import { printJson, repoFromArgs } from './context.js';
import { checkRepo, repairRepo } from '../repo/check.js';
import { compareRemote } from '../repo/checkRemote.js';
import { LOCK_WAIT_MS, withRepoLock } from '../repo/lock.js';
import { MailgitError, EX } from '../util/errors.js';
import { counted } from '../util/words.js';

interface CheckArgs extends GlobalArgs {
  repair?: boolean;
  remote?: string;
}

async function remote(argv: CheckArgs & { remote: string }): Promise<void> {
  const repo = await repoFromArgs(argv);
  const c = await withRepoLock(repo, { what: 'check', waitMs: LOCK_WAIT_MS.patient }, (locked) => compareRemote(locked, argv.remote));
  if (argv.json) printJson(c);
  else if (c.same) console.log(`same mail as ${c.remote} (tree ${c.here?.slice(0, 10) ?? 'empty'})`);
  else {
    console.log(`${c.remote} differs: ${counted(c.ahead, 'commit')} only here, ${c.behind} only there; from ${c.remote}'s mail to this replica's:`);
    for (const line of c.differences) console.log(`  ${line}`);
  }
  if (!c.same) throw new MailgitError(`this replica and ${c.remote} hold different mail; mailgit sync ${c.remote} brings them together`, 'EDIFFER', EX.DATAERR);
}

/** The `check` verb. */
export async function handler(argv: CheckArgs): Promise<void> {
  if (argv.remote !== undefined) return remote({ ...argv, remote: argv.remote });
  const repo = await repoFromArgs(argv);
  const r = argv.repair ? await withRepoLock(repo, { what: 'check --repair', waitMs: LOCK_WAIT_MS.patient }, repairRepo) : await checkRepo(repo);
  if (argv.json) printJson(r);
  else {
    for (const f of r.found) console.log(f.text);
    for (const a of r.actions) console.log(`repaired: ${a}`);
    if (r.remaining.length === 0) console.log(`all good: ${r.files} files agree with HEAD`);
  }
  if (r.remaining.length > 0) {
    const n = r.remaining.length;
    const what = argv.repair
      ? `${counted(n, 'problem')} left that check cannot repair${argv.json ? '' : `: ${r.remaining.map((f) => f.text).join('; ')}`}`
      : `${counted(n, 'problem')} found; mailgit check --repair fixes what it can`;
    throw new MailgitError(what, 'ECHECK', EX.DATAERR);
  }
}
