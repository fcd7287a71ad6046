/**
 * The man page is made from the command table: the committed man/mailgit.1 is what the
 * generator writes now, it names every verb and option, and groff reads it without a warning.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, EXIT_STATUSES, type VerbSpec } from '../../src/cli/commands.js';
import { manPage } from '../../src/cli/manPage.js';

const ROOT = resolve(__dirname, '../..');
const page = readFileSync(resolve(ROOT, 'man/mailgit.1'), 'utf8');
const leaves = (verbs: VerbSpec[], prefix: string): [string, VerbSpec][] =>
  verbs.flatMap((v): [string, VerbSpec][] => (v.verbs ? leaves(v.verbs, `${prefix}${v.name} `) : [[`${prefix}${v.name}`, v]]));

describe('man/mailgit.1', () => {
  it('is what the generator writes from the table (npm run build regenerates it)', () => {
    const { version } = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(page).toBe(manPage(version));
  });

  it('has every verb with its options, and every exit status', () => {
    for (const [name, verb] of leaves(COMMANDS, '')) {
      expect(page).toContain(`.SS "mailgit ${name.replace(/-/g, '\\-')}`);
      for (const option of Object.keys(verb.options ?? {}))
        expect(page).toContain(option.length === 1 ? `\\-${option}` : `\\-\\-${option.replace(/-/g, '\\-')}`);
    }
    for (const [code] of EXIT_STATUSES) expect(page).toMatch(new RegExp(`^\\.B ${code}$`, 'm'));
  });

  it.skipIf(spawnSync('groff', ['--version']).status !== 0)('renders without a groff warning', () => {
    const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', resolve(ROOT, 'man/mailgit.1')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });
});

describe('README', () => {
  it('lists every exit status', () => {
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    const list = /Errors are one line on stderr and a sysexits\(3\) status: ([\s\S]*?)\n\n/.exec(readme)?.[1] ?? '';
    for (const [code] of EXIT_STATUSES) expect(list).toMatch(new RegExp(`\\b${code} `));
  });
});
