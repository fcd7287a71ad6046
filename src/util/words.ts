/**
 * Counted nouns in English: "1 message", "2 messages", "1 commit was".
 */

/** `n` and the noun, singular for exactly one: `counted(2, 'message')` is "2 messages". */
export function counted(n: number, noun: string, nounPlural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : nounPlural}`;
}
