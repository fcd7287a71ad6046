/**
 * Progress reporting for `mailgit fetch`: a cli-progress bar on a terminal (messages,
 * bytes, rate, ETA), nothing otherwise.
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

/** A progress bar on stderr. */
export function barProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{label} [{bar}] {value}/{total} msgs | {bytes} | {rate} msg/s | ETA {eta_formatted}',
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
  let label = 'fetch';
  let running = false;
  const payload = () => ({ label, bytes: human(bytes), rate: (value / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(0) });
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
