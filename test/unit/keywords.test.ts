/** Dovecot's keyword table (src/maildir/keywords.ts): parse, allocate, format. */
import { describe, expect, test } from 'vitest';
import { KeywordLetters, translateLetters } from '../../src/maildir/keywords.js';

describe('KeywordLetters', () => {
  test('parses N keyword lines (letter a + N), skips junk, keeps gaps; allocates the first free letter; formats as Dovecot does', () => {
    const t = KeywordLetters.parse('0 $Junk\n2 $Label1\nnonsense\n26 toohigh\n');
    expect(t.keywordOf('a')).toBe('$Junk');
    expect(t.keywordOf('c')).toBe('$Label1');
    expect(t.letters()).toBe('ac');
    expect(t.changed).toBe(false);
    expect(t.letterOf('$junk')).toBe('a'); // IMAP compares keywords case-insensitively
    expect(t.changed).toBe(false);
    expect(t.letterOf('custom')).toBe('b');
    expect(t.changed).toBe(true);
    expect(t.format()).toBe('0 $Junk\n1 custom\n2 $Label1\n');
  });

  test('26 letters at most: the 27th keyword has none', () => {
    const t = KeywordLetters.parse(null);
    for (let i = 0; i < 26; i++) expect(t.letterOf(`k${i}`)).toBe(String.fromCharCode(97 + i));
    expect(t.letterOf('one-too-many')).toBeUndefined();
  });

  test('letters moved to another folder: keywords by name (a new one given a letter there), system letters as they are, an unnamed letter kept unless it names a keyword there', () => {
    const inbox = KeywordLetters.parse('0 $Junk\n1 $Label2\n');
    const archive = KeywordLetters.parse('0 $Label1\n1 $junk\n');
    // a ($Junk) → b; b ($Label2) → the first free letter c; S stays; e (unnamed in both) stays; nothing named 'a' arrives unasked.
    expect(translateLetters(inbox, archive, 'Sabe')).toBe('Sbce');
    expect(archive.changed).toBe(true);
    expect(archive.format()).toBe('0 $Label1\n1 $junk\n2 $Label2\n');
    // An unnamed letter that is a keyword there is dropped: it would become that keyword.
    expect(translateLetters(KeywordLetters.parse(null), archive, 'Fa')).toBe('F');
  });
});
