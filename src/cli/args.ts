/**
 * The command line, read by yargs against the command table: which verb, its arguments
 * with camelCase names, or help, the version or a completion script to print.
 *
 * Nothing here prints or exits; every mistake is a {@link UsageError} (exit 64) of one line.
 */
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { UsageError } from '../util/errors.js';
import { COMMANDS, EXIT_STATUSES, GLOBAL_OPTIONS, type Handler, type OptionSpec, type PositionalSpec, type VerbSpec } from './commands.js';

/** What the command line asks for. */
export type Request = { kind: 'help'; text: string } | { kind: 'version' } | { kind: 'run'; load: () => Promise<Handler>; argv: Record<string, unknown> };

// yargs' CommonJS build is one bundled file; its ES module entry is a tree of small modules
// that took longer to load (docs/design.md, "Command line").
const yargs = createRequire(import.meta.url)('yargs/yargs') as (args: string[]) => Argv;

const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const flagName = (name: string): string => (name.length === 1 ? `-${name}` : `--${name}`);

/** Edit distance with swapped neighbours counting one (`snyc`, `sync`), for suggesting a verb or option. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The name among `names` close enough to `word` to be what was meant, if any. */
function nearest(word: string, names: string[]): string | undefined {
  const best = names
    .filter((name) => name.length > 1)
    .map((name) => ({ name, d: distance(word, name) }))
    .sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(1, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

/** The option named by `arg` (`--name`, `--no-name`, `--name=v`, `-x`) in `options`, if any. */
function lookup(arg: string, options: Record<string, OptionSpec>): [string, OptionSpec] | undefined {
  if (arg.startsWith('--')) {
    const name = arg.slice(2).split('=')[0]!;
    const plain = name.startsWith('no-') && options[name.slice(3)]?.type === 'boolean' ? name.slice(3) : name;
    return options[plain] ? [plain, options[plain]] : undefined;
  }
  return Object.entries(options).find(([name, o]) => (o.short ?? (name.length === 1 ? name : '')) === arg[1]);
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

/** `"account add "` for a path of verbs, `""` for none. */
function pathName(path: VerbSpec[]): string {
  return path.map((v) => `${v.name} `).join('');
}

/**
 * The verbs the command line names: the first words that are neither options nor the value
 * of a global option. An unknown one is refused with the nearest verb suggested.
 */
function verbPath(args: string[]): VerbSpec[] {
  const path: VerbSpec[] = [];
  let verbs: VerbSpec[] | undefined = COMMANDS;
  for (let i = 0; i < args.length && verbs && args[i] !== '--'; i++) {
    const arg = args[i]!;
    if (arg.startsWith('-') && arg !== '-') {
      if (takesNext(arg)) i++;
      continue;
    }
    if (path.length === 0 && arg === 'help') return path;
    const verb: VerbSpec | undefined = verbs.find((v) => v.name === arg);
    if (!verb) {
      const near = nearest(
        arg,
        verbs.map((v) => v.name),
      );
      const see = `see "mailgit ${pathName(path)}--help"`;
      throw new UsageError(`unknown command "${pathName(path)}${arg}"${near ? ` (did you mean "${near}"?)` : ''}; ${see}`);
    }
    path.push(verb);
    verbs = verb.verbs;
  }
  return path;
}

/**
 * Refuses what yargs would quietly resolve: an option given twice (`--tls --no-tls`,
 * `--port 1 --port 2`; the last one would win) and a value given to a switch
 * (`--json=yes`, which yargs reads as false).
 */
function checkRepeats(args: string[], options: Record<string, OptionSpec>): void {
  const seen = new Map<string, string>();
  for (const arg of args) {
    if (arg === '--') break;
    const found = /^--[^-]|^-[^-\d]$/.test(arg) ? lookup(arg, options) : undefined;
    if (!found) continue;
    const [name, o] = found;
    const spelt = arg.split('=')[0]!;
    if (o.type === 'boolean' && arg.includes('=')) throw new UsageError(`option ${spelt} takes no value`);
    if (o.array) continue;
    const before = seen.get(name);
    if (before !== undefined) {
      throw new UsageError(before === spelt ? `option ${spelt} given twice; give it once` : `options ${before} and ${spelt} contradict each other; give one`);
    }
    seen.set(name, spelt);
  }
}

/** Turns what yargs refuses into one line for a person, naming options as they are typed. */
function usageFromYargs(msg: string, args: string[], path: VerbSpec[]): UsageError {
  const verb = path.at(-1);
  const see = `see "mailgit ${pathName(path)}--help"`;
  const options = { ...GLOBAL_OPTIONS, ...(verb?.options ?? {}) };
  const unknown = /^Unknown arguments?: ([^,\n]+)/.exec(msg)?.[1];
  if (unknown !== undefined) {
    const typed = args.find((a) => a.replace(/^--?/, '').split('=')[0] === unknown && a.startsWith('-'));
    if (!typed) return new UsageError(`unexpected argument ${JSON.stringify(unknown)}; ${see}`);
    const near = nearest(unknown, Object.keys(options));
    return new UsageError(`unknown option ${typed.split('=')[0]}${near ? ` (did you mean ${flagName(near)}?)` : ''}; ${see}`);
  }
  const missing = /^Missing required arguments?: ([^,\n]+)/.exec(msg)?.[1];
  if (missing !== undefined) {
    const positional = verb?.positionals?.some((p) => p.name === missing);
    return new UsageError(`${positional ? `missing argument ${missing.toUpperCase()}` : `option ${flagName(missing)} is required`}; ${see}`);
  }
  const needsValue = /^Not enough arguments following: (\S+)/.exec(msg)?.[1];
  if (needsValue !== undefined) return new UsageError(`option ${flagName(needsValue)} needs a value`);
  const exclusive = /^Arguments (\S+) and (\S+) are mutually exclusive/.exec(msg);
  if (exclusive) return new UsageError(`${flagName(exclusive[1]!)} and ${flagName(exclusive[2]!)} cannot be used together; ${see}`);
  const got = /^Not enough non-option arguments: got (\d+)/.exec(msg)?.[1];
  if (got !== undefined) {
    const p = (verb?.positionals ?? []).filter((x) => x.required)[Number(got)];
    return new UsageError(`missing argument ${p ? p.name.toUpperCase() : ''}; ${see}`);
  }
  return new UsageError(`${msg.split('\n')[0]}; ${see}`);
}

/** One option's help line: its description with the value it takes by default or the ones it accepts. */
function describeOption(o: OptionSpec): string {
  const notes = [
    o.choices ? `one of ${o.choices.join(', ')}` : '',
    o.required ? 'required' : '',
    o.default !== undefined && o.type !== 'boolean' ? `default ${o.default}` : '',
    o.array ? 'repeatable' : '',
  ].filter((n) => n && !o.description.includes(n));
  return notes.length ? `${o.description} (${notes.join('; ')})` : o.description;
}

function addOptions(y: Argv, options: Record<string, OptionSpec>, global: boolean): void {
  for (const [name, o] of Object.entries(options)) {
    if (name === 'help' || name === 'version') continue;
    y.option(name, {
      // Numbers and choices are checked by `convert`, for one clear line each; a number has
      // no yargs type, which would turn "ten" into NaN and help would call it a string.
      ...(o.type === 'number' ? {} : { type: o.type }),
      ...(o.array ? { array: true } : {}),
      ...(o.short && o.short !== name ? { alias: o.short } : {}),
      ...(o.type !== 'boolean' && !o.array ? { requiresArg: true } : {}),
      ...(o.required ? { demandOption: true } : {}),
      ...(o.conflicts ? { conflicts: o.conflicts } : {}),
      describe: describeOption(o),
      global,
    });
  }
}

/** `mailgit sync [REMOTES...] [OPTIONS]`, for help and the man page. */
export function usageLine(verb: VerbSpec, parents: VerbSpec[]): string {
  const words = (verb.positionals ?? []).map((p) => {
    const word = p.name.toUpperCase() + (p.variadic ? '...' : '');
    return p.required ? word : `[${word}]`;
  });
  const tail = verb.verbs ? ['COMMAND'] : Object.keys(verb.options ?? {}).length ? ['[OPTIONS]'] : [];
  return ['mailgit', ...[...parents, verb].map((v) => v.name), ...words, ...tail].join(' ');
}

/**
 * A positional as yargs reads it: always optional, because a required one may come after
 * `--` (`mailgit undo -- -odd`), which yargs leaves in `_`; `handlerArgs` checks it.
 */
function positionalWord(p: PositionalSpec): string {
  return `[${p.name}${p.variadic ? '..' : ''}]`;
}

/** The exit statuses a verb's help lists: 0, 64 and the verb's own. */
export function exitStatuses(verb: VerbSpec): [number, string][] {
  const general = new Map(EXIT_STATUSES);
  const own = (verb.exits ?? []).map((e): [number, string] => (typeof e === 'number' ? [e, general.get(e) ?? ''] : e));
  const all: [number, string][] = [[0, general.get(0)!], [64, general.get(64)!], ...own];
  return all.sort((a, b) => a[0] - b[0]);
}

/** What a parse found: the verbs whose handler ran, with yargs' argv. */
interface Found {
  path?: VerbSpec[];
  argv?: Record<string, unknown>;
  help?: string[];
}

/** Adds `verb` (and its own verbs) to `y`, below the verbs `parents`; the handler notes in `found` that it ran. */
function addVerb(y: Argv, verb: VerbSpec, { parents, found }: { parents: VerbSpec[]; found: Found }): void {
  const path = [...parents, verb];
  const command = [verb.name, ...(verb.positionals ?? []).map(positionalWord)].join(' ');
  y.command(
    command,
    verb.description,
    (b) => {
      b.usage(`usage: ${usageLine(verb, parents)}\n\n${verb.description}`);
      for (const p of verb.positionals ?? []) b.positional(p.name, { type: 'string', describe: p.description ?? '', ...(p.variadic ? { array: true } : {}) });
      for (const sub of verb.verbs ?? []) addVerb(b, sub, { parents: path, found });
      addOptions(b, verb.options ?? {}, false);
      for (const [line, what] of verb.examples ?? []) b.example(line, what);
      if (verb.load)
        b.epilogue(
          `Exit status:\n${exitStatuses(verb)
            .map(([c, what]) => `  ${String(c).padStart(2)}  ${what}`)
            .join('\n')}`,
        );
      return b;
    },
    (argv) => {
      found.path = path;
      found.argv = argv;
    },
  );
}

/** The yargs parser for the whole table; a verb's options are added only when it is named. */
function parser(found: Found): Argv {
  const y = yargs([])
    .scriptName('mailgit')
    .usage('usage: mailgit [-C DIR] [-v] [--json] COMMAND [ARGS...]')
    .strict()
    .exitProcess(false)
    .version(false)
    .help('help')
    .alias('help', 'h')
    // Piped help (a pager, grep, a test) is not wrapped.
    .wrap(process.stdout.isTTY ? Math.min(120, process.stdout.columns) : null)
    .parserConfiguration({ 'strip-aliased': true })
    .completion('completion', 'print a completion script for bash or zsh (the shell in $SHELL)');
  addOptions(y, GLOBAL_OPTIONS, true);
  y.option('version', { type: 'boolean', describe: GLOBAL_OPTIONS.version!.description });
  y.group(
    Object.keys(GLOBAL_OPTIONS).filter((n) => n !== 'help'),
    'Global options:',
  );
  y.command(
    'help [command..]',
    'show help for mailgit or a command',
    () => {},
    (argv) => {
      found.help = (argv.command as string[] | undefined) ?? [];
    },
  );
  for (const verb of COMMANDS) addVerb(y, verb, { parents: [], found });
  return y.epilogue(`"mailgit help COMMAND" shows a command's arguments, options, examples and exit statuses.`);
}

/** Checks and converts one option's parsed value (numbers, ranges, choices, empty lists). */
function convert(name: string, o: OptionSpec, raw: unknown): unknown {
  const flag = flagName(name);
  if (o.array) {
    const list = (raw as unknown[]).map(String).filter((v) => v !== '');
    if (list.length === 0 && !o.allowEmpty) throw new UsageError(`option ${flag} needs a value`);
    return list;
  }
  if (o.type === 'number') {
    const n = Number(raw);
    if (String(raw).trim() === '' || !Number.isFinite(n)) throw new UsageError(`option ${flag} wants a number, got ${JSON.stringify(raw)}`);
    if (o.integer && !Number.isInteger(n)) throw new UsageError(`option ${flag} wants a whole number, got ${JSON.stringify(raw)}`);
    if ((o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max)) {
      const range = o.max === undefined ? `at least ${o.min}` : o.min === undefined ? `at most ${o.max}` : `from ${o.min} to ${o.max}`;
      throw new UsageError(`option ${flag} wants a number ${range}, got ${n}`);
    }
    return n;
  }
  if (o.choices && !o.choices.includes(raw as string)) throw new UsageError(`option ${flag} wants one of ${o.choices.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw;
}

/** The handler's arguments: every option of the table by its camelCase name, positionals by name. */
function handlerArgs(path: VerbSpec[], parsed: Record<string, unknown>): Record<string, unknown> {
  const verb = path.at(-1)!;
  const see = `see "mailgit ${pathName(path)}--help"`;
  const argv: Record<string, unknown> = {};
  for (const [name, o] of Object.entries({ ...GLOBAL_OPTIONS, ...(verb.options ?? {}) })) {
    if (name === 'help' || name === 'version') continue;
    const raw = parsed[camel(name)];
    if (raw !== undefined) argv[camel(name)] = convert(name, o, raw);
    else if (o.default !== undefined) argv[camel(name)] = o.default;
  }
  // Words after `--` stay in yargs' `_`: they belong to a list argument (`sync -- -odd`).
  const rest = (parsed._ as unknown[]).slice(path.length).map(String);
  for (const p of verb.positionals ?? []) {
    const key = camel(p.name);
    const value = parsed[key];
    if (argv[key] !== undefined && value !== undefined) throw new UsageError(`give ${p.name.toUpperCase()} once, as an argument`);
    if (p.variadic) argv[key] = [...((value as unknown[] | undefined) ?? []).map(String), ...rest.splice(0)];
    else if (value !== undefined) argv[key] = String(value);
    else if (rest.length > 0) argv[key] = rest.shift();
    if (p.required && (argv[key] === undefined || (p.variadic && (argv[key] as string[]).length === 0)))
      throw new UsageError(`missing argument ${p.name.toUpperCase()}; ${see}`);
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}; ${see}`);
  return argv;
}

/**
 * Reads a command line (without `node` and the script) against the command table and
 * returns what it asks for, or throws a {@link UsageError}. Global options may come before
 * or after the verb; list options take every following word up to the next option; option
 * names reach the handler in camelCase (`--dry-run` as `dryRun`), positionals by name.
 */
export function parseCommandLine(args: string[]): Request {
  // `completion` prints the script; the script asks for words with --get-yargs-completions.
  const completing = args[0] === 'completion' || args[0] === '--get-yargs-completions';
  const path = completing ? [] : verbPath(args);
  const verb = path.at(-1);
  checkRepeats(args, { ...GLOBAL_OPTIONS, ...(verb?.options ?? {}) });
  const found: Found = {};
  let output = '';
  let failure: string | undefined;
  parser(found)
    .fail((msg, err) => {
      failure = msg ?? err?.message ?? 'bad command line';
    })
    .parse(args, {}, (_err, _argv, out) => {
      output = out;
    });
  if (completing) return { kind: 'help', text: output };
  if (failure !== undefined) throw usageFromYargs(failure, args, path);
  if (found.help) return parseHelp(found.help);
  if (output) return { kind: 'help', text: output.endsWith('\n') ? output : `${output}\n` };
  if (!found.path) {
    if (args.includes('--version')) return { kind: 'version' };
    throw new UsageError('name a command (see "mailgit --help")');
  }
  const leaf = found.path.at(-1)!;
  if (!leaf.load)
    throw new UsageError(`name ${/^[aeiou]/.test(leaf.name) ? 'an' : 'a'} ${leaf.name} sub-command: ${leaf.verbs!.map((v) => v.name).join(', ')}`);
  if (found.argv!.version) return { kind: 'version' };
  return { kind: 'run', load: leaf.load, argv: handlerArgs(found.path, found.argv!) };
}

/** `mailgit help [COMMAND...]`: the help `mailgit COMMAND... --help` shows. */
function parseHelp(words: string[]): Request {
  const r = parseCommandLine([...words, '--help']);
  if (r.kind !== 'help') throw new UsageError(`no help for "${words.join(' ')}"`);
  return r;
}
