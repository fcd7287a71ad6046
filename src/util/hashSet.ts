/**
 * A set of strings held as 52-bit hashes in one sorted `Float64Array`: 8 bytes a member
 * and no object per member, for membership tests over a whole mailbox's keys or blob ids
 * (a restore of 100,000 messages asks "does HEAD hold this one?" of each). A hash can
 * collide, so a hit says "maybe": the caller confirms hits exactly; a miss is certain.
 */

/** A 52-bit hash of `s` (two 32-bit FNV-1a hashes of its UTF-16 code units, one cut to 20 bits): exact in a double. */
export function hash52(s: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
  }
  return a * 2 ** 20 + (b >>> 12);
}

/** Strings by their {@link hash52}: add them all, then ask. */
export class HashSet52 {
  private values = new Float64Array(1024);
  private size = 0;
  private sorted = true;

  /** Adds `s`. */
  add(s: string): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(Math.max(1024, this.values.length * 2));
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size++] = hash52(s);
    this.sorted = false;
  }

  /** False when `s` was never added; true when it was, and (rarely) when another string with its hash was. */
  mayHave(s: string): boolean {
    if (!this.sorted) {
      this.values = this.values.slice(0, this.size).sort();
      this.sorted = true;
    }
    const h = hash52(s);
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.values[mid]!;
      if (v === h) return true;
      if (v < h) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}
