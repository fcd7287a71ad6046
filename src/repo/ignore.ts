/**
 * What never enters history: Maildir `tmp/`, client caches and lock files. The same
 * list is written to the repo's `.gitignore` so that plain git agrees with mailgit.
 */

/** `.gitignore` lines of a mail repo. */
export const IGNORE_LINES = [
  'tmp/',
  'dovecot-uidlist',
  'dovecot-uidvalidity*',
  'dovecot.index*',
  'dovecot.list.index*',
  'dovecot.mailbox.log*',
  'dovecot-acl-list',
  '.notmuch/',
  '.mbsyncstate*',
  '.isyncuidmap.db',
  '.uidvalidity',
  '*.lock',
];

/** `.gitattributes` of a mail repo: no line-ending or text conversion, ever. */
export const ATTRIBUTES = '* -text -diff -merge -ident -filter\n';

/**
 * The one content of each root file, which steer how git (a plain `git clone` of a
 * hub, a backup) stores and checks out bytes: mailgit's own, never a peer's or an edit's.
 * Any other content is neither recorded (rootFiles.ts) nor accepted (validate.ts).
 */
export const ROOT_FILE_TEXT: Readonly<Record<string, string>> = {
  '.gitignore': `${IGNORE_LINES.join('\n')}\n`,
  '.gitattributes': ATTRIBUTES,
};

const NAME_RES = [
  /^dovecot-uidlist$/,
  /^dovecot-uidvalidity/,
  /^dovecot\.index/,
  /^dovecot\.list\.index/,
  /^dovecot\.mailbox\.log/,
  /^dovecot-acl-list$/,
  /^\.mbsyncstate/,
  /^\.isyncuidmap\.db$/,
  /^\.uidvalidity$/,
  /\.lock$/,
];

/** True for a file name (not a path) that is a cache or lock and is never recorded. */
export function isIgnoredFile(name: string): boolean {
  return NAME_RES.some((re) => re.test(name));
}

/** True for a directory name that is never walked (`tmp`, `.git`, `.notmuch`). */
export function isIgnoredDir(name: string): boolean {
  return name === 'tmp' || name === '.git' || name === '.notmuch' || name === 'node_modules';
}
