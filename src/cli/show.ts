/**
 * `mailgit show X [--at T] [--raw]`: one message as it was at T (default: now, or just
 * before it was last removed), X being a key, a file name, a path or a Message-ID.
 * Headers and text body for a person; `--raw` writes the stored bytes as they are.
 */
import type { GlobalArgs } from './context.js';
import { printJson, repoFromArgs } from './context.js';
import { CatFile } from '../git/catfile.js';
import { readHead } from '../git/commit.js';
import { locate } from '../repo/locate.js';
import type { Located } from '../repo/locate.js';
import { resolveMoment } from '../repo/when.js';
import { EX, MailgitError } from '../util/errors.js';

interface ShowArgs extends GlobalArgs {
  message: string;
  at?: string;
  raw?: boolean;
}

/** A message for a person: the main headers, then the text body and a list of attachments. */
async function render(raw: Buffer): Promise<string> {
  const { simpleParser } = await import('mailparser');
  const mail = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true, skipTextToHtml: true });
  const addr = (a: typeof mail.to): string | undefined => (Array.isArray(a) ? a.map((x) => x.text).join(', ') : a?.text);
  const rows: [string, string | undefined][] = [
    ['From', mail.from?.text],
    ['To', addr(mail.to)],
    ['Cc', addr(mail.cc)],
    ['Date', mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : undefined],
    ['Subject', mail.subject],
    ['Message-ID', mail.messageId],
  ];
  const head = rows.filter(([, v]) => v).map(([k, v]) => `${k}: ${v}`);
  const files = mail.attachments.map((a) => `[attachment: ${a.filename ?? '(unnamed)'}, ${a.contentType}, ${a.size} bytes]`);
  return `${head.join('\n')}\n\n${(mail.text ?? '').replace(/\s+$/, '')}\n${files.length ? `\n${files.join('\n')}\n` : ''}`;
}

function origin(m: Located, head: string): string {
  return m.commit === head ? m.path : `${m.path} (as of ${m.commit.slice(0, 10)})`;
}

/** The `show` verb. */
export async function handler(argv: ShowArgs): Promise<void> {
  const repo = await repoFromArgs(argv);
  const head = await readHead(repo.root);
  if (!head) throw new MailgitError('no history yet: nothing to show', 'ENOHISTORY', EX.NOINPUT);
  const moment = argv.at === undefined ? { commit: head, time: null } : await resolveMoment(repo, head, argv.at);
  const found = await locate(repo, { name: argv.message, at: moment });
  const cat = new CatFile(repo.root);
  try {
    if (argv.raw) {
      for (const m of found) process.stdout.write(await cat.read(m.oid));
      return;
    }
    if (argv.json) {
      printJson(found.map((m) => ({ key: m.key, path: m.path, blob: m.oid, commit: m.commit })));
      return;
    }
    for (const [i, m] of found.entries()) {
      process.stdout.write(`${i > 0 ? '\n' : ''}# ${origin(m, head)}\n${await render(await cat.read(m.oid))}`);
    }
  } finally {
    cat.close();
  }
}
