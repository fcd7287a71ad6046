/**
 * `parseCommandLine` against the command table: what each command line hands the verb's
 * handler (camelCase names, lists, numbers, defaults), without starting a process.
 */
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli/args.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { UsageError } from '../../src/util/errors.js';

function argvOf(args: string[]): Record<string, unknown> {
  const r = parseCommandLine(args);
  if (r.kind !== 'run') throw new Error(`expected a verb to run, got ${r.kind}`);
  return r.argv;
}

describe('parseCommandLine', () => {
  const cases: [string[], Record<string, unknown>][] = [
    [['watch'], { interval: 300, debounce: 300 }],
    [['watch', '--sync'], { sync: [], interval: 300, debounce: 300 }],
    [['watch', '--sync', '--interval', '2'], { sync: [], interval: 2, debounce: 300 }],
    [['watch', '--sync', 'hub', 'usb', '--debounce', '50'], { sync: ['hub', 'usb'], interval: 300, debounce: 50 }],
    [['watch', '--sync=hub', '--sync', 'usb'], { sync: ['hub', 'usb'], interval: 300, debounce: 300 }],
    [['-vC', '/m', 'sync', '-n', 'a', 'b'], { C: '/m', verbose: true, dryRun: true, remotes: ['a', 'b'] }],
    [['--json', 'sync', '--dry-run'], { json: true, dryRun: true, remotes: [] }],
    [['sync', '--', '-odd'], { remotes: ['-odd'] }],
    [
      ['fetch', 'work', '--folder', 'A', 'B', '--folder', 'C', '--max-size', '10k', '--newest-first', '--password-command', 'cat pw', '--batch', '10'],
      { accounts: ['work'], folder: ['A', 'B', 'C'], maxSize: '10k', newestFirst: true, passwordCommand: 'cat pw', batch: 10 },
    ],
    [['account', 'add', 'w', '--host', 'h', '--user', 'u'], { name: 'w', host: 'h', user: 'u' }],
    [
      ['account', 'add', 'w', '--host', 'h', '--user', 'u', '--no-tls', '--map', 'a=b', '--map', 'c d=e'],
      { name: 'w', host: 'h', user: 'u', tls: false, map: ['a=b', 'c d=e'] },
    ],
    [['account', 'password-command', 'w', 'pass show w'], { name: 'w', command: 'pass show w' }],
    [['account', 'password-command', 'w', '--clear'], { name: 'w', clear: true }],
    [['deliver', '-f', 'Lists/rust', '-m', 'hi', '--wait', '-1'], { folder: 'Lists/rust', message: 'hi', wait: -1 }],
    [['clone', 'ssh://h/~/Mail', 'dst', '--name', 'laptop'], { src: 'ssh://h/~/Mail', dir: 'dst', name: 'laptop' }],
    [['init'], {}],
    [['log', '-n', '3', '--folder=INBOX'], { n: 3, folder: 'INBOX', messages: [] }],
    [['log', 'K1', 'K2', '--message', '<id@x>', 'K3'], { messages: ['K1', 'K2'], message: ['<id@x>', 'K3'] }],
  ];
  it.each(cases)('%j', (args, expected) => {
    expect(argvOf(args)).toEqual(expected);
  });

  it('asks for help or the version instead of running', () => {
    expect(parseCommandLine(['--version']).kind).toBe('version');
    expect(parseCommandLine(['clone', '--help']).kind).toBe('help');
    expect(parseCommandLine(['account', '-h']).kind).toBe('help');
  });

  it.each([
    [['commit', '--dry-run']],
    [['log', '-n', '1x']],
    [['deliver', '--wait', '']],
    [['watch', '--interval']],
    [['demo', 'extra']],
    [['account', 'remove']],
  ])('%j is a usage error', (args) => {
    expect(() => parseCommandLine(args)).toThrow(UsageError);
  });

  it("every verb's help has a usage line, examples and its exit statuses, the same from help VERB and VERB --help", () => {
    const help = (args: string[]): string => {
      const r = parseCommandLine(args);
      if (r.kind !== 'help') throw new Error(`expected help, got ${r.kind}`);
      return r.text;
    };
    const leaves = COMMANDS.flatMap((v) => (v.verbs ? v.verbs.map((s) => [v.name, s.name]) : [[v.name]]));
    for (const words of leaves) {
      const text = help(['help', ...words]);
      expect(help([...words, '--help'])).toBe(text);
      expect(text).toMatch(new RegExp(`^usage: mailgit ${words.join(' ')}\\b`, 'm'));
      expect(text).toMatch(/^Examples:\n {2}mailgit /m);
      expect(text).toMatch(/^Exit status:\n {3}0 {2}success\n/m);
      expect(text).toMatch(/^ {2}64 {2}usage error/m);
    }
  });
});
