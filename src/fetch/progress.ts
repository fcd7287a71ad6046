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

/** Work of fewer files or objects than this ends within a second or so: no bar. */
const BAR_MIN = 200;

/**
 * Follows git's own progress (the lines `--progress` writes to stderr) with a bar per
 * phase: objects received, deltas resolved, objects compressed and written by a push,
 * files written by a checkout; a phase of fewer than {@link BAR_MIN} draws nothing (git
 * reports even a push of three objects).
 */
export function gitProgress(label: string): { onStderr: (text: string) => void; stop: () => void } {
  let bar: Progress | undefined;
  let phase = '';
  let done = 0;
  return {
    onStderr(text) {
      for (const m of text.matchAll(/(Receiving objects|Resolving deltas|Compressing objects|Writing objects|Updating files): +\d+% \((\d+)\/(\d+)\)/g)) {
        if (m[1] !== phase) {
          bar?.stop();
          phase = m[1]!;
          done = 0;
          bar =
            Number(m[3]) < BAR_MIN
              ? undefined
              : barProgress({ unit: phase === 'Updating files' ? 'files' : 'objects', label: `${label}: ${phase.toLowerCase()}` });
          bar?.expect(Number(m[3]));
        }
        bar?.advance(Number(m[2]) - done, 0);
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

/**
 * A bar counting files labelled `label` that appears only once at least {@link BAR_MIN}
 * are expected, so that the small applies and records of an everyday sync draw nothing.
 */
export function filesProgress(label: string): Progress {
  let bar: Progress | undefined;
  let expected = 0;
  let done = 0;
  return {
    expect(n) {
      expected += n;
      if (bar) bar.expect(n);
      else if (expected >= BAR_MIN) {
        bar = barProgress({ unit: 'files', label });
        bar.expect(expected);
        if (done > 0) bar.advance(done, 0);
      }
    },
    advance(n, bytes) {
      done += n;
      bar?.advance(n, bytes);
    },
    label(text) {
      bar?.label(text);
    },
    stop() {
      bar?.stop();
    },
  };
}
