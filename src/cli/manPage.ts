/**
 * The man page, mailgit(1), written from the command table that also gives the parser and
 * `--help` their words: every verb with its arguments, options, examples and exit statuses.
 * `man/generate.mjs` writes it to `man/mailgit.1` at build time.
 */
import { exitStatuses, usageLine } from './args.js';
import { COMMANDS, EXIT_STATUSES, GLOBAL_OPTIONS, type OptionSpec, type VerbSpec } from './commands.js';

/** Text safe in a roff line: backslashes, dashes and a leading dot or quote escaped. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/, '\\&$1');
}

/** `-n, --dry-run`, `--port N`, `--folder PAT...` as the page shows an option. */
function optionFlag(name: string, o: OptionSpec): string {
  const flag = name.length === 1 ? `-${name}` : `${o.short ? `-${o.short}, ` : ''}--${name}`;
  if (o.type === 'boolean') return flag;
  const value = o.choices ? o.choices.join('|') : (o.arg ?? name.toUpperCase());
  return `${flag} ${value}${o.array ? '...' : ''}`;
}

function optionItems(options: Record<string, OptionSpec>): string[] {
  return Object.entries(options).flatMap(([name, o]) => {
    const notes = [o.required ? 'Required.' : '', o.default !== undefined && o.type !== 'boolean' ? `Default: ${o.default}.` : ''].filter(Boolean);
    return ['.TP', `.B ${roff(optionFlag(name, o))}`, roff([o.description, ...notes].join(' '))];
  });
}

/** The section of one verb that runs. */
function verbSection(verb: VerbSpec, parents: VerbSpec[]): string[] {
  const lines = [`.SS "${roff(usageLine(verb, parents))}"`, roff(verb.description)];
  for (const p of verb.positionals ?? []) lines.push('.TP', `.I ${p.name.toUpperCase()}${p.variadic ? '...' : ''}`, roff(p.description ?? ''));
  lines.push(...optionItems(verb.options ?? {}));
  if (verb.examples?.length) {
    lines.push('.PP', 'Examples:', '.RS', '.nf');
    for (const [line, what] of verb.examples) lines.push(roff(line), `    ${roff(what)}`);
    lines.push('.fi', '.RE');
  }
  lines.push(
    '.PP',
    `Exit status: ${exitStatuses(verb)
      .map(([code]) => code)
      .join(', ')} (see EXIT STATUS).`,
  );
  return lines;
}

function sections(verbs: VerbSpec[], parents: VerbSpec[]): string[] {
  return verbs.flatMap((v) => (v.verbs ? sections(v.verbs, [...parents, v]) : verbSection(v, parents)));
}

/** The whole page for `version`, in man(7) format. */
export function manPage(version: string): string {
  return [
    `.TH MAILGIT 1 "" "mailgit ${roff(version)}" "User Commands"`,
    '.SH NAME',
    'mailgit \\- every machine a complete, equal master copy of your mail: Maildir in git',
    '.SH SYNOPSIS',
    '.B mailgit',
    '[\\-C \\fIDIR\\fR] [\\-v] [\\-\\-json] \\fICOMMAND\\fR [\\fIARGS\\fR...]',
    '.SH DESCRIPTION',
    'mailgit keeps Maildir folders in a git repository and syncs replicas of it with a merge that knows Maildir:',
    'flags, moves and deletions made on several machines at once all survive, and nothing that reached a replica is lost.',
    'Mail clients (mutt, neomutt, notmuch, Dovecot) keep reading and writing the folders as before.',
    'Commands meant for cron, an MTA or a service (commit, sync, fetch, deliver) print nothing on success without a terminal unless \\-v is given.',
    '.SH GLOBAL OPTIONS',
    ...optionItems(GLOBAL_OPTIONS),
    '.SH COMMANDS',
    ...sections(COMMANDS, []),
    '.SS "mailgit help [COMMAND...]"',
    'The help of mailgit or of a command, as \\fBmailgit\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR shows it.',
    '.SS "mailgit completion"',
    'A completion script for bash or zsh (the shell named in $SHELL): \\fBmailgit completion >> ~/.bashrc\\fR.',
    '.SH EXIT STATUS',
    ...EXIT_STATUSES.flatMap(([code, what]) => ['.TP', `.B ${code}`, roff(what)]),
    '.SH ENVIRONMENT',
    '.TP',
    '.B MAILGIT_PASSWORD_\\fINAME\\fR',
    'The password of account NAME (upper\\-cased), for fetch; it is never stored.',
    '.TP',
    '.B MAILGIT_DEBUG',
    'Set to 1: a stack trace with an internal error, and Node warnings are printed.',
    '.SH SEE ALSO',
    '.BR git (1),',
    '.BR mbsync (1),',
    '.BR notmuch (1),',
    '.BR neomutt (1)',
    '',
  ].join('\n');
}
