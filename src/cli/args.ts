/**
 * The command line, read against the command table with Node's `util.parseArgs`: which
 * verb, its arguments with camelCase names, or a request for help or the version.
 *
 * Nothing here prints or exits; every mistake is a {@link UsageError} (exit 64).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../util/errors.js';
import { COMMANDS, GLOBAL_OPTIONS, type Handler, type OptionSpec, type PositionalSpec, type VerbSpec } from './commands.js';

/** What the command line asks for. */
export type Request = { kind: 'help'; text: string } | { kind: 'version' } | { kind: 'run'; load: () => Promise<Handler>; argv: Record<string, unknown> };

type ParseOptions = NonNullable<ParseArgsConfig['options']>;

const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The option named by `arg` (`--name`, `--name=v`, `-x`) in `options`, if any. */
function lookup(arg: string, options: Record<string, OptionSpec>): [string, OptionSpec] | undefined {
  if (arg.startsWith('--')) {
    const name = arg.slice(2).split('=')[0]!;
    return options[name] ? [name, options[name]] : undefined;
  }
  return Object.entries(options).find(([, o]) => o.short === arg[1]);
}

/** Whether `arg`, a global option met before the verb, takes the next word as its value. */
function takesNext(arg: string): boolean {
  if (arg.startsWith('--')) return !arg.includes('=') && lookup(arg, GLOBAL_OPTIONS)?.[1].type === 'string';
  // A group of short options (`-vC DIR`): a string option takes the rest of the group, or
  // the next word when it is last.
  for (let j = 1; j < arg.length; j++) {
    if (lookup(`-${arg[j]}`, GLOBAL_OPTIONS)?.[1].type === 'string') return j === arg.length - 1;
  }
  return false;
}

/** Edit distance, for suggesting a verb close to a mistyped one. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

function unknownVerb(word: string, verbs: VerbSpec[], path: string): UsageError {
  const near = verbs.map((v) => ({ name: v.name, d: distance(word, v.name) })).sort((x, y) => x.d - y.d)[0];
  const hint = near && near.d <= Math.max(1, Math.floor(near.name.length / 3)) ? ` (did you mean "${near.name}"?)` : '';
  return new UsageError(`unknown command "${path}${word}"${hint}; see "mailgit ${path}--help"`);
}

/**
 * Rewrites options `parseArgs` would read differently from the documented usage, as
 * `--name=value`: a list takes every following word up to the next option
 * (`--exclude Junk Trash`), one given without values becomes `--name=` (an empty value
 * removed later); a number may be negative (`--wait -1`).
 */
function normalize(args: string[], options: Record<string, OptionSpec>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const found = /^(--[^=]+|-[^-])$/.test(arg) ? lookup(arg, options) : undefined;
    if (found?.[1].type === 'number' && /^-\d/.test(args[i + 1] ?? '')) {
      out.push(`--${found[0]}=${args[++i]}`);
      continue;
    }
    if (!found?.[1].array) {
      out.push(arg);
      continue;
    }
    const values: string[] = [];
    while (i + 1 < args.length && !args[i + 1]!.startsWith('-')) values.push(args[++i]!);
    if (values.length === 0) values.push('');
    for (const v of values) out.push(`--${found[0]}=${v}`);
  }
  return out;
}

/** Turns a `parseArgs` error into one line for a person. */
function usageFromParseError(err: unknown, verb: string): UsageError {
  const e = err as NodeJS.ErrnoException;
  const see = `see "mailgit ${verb}--help"`;
  // parseArgs quotes the option first: '--host', '-f, --folder <value>', '-C, --C <value>'.
  const quoted = /'([^']*)'/.exec(e.message)?.[1] ?? '';
  const opt = /--[^\s,=]{2,}/.exec(quoted)?.[0] ?? /-[^\s,=]+/.exec(quoted)?.[0] ?? quoted;
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new UsageError(`unknown option ${opt}; ${see}`);
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/does not take an argument/.test(e.message)) return new UsageError(`option ${opt} takes no value`);
    if (/ambiguous/.test(e.message)) return new UsageError(`option ${opt} needs a value (for a value starting with "-", write ${opt}=VALUE)`);
    return new UsageError(`option ${opt} needs a value`);
  }
  return new UsageError(`${e.message.split('\n')[0]}; ${see}`);
}

