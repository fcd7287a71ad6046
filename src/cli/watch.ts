/**
 * `mailgit watch [--sync [REMOTE...]] [--interval S]` — record client changes as they
 * happen; runs until SIGINT/SIGTERM, then records what is pending and exits 0.
 */
import { startWatch } from '../watch/watch.js';
import { makeSync } from '../watch/sync.js';
import type { GlobalArgs } from './context.js';
import { repoFromArgs } from './context.js';
import { counted } from '../util/words.js';

interface WatchArgs extends GlobalArgs {
  sync?: string[];
  interval?: number;
  debounce?: number;
}

function stamp(): string {
  return new Date().toISOString().replace('T', ' ').slice(0, 19);
}

/** The `watch` verb: records client changes as they happen until a signal, optionally syncing. */
export async function handler(argv: WatchArgs): Promise<void> {
  const interval = argv.interval ?? 300;
  const debounce = argv.debounce ?? 300;
  const repo = await repoFromArgs(argv);
  const json = argv.json === true;
  const out = (obj: Record<string, unknown>, text: string) => {
    if (json) process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...obj })}\n`);
    else process.stdout.write(`${stamp()} ${text}\n`);
  };
  const w = await startWatch(repo, {
    quietMs: debounce,
    intervalMs: interval * 1000,
    sync: argv.sync !== undefined ? makeSync(repo, argv.sync) : undefined,
    onCommit: (r) => out({ event: 'commit', commit: r.commit, summary: r.summary }, `[main ${r.commit.slice(0, 10)}] ${r.summary.join('; ')}`),
    onSync: (o, ms) => {
      if (json) out({ event: 'sync', ms, lines: o.lines, failures: o.failures }, '');
      else if (o.lines.length > 0 || argv.verbose) out({}, `synced in ${ms} ms${o.lines.map((l) => `\n    ${l}`).join('')}`);
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
  await w.stop();
  out({ event: 'stopped', commits: w.commits }, `stopped after ${counted(w.commits, 'commit')}`);
}
