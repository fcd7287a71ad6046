/**
 * What keeps plain git from damaging a mail repo: settings only mailgit writes, in this
 * replica's own `.git`, where no peer reaches.
 *
 * - `.git/info/attributes`, read by git before (and over) any committed `.gitattributes`:
 *   no line-ending, encoding, ident or filter conversion of any path, whatever a peer
 *   committed, so every checkout and every hash is byte-exact.
 * - `.git/info/exclude`: names in `cur/` and `new/` that are not messages, so that
 *   `git status` shows only what mailgit would record.
 * - hooks that refuse what would destroy mail (a plain commit, merge, pull, rebase, any
 *   move of `main` not made by mailgit), each naming the mailgit command to use, and one
 *   that gives the folders a checkout changed back the directories git removed. mailgit's
 *   own git processes run with `core.hooksPath=/dev/null` (src/git/run.ts), so the hooks
 *   never block mailgit and cost its hot path nothing.
 */
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { RepoPaths } from '../git/run.js';

/** Attributes that override whatever a tree carries (see the module comment). */
export const INFO_ATTRIBUTES = '* -text -crlf -eol -ident -filter -diff -merge -working-tree-encoding\n';

/** The line that marks a file as mailgit's own (rewritten freely; anything else is left alone). */
const MARK = '# written by mailgit: a guard of this mail repo (see docs/design.md, "Plain git in a mail repo")';

const EXCLUDE = [MARK, '**/cur/.*', '**/new/.*', ''].join('\n');

