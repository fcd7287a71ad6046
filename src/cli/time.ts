/**
 * How a moment is shown to a person: `YYYY-MM-DD HH:MM` in UTC, the same in every verb.
 */

/** Formats a time in milliseconds since the epoch as `YYYY-MM-DD HH:MM` (UTC). */
export function shortTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
}
