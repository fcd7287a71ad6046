/**
 * IMAP keywords in a Maildir, the Dovecot way: a folder's `dovecot-keywords` file lists
 * `N keyword` lines, and keyword N (0–25) is the letter `a` + N in the `:2,` info of a
 * file name (`1704067200.mg….mailgit:2,Sa` is seen and has keyword 0). The file is a
 * recorded per-folder data file (src/maildir/paths.ts), so every replica and every local
 * Dovecot reads the same letters. Pure: the caller reads and writes the file.
 */

/** The name of the keyword table in a folder's directory. */
export const KEYWORDS_FILE = 'dovecot-keywords';

/** Whether a repo-relative path is a folder's keyword table. */
export function isKeywordTable(path: string): boolean {
  return path === KEYWORDS_FILE || path.endsWith(`/${KEYWORDS_FILE}`);
}

const FIRST = 'a'.charCodeAt(0);
const MAX = 26;

/** A folder's keyword letters; new keywords get the first free letter. */
export class KeywordLetters {
  private readonly byLetter = new Map<string, string>();
  private readonly byName = new Map<string, string>();
  /** Whether a keyword was added since the table was read (it must be written before its letter is used). */
  changed = false;

  /** Parses `dovecot-keywords` (absent: `null`); lines that are not `N keyword` with N 0–25 are skipped. */
  static parse(text: string | null): KeywordLetters {
    const t = new KeywordLetters();
    for (const line of (text ?? '').split('\n')) {
      const m = /^(\d+) (\S+)$/.exec(line.trim());
      if (m && Number(m[1]) < MAX) t.put(String.fromCharCode(FIRST + Number(m[1])), m[2]);
    }
    return t;
  }

  private put(letter: string, keyword: string): void {
    if (this.byLetter.has(letter) || this.byName.has(keyword.toLowerCase())) return;
    this.byLetter.set(letter, keyword);
    this.byName.set(keyword.toLowerCase(), letter);
  }

  /**
   * The letter of a keyword (compared case-insensitively, as IMAP does), giving it the
   * first free letter when it has none; `undefined` when all 26 are taken.
   */
  letterOf(keyword: string): string | undefined {
    const had = this.byName.get(keyword.toLowerCase());
    if (had) return had;
    for (let i = 0; i < MAX; i++) {
      const letter = String.fromCharCode(FIRST + i);
      if (this.byLetter.has(letter)) continue;
      this.put(letter, keyword);
      this.changed = true;
      return letter;
    }
    return undefined;
  }

  /** The keyword a letter stands for, if any. */
  keywordOf(letter: string): string | undefined {
    return this.byLetter.get(letter);
  }

  /** The letter a keyword has (compared case-insensitively), without giving it one. */
  find(keyword: string): string | undefined {
    return this.byName.get(keyword.toLowerCase());
  }

  /** The table as (letter, keyword) pairs, by letter. */
  entries(): [string, string][] {
    return [...this.byLetter].sort(([a], [b]) => (a < b ? -1 : 1));
  }

  /** A table of these (letter, keyword) pairs; a letter or keyword claimed before is skipped. */
  static of(entries: Iterable<[string, string]>): KeywordLetters {
    const t = new KeywordLetters();
    for (const [l, k] of entries) t.put(l, k);
    return t;
  }

  /** The letters that stand for a keyword. */
  letters(): string {
    return [...this.byLetter.keys()].sort().join('');
  }

  /** The file's text, in Dovecot's format (by index). */
  format(): string {
    return this.entries()
      .map(([l, k]) => `${l.charCodeAt(0) - FIRST} ${k}\n`)
      .join('');
  }
}

/**
 * Maildir letters of a folder with keyword table `from` as the letters of a folder with
 * table `to` for the same flags (a message moved between them): a keyword letter of
 * `from` becomes `to`'s letter for that keyword (given one there if it has none; `to` is
 * then `changed`), any other letter stays — unless it is a keyword letter of `to`, which
 * would give the message that keyword. Returns the letters in ASCII order.
 */
export function translateLetters(from: KeywordLetters, to: KeywordLetters, letters: string): string {
  const out = new Set<string>();
  for (const l of letters) {
    const keyword = from.keywordOf(l);
    const mine = keyword !== undefined ? to.letterOf(keyword) : to.keywordOf(l) === undefined ? l : undefined;
    if (mine) out.add(mine);
  }
  return [...out].sort().join('');
}
