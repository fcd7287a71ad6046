/**
 * Preloaded into a mailgit run (`NODE_OPTIONS=--require …/skew.cjs`) by the torture tests
 * to give a replica a skewed clock: `MAILGIT_TEST_CLOCK_SKEW_MS` is added to `Date.now()`
 * and to `new Date()`; `MAILGIT_TEST_CLOCK_START_MS` instead makes the run's clock start at
 * that instant (and run on from there), so that a rerun can meet the times of an earlier
 * run. Only the test harness sets them; mailgit itself knows nothing of them.
 */
'use strict';
const start = Number(process.env.MAILGIT_TEST_CLOCK_START_MS || 'NaN');
const skew = Number.isFinite(start) ? start - Date.now() : Number(process.env.MAILGIT_TEST_CLOCK_SKEW_MS || '0');
if (Number.isFinite(skew) && skew !== 0) {
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  class SkewedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(realNow() + skew);
      else super(...args);
    }
    static now() {
      return realNow() + skew;
    }
  }
  globalThis.Date = SkewedDate;
}