/** Shell lines that print one refusal line and fail. */
function refuse(text: string): string {
  return `echo ${JSON.stringify(`mailgit: ${text}`).replace(/`/g, '\\`')} >&2; exit 1`;
}

const MOVE_MAIN =
  'refusing to move main with plain git in a mail repo (mail history changes only through `mailgit commit` and `mailgit sync`); files git already changed are put back by the next mailgit command';

/**
 * A shell function for the hooks: `complete_folders A B` gives every folder a path of
 * the diff between commits A and B is in, that both commits have and that git left on
 * disk, back the `cur/ new/ tmp/` it lacks. git removes a directory it emptied, so `git checkout
 * HEAD~1` then `git checkout main` (or a refused `git reset --hard HEAD~1`) can leave a
 * folder without `cur/` (its last message there went since), which clients cannot open.
 * It runs in plain git's own command, at the moment git itself changed those folders, so
 * a record still never writes into a client's folder (the `rm -rf` race, scan.ts), a
 * folder git did not touch is left alone, and a folder only one of the commits has is not
 * made whole (git removes what it wrote of it when the checkout goes back; directories of
 * ours would stay and bring a removed folder back).
 */
const COMPLETE_FOLDERS = `complete_folders() {
  git diff-tree -r --name-only -z --no-renames "$1" "$2" 2>/dev/null | tr '\\0' '\\n' |
    sed -n -e 's,/cur/[^/]*$,,p' -e 's,/new/[^/]*$,,p' -e 's,^cur/[^/]*$,.,p' -e 's,^new/[^/]*$,.,p' -e 's,/maildirfolder$,,p' |
    sort -u | while IFS= read -r f; do
      [ -d "$f" ] || continue
      for c in "$1" "$2"; do [ -n "$(git ls-tree --name-only "$c" -- "$f/maildirfolder" "$f/cur" "$f/new" 2>/dev/null)" ] || continue 2; done
      for s in cur new tmp; do [ -d "$f/$s" ] || mkdir "$f/$s"; done
    done
}`;

/**
 * A shell function for the reference-transaction hook: `complete_all` makes whole every
 * folder of the index on disk (its marker listed, one `git ls-files`; and a root Maildir
 * with `tmp/`). Run when git resets the checked-out branch to the commit it is at
 * (`git reset --hard`, `git stash`) or drops a stash entry (`git stash pop`): the reset
 * removes what the index held beyond HEAD (a staged client rename, the only message of a
 * `cur/`), the pop what the stash deleted, and no commit pair says where. git itself
 * writes into the folders at that moment (a reset writes HEAD's files back into every
 * one), so this is no new race with a client's `rm -rf`.
 */
const COMPLETE_ALL = `complete_all() {
  git ls-files -z -- ':(glob)**/maildirfolder' 2>/dev/null | tr '\\0' '\\n' | sed -n 's,/maildirfolder$,,p' |
    while IFS= read -r f; do
      [ -d "$f" ] || continue
      for s in cur new tmp; do [ -d "$f/$s" ] || mkdir "$f/$s"; done
    done
  if [ -d tmp ]; then for s in cur new; do [ -d "$s" ] || mkdir "$s"; done; fi
}`;

/** The post-checkout hook: after a checkout that moved HEAD, the folders it changed are made whole ({@link COMPLETE_FOLDERS}). */
const POST_CHECKOUT = `#!/bin/sh
${MARK}
${COMPLETE_FOLDERS}
[ "$1" = "$2" ] || complete_folders "$1" "$2"
exit 0
`;

/** Where the reference-transaction hook notes the commits it refused to move `main` to, one a line (see refusedMove.ts). */
export const REFUSED_MOVES = 'refused-moves';

/** Where the reference-transaction hook notes a stash made while a refused move is noted: `STASH TARGET`, one a line (see refusedMove.ts). */
export const STASHED_REWRITES = 'stashed-rewrites';

/**
 * A shell function for the reference-transaction hook: `note_stash S` notes stash `S`,
 * a new entry (not yet in the stash's reflog: a push, not a drop), beside the latest
 * refused target while one is noted. That stash saved git's rewrite as a change; its pop,
 * before or after the next record, takes those files again, and the record puts them
 * back (refusedMove.ts).
 */
const NOTE_STASH = `note_stash() {
  d=$(git rev-parse --absolute-git-dir 2>/dev/null) || return 0
  [ -s "$d/mailgit/${REFUSED_MOVES}" ] || return 0
  case "$1" in *[!0]*) ;; *) return 0 ;; esac
  grep -q " $1 " "$d/logs/refs/stash" 2>/dev/null && return 0
  echo "$1 $(tail -n 1 "$d/mailgit/${REFUSED_MOVES}")" >>"$d/mailgit/${STASHED_REWRITES}"
}`;

/**
 * The reference-transaction hook: refuses, before any ref moves, a `git pull` or
 * `git rebase` (recognised by git's own `GIT_REFLOG_ACTION`) and any update or deletion
 * of `refs/heads/main`. Creating a missing `main` stays possible: it is the way back
 * from a deleted branch. A refused update first appends its target commit to
 * `.git/mailgit/refused-moves`: `git reset --hard`, `git merge` and `git checkout -B`
 * write that commit's tree into the index and the work tree before they ask, and the
 * next record puts HEAD's mail back from it (refusedMove.ts); and the folders that
 * rewrite emptied are made whole at once ({@link COMPLETE_FOLDERS}), so that a client
 * can open them before that record. The same is done when git moves another branch that
 * is checked out (`git reset --hard` there), which mailgit does not record on. A stash
 * made while a refused move is noted is noted too ({@link NOTE_STASH}).
 */
const REFERENCE_TRANSACTION = `#!/bin/sh
${MARK}
[ "$1" = prepared ] || exit 0
${COMPLETE_FOLDERS}
${COMPLETE_ALL}
${NOTE_STASH}
case "$GIT_REFLOG_ACTION" in
pull*) ${refuse('refusing git pull in a mail repo (git merges mail by file name, which doubles and resurrects messages): run `mailgit sync`')} ;;
rebase*) ${refuse('refusing git rebase in a mail repo: run `mailgit sync`; if one was started, run `git rebase --abort`')} ;;
esac
head=$(git symbolic-ref -q HEAD)
while read -r old new ref; do
  if [ "$ref" != refs/heads/main ]; then
    # Another branch checked out (mailgit refuses to record there) that git moved, as
    # \`git reset --hard\` on it does after rewriting the work tree: folders made whole too.
    # \`git stash pop\` drops its entry after it changed the work tree.
    # A stash made while a refused move is noted saved git's rewrite (note_stash).
    if [ "$ref" = refs/stash ]; then complete_all </dev/null; note_stash "$new" </dev/null 2>/dev/null; fi
    [ "$ref" = "$head" ] || continue
    if [ "$old" = "$new" ]; then complete_all </dev/null; else complete_folders "$old" "$new" </dev/null; fi
    continue
  fi
  case "$new" in *[!0]*) ;; *) ${refuse(MOVE_MAIN)} ;; esac
  case "$old" in *[!0]*) ;; *) old=$(git rev-parse -q --verify refs/heads/main) || continue ;; esac
  if [ "$old" = "$new" ]; then
    [ "$ref" = "$head" ] && complete_all </dev/null
    continue
  fi
  { d=$(git rev-parse --absolute-git-dir) && mkdir -p "$d/mailgit" && echo "$new" >>"$d/mailgit/${REFUSED_MOVES}"; } 2>/dev/null
  complete_folders "$old" "$new" </dev/null
  ${refuse(MOVE_MAIN)}
