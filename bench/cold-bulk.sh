#!/usr/bin/env bash
# A day's flag changes in one big cur/, recorded by a cold `mailgit commit`: this build
# against another build (OLD_BIN, e.g. a worktree of an older commit with its dist/ built),
# alternating on two copies of one adopted Maildir, RUNS runs each (default 3).
#
#   bench/cold-bulk.sh OLD_BIN [N] [RUNS]      N: messages in the cur/ (default 392000)
#
# Prints one line per run: wall, user and system CPU, peak RSS, the 1-minute load.
# Work goes to $TMPDIR (removed at the end unless KEEP=1).
set -euo pipefail
umask 077
OLD=${1:?usage: bench/cold-bulk.sh OLD_BIN [N] [RUNS]}
N=${2:-392000}
RUNS=${3:-3}
NEW=$(cd "$(dirname "$0")/.." && pwd)/bin/mailgit.js
W=$(mktemp -d "${TMPDIR:-/tmp}/mailgit-cold-bulk.XXXXXX")
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$W"' EXIT
python3 - "$W/new" "$N" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for d in ('cur', 'new', 'tmp', 'Archive/cur', 'Archive/new', 'Archive/tmp'):
    os.makedirs(f'{root}/{d}')
body = 'Subject: m%d\nFrom: a@example.org\nMessage-ID: <%d@example.org>\n\n' + 'x' * 700 + '\n'
for i in range(n):
    with open(f'{root}/cur/{1700000000 + i}.M{i}P1.host:2,S', 'w') as f:
        f.write(body % (i, i))
for i in range(2000):
    with open(f'{root}/Archive/cur/{1690000000 + i}.M{i}P2.host:2,S', 'w') as f:
        f.write(body % (i, i))
PY
node "$NEW" init "$W/new" --name a >/dev/null
cp -a "$W/new" "$W/old"
for run in $(seq "$RUNS"); do
  for b in new old; do
    bin=$NEW; [ $b = old ] && bin=$OLD
    # 450 flag changes (S ↔ FS), the same ones in both copies.
    python3 - "$W/$b" "$N" "$run" <<'PY'
import os, random, sys
root, n, run = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in random.Random(1000 + run).sample(range(n), 450):
    for f, t in ((':2,S', ':2,FS'), (':2,FS', ':2,S')):
        a = f'{root}/cur/{1700000000 + i}.M{i}P1.host{f}'
        if os.path.exists(a):
            os.rename(a, a[: -len(f)] + t)
            break
PY
    sleep 3
    /usr/bin/time -f "$b run $run: %e s wall, %U user %S sys, %M KB, load $(cut -d' ' -f1 /proc/loadavg)" node "$bin" -C "$W/$b" commit 2>&1 | tail -1
  done
done