function toParseArgs(options: Record<string, OptionSpec>): ParseOptions {
  const out: ParseOptions = {};
  for (const [name, o] of Object.entries(options)) {
    out[name] = { type: o.type === 'boolean' ? 'boolean' : 'string', ...(o.short ? { short: o.short } : {}), ...(o.array ? { multiple: true } : {}) };
  }
  return out;
}

/** Checks and converts one option's parsed value (numbers, choices, empty lists). */
function convert(name: string, o: OptionSpec, raw: unknown): unknown {
  if (o.array) {
    const list = (raw as string[]).filter((v) => v !== '');
    if (list.length === 0 && !o.allowEmpty) throw new UsageError(`option --${name} needs a value`);
    return list;
  }
  if (o.type === 'number') {
    const n = Number(raw);
    if ((raw as string).trim() === '' || !Number.isFinite(n))
      throw new UsageError(`option ${name.length === 1 ? '-' : '--'}${name} wants a number, got ${JSON.stringify(raw)}`);
    return n;
  }
  if (o.choices && !o.choices.includes(raw as string))
    throw new UsageError(`option --${name} wants one of ${o.choices.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw;
}

/** Assigns positional words to the verb's named arguments. */
function assignPositionals(words: string[], specs: PositionalSpec[], argv: Record<string, unknown>, verb: string): void {
  let k = 0;
  for (const p of specs) {
    if (p.variadic) {
      if (p.required && k >= words.length) throw new UsageError(`missing argument ${p.name.toUpperCase()}; see "mailgit ${verb}--help"`);
      argv[camel(p.name)] = words.slice(k);
      k = words.length;
    } else if (k < words.length) argv[camel(p.name)] = words[k++];
    else if (p.required) throw new UsageError(`missing argument ${p.name.toUpperCase()}; see "mailgit ${verb}--help"`);
  }
  if (k < words.length) throw new UsageError(`unexpected argument ${JSON.stringify(words[k])}; see "mailgit ${verb}--help"`);
}

/**
 * Reads a command line (without `node` and the script) against the command table and
 * returns what it asks for, or throws a {@link UsageError}. Global options may come before
 * or after the verb; list options take every following word up to the next option; option
 * names reach the handler in camelCase (`--dry-run` as `dryRun`), positionals by name.
 */
export function parseCommandLine(args: string[]): Request {
  // The verb (and sub-verb) is the first word that is neither an option nor the value of a
  // global option; only global options may come before it.
  const path: VerbSpec[] = [];
  const rest: string[] = [];
  let verbs: VerbSpec[] | undefined = COMMANDS;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!verbs || arg === '--') {
      rest.push(...args.slice(i));
      break;
    }
    if (arg.startsWith('-') && arg !== '-') {
      rest.push(arg);
      if (takesNext(arg) && i + 1 < args.length) rest.push(args[++i]!);
      continue;
    }
    const verb: VerbSpec | undefined = verbs.find((v) => v.name === arg);
    if (!verb) throw unknownVerb(arg, verbs, pathName(path));
    path.push(verb);
    verbs = verb.verbs;
  }

  const verb = path.at(-1);
  const name = pathName(path);
  const own = verb?.load ? (verb.options ?? {}) : {};
  const options = { ...GLOBAL_OPTIONS, ...own };
  let parsed;
  try {
    parsed = parseArgs({ args: normalize(rest, options), options: toParseArgs(options), strict: true, allowPositionals: true, allowNegative: true });
  } catch (err) {
    throw usageFromParseError(err, name);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help', text: helpText(path) };
  if (values.version) return { kind: 'version' };
  if (!verb?.load) {
    if (!verb) throw new UsageError('name a command (see "mailgit --help")');
    throw new UsageError(`name ${/^[aeiou]/.test(verb.name) ? 'an' : 'a'} ${verb.name} sub-command: ${verb.verbs!.map((v) => v.name).join(', ')}`);
  }

  const argv: Record<string, unknown> = {};
  for (const [key, o] of Object.entries(options)) {
    if (key === 'help' || key === 'version') continue;
    const raw = values[key];
    if (raw !== undefined) argv[camel(key)] = convert(key, o, raw);
    else if (o.default !== undefined) argv[camel(key)] = o.default;
    else if (o.required) throw new UsageError(`option --${key} is required; see "mailgit ${name}--help"`);
  }
  assignPositionals(positionals, verb.positionals ?? [], argv, name);
  return { kind: 'run', load: verb.load, argv };
}

/** `"account add "` for a path of verbs, `""` for none. */
function pathName(path: VerbSpec[]): string {
  return path.map((v) => `${v.name} `).join('');
}

function columns(rows: [string, string][]): string {
  const width = Math.min(28, Math.max(...rows.map(([l]) => l.length)) + 2);
  return rows.map(([l, r]) => `  ${l.length + 2 > width ? `${l}  ` : l.padEnd(width)}${r}\n`).join('');
}

function optionRows(options: Record<string, OptionSpec>): [string, string][] {
  return Object.entries(options).map(([name, o]) => {
    const flag = name.length === 1 ? `-${name}` : `${o.short ? `-${o.short}, ` : ''}--${name}`;
    const value = o.choices ? o.choices.join('|') : (o.arg ?? name.toUpperCase());
    const arg = o.type === 'boolean' ? '' : o.array ? (o.allowEmpty ? ` [${value}...]` : ` ${value}...`) : ` ${value}`;
    const notes = o.required ? ' (required)' : o.default !== undefined && o.type !== 'boolean' ? ` (default ${o.default})` : '';
    return [flag + arg, o.description + notes];
  });
}

function positionalUsage(p: PositionalSpec): string {
  const word = p.name.toUpperCase() + (p.variadic ? '...' : '');
  return p.required ? word : `[${word}]`;
}

/** Leaf verbs under `verbs` with their full names, for the command list. */
function leaves(verbs: VerbSpec[], prefix: string): [string, string][] {
  return verbs.flatMap((v): [string, string][] => (v.verbs ? leaves(v.verbs, `${prefix}${v.name} `) : [[`${prefix}${v.name}`, v.description]]));
}

/**
 * Help for the program (an empty path), a group of verbs (`account`) or one verb, made
 * from the command table.
 */
export function helpText(path: VerbSpec[]): string {
  const verb = path.at(-1);
  const name = pathName(path);
  const globals = columns(optionRows(GLOBAL_OPTIONS));
  if (!verb?.load) {
    const verbs = verb?.verbs ?? COMMANDS;
    return (
      `usage: mailgit [-C DIR] [-v] [--json] ${name}COMMAND [ARGS...]\n\n` +
      (verb ? `${verb.description}\n\n` : '') +
      `commands:\n${columns(leaves(verbs, name))}\n` +
      `global options:\n${globals}\n` +
      `"mailgit ${name}COMMAND --help" shows a command's arguments and options.\n`
    );
  }
  const pos = verb.positionals ?? [];
  const own = Object.keys(verb.options ?? {}).length > 0;
  return (
    `usage: mailgit ${name}${pos.map((p) => `${positionalUsage(p)} `).join('')}${own ? '[OPTIONS]' : ''}`.trimEnd() +
    `\n\n${verb.description}\n\n` +
    (pos.length ? `arguments:\n${columns(pos.map((p) => [positionalUsage(p), p.description ?? '']))}\n` : '') +
    (own ? `options:\n${columns(optionRows(verb.options!))}\n` : '') +
    `global options:\n${globals}`
  );
}
