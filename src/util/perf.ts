/**
 * `MAILGIT_TRACE_PERF=1` prints where a command's time goes (like `GIT_TRACE_PERFORMANCE`):
 * one line per step on stderr, milliseconds since the process started and the resident set size.
 */
const on = process.env.MAILGIT_TRACE_PERF === '1';

/** Notes that step `what` just finished (a no-op unless tracing is on). */
export function perfMark(what: string): void {
  if (on) process.stderr.write(`mailgit perf: ${performance.now().toFixed(1)} ms ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MB ${what}\n`);
}