done
exit 0
`;

function hook(text: string): string {
  return `#!/bin/sh\n${MARK}\n${refuse(text)}\n`;
}

/** The hooks mailgit installs, by name. */
export const HOOKS: Readonly<Record<string, string>> = {
  'reference-transaction': REFERENCE_TRANSACTION,
  'post-checkout': POST_CHECKOUT,
  'pre-commit': hook('refusing a plain git commit in a mail repo: record changes with `mailgit commit`'),
  'pre-merge-commit': hook('refusing a plain git merge in a mail repo: run `git merge --abort`, then `mailgit sync`'),
  'pre-rebase': hook('refusing git rebase in a mail repo: run `mailgit sync`'),
  'pre-applypatch': hook('refusing git am in a mail repo: run `git am --abort`'),
};

async function readOrNull(path: string): Promise<string | null> {
  return readFile(path, 'utf8').catch(() => null);
}

/** Writes `text` to `path` unless it holds something a person wrote (a file without mailgit's mark that is not git's `template`). */
async function writeOwned(path: string, { text, mode, template }: { text: string; mode: number; template?: (old: string) => boolean }): Promise<void> {
  const old = await readOrNull(path);
  if (old === text) return;
  if (old !== null && !old.includes(MARK) && !template?.(old)) return;
  await writeFileAtomic(path, text, { mode });
  await chmod(path, mode);
}

/** True for git's own template of `info/exclude` (comments only). */
function onlyComments(text: string): boolean {
  return text.split('\n').every((l) => l.trim() === '' || l.startsWith('#'));
}

/**
 * Installs the guards into a replica's `.git` (idempotent; a hook or exclude file a
 * person wrote is kept). Called by `init` and `clone` before anything is checked out,
 * and again by record for repos made before the guards existed (see gitIndex.ts).
 */
export async function installGitGuards({ gitDir }: Pick<RepoPaths, 'gitDir'>): Promise<void> {
  await mkdir(join(gitDir, 'info'), { recursive: true, mode: 0o700 });
  await mkdir(join(gitDir, 'hooks'), { recursive: true, mode: 0o700 });
  // Attributes always: they decide what bytes git stores and checks out.
  if ((await readOrNull(join(gitDir, 'info', 'attributes'))) !== INFO_ATTRIBUTES) {
    await writeFileAtomic(join(gitDir, 'info', 'attributes'), INFO_ATTRIBUTES, { mode: 0o600 });
  }
  await writeOwned(join(gitDir, 'info', 'exclude'), { text: EXCLUDE, mode: 0o600, template: onlyComments });
  for (const [name, text] of Object.entries(HOOKS)) await writeOwned(join(gitDir, 'hooks', name), { text, mode: 0o700 });
}
