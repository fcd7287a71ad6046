/**
 * Progress bars for the steps that can take more than a second (fetch, adopt, clone): a
 * cli-progress bar on stderr (count, bytes when there are any, rate, ETA), or nothing.
 * Whether to show one is `wantProgress` in src/cli/context.ts (`--progress` forces it).
 */
import cliProgress from 'cli-progress';

/** What the fetch engine reports. */
export interface Progress {
  /** Adds to the number of messages expected. */
  expect(messages: number): void;
  /** Counts messages done (downloaded or skipped) and bytes downloaded. */
  advance(messages: number, bytes: number): void;
  /** Names what is being fetched. */
  label(text: string): void;
  /** Removes the bar. */
  stop(): void;
}

/** A progress sink that shows nothing. */
export const silentProgress: Progress = { expect() {}, advance() {}, label() {}, stop() {} };

function human(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

/**
 * Follows git's own progress (the lines `--progress` writes to stderr) with a bar per
 * phase: objects received, deltas resolved, files written by a checkout.
 */
export function gitProgress(label: string): { onStderr: (text: string) => void; stop: () => void } {
  let bar: Progress | undefined;
  let phase = '';
  let done = 0;
  return {
    onStderr(text) {
      for (const m of text.matchAll(/(Receiving objects|Resolving deltas|Updating files): +\d+% \((\d+)\/(\d+)\)/g)) {
        if (m[1] !== phase) {
          bar?.stop();
          phase = m[1]!;
          done = 0;
          bar = barProgress({ unit: phase === 'Updating files' ? 'files' : 'objects', label: `${label}: ${phase.toLowerCase()}` });
          bar.expect(Number(m[3]));
        }
        bar!.advance(Number(m[2]) - done, 0);
        done = Number(m[2]);
      }
    },
    stop() {
      bar?.stop();
    },
  };
}

/** A progress bar on `stream` counting `unit` (`msgs`, `files`, `objects`). */
export function barProgress(opts: { stream?: NodeJS.WriteStream; unit?: string; label?: string } = {}): Progress {
  const unit = opts.unit ?? 'msgs';
  const bar = new cliProgress.SingleBar(
    {
      stream: opts.stream ?? process.stderr,
      format: `{label} [{bar}] {value}/{total} ${unit}{bytes} | {rate}/s | ETA {eta_formatted}`,
      // A forced bar (--progress) draws also where stderr is no terminal.
      noTTYOutput: true,
      notTTYSchedule: 1000,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let total = 0;
  let value = 0;
  let bytes = 0;
  let label = opts.label ?? 'fetch';
  let running = false;
  const payload = () => ({ label, bytes: bytes > 0 ? ` | ${human(bytes)}` : '', rate: (value / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(0) });
  const ensure = () => {
    if (!running) {
      bar.start(Math.max(total, 1), value, payload());
      running = true;
    }
  };
  return {
    expect(n) {
      total += n;
      ensure();
      bar.setTotal(Math.max(total, 1));
    },
    advance(n, b) {
      value += n;
      bytes += b;
      ensure();
      if (value > total) {
        total = value;
        bar.setTotal(total);
      }
      bar.update(value, payload());
    },
    label(text) {
      label = text;
      if (running) bar.update(value, payload());
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
