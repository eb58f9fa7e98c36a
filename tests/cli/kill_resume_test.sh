#!/bin/sh
# Kills a training process with SIGKILL at random moments, several times, then
# checks that the run store is intact, the run shows as interrupted, and that
# resuming finishes it with every step recorded exactly once.
# usage: kill_resume_test.sh ITERA
set -eu
itera=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
export ITERA_DATA_DIR="$d/data"
db="$d/runs.sqlite"

# ~150 KB of made-up text, one document per line block.
awk 'BEGIN { srand(7); split("the whale sea ship captain white deep harpoon sailor wind", w, " ");
             for (i = 0; i < 25000; i++) { printf "%s%s", w[int(rand() * 10) + 1], (i % 15 == 14) ? ".\n" : " ";
                                           if (i % 300 == 299) printf "\n" } }' > "$d/corpus.txt"

common="--preset micro --tokenizer byte --batch-size 4 --seq-len 64 --steps 1500
        --checkpoint-every 25 --eval-every 100 --eval-tokens 2048 --threads 1 --no-baseline --db $db"
kills=0
for delay in 1.5 0.7 1.1 0.4 0.9; do
  if "$itera" runs show 1 --db "$db" >/dev/null 2>&1; then
    "$itera" train --resume 1 --threads 1 --no-baseline --db "$db" >/dev/null 2>&1 &
  else
    # shellcheck disable=SC2086
    "$itera" train --data "$d/corpus.txt" $common >/dev/null 2>&1 &
  fi
  pid=$!
  sleep "$delay"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null || true
  check=$(sqlite3 "$db" 'PRAGMA integrity_check')
  [ "$check" = ok ] || { echo "integrity_check after a kill: $check"; exit 1; }
done
echo "killed $kills times"
[ "$kills" -ge 3 ] || { echo "the run finished before it could be killed enough"; exit 1; }

"$itera" runs show 1 --db "$db" | grep -q '^status *interrupted' ||
  { echo "run 1 is not shown as interrupted:"; "$itera" runs show 1 --db "$db"; exit 1; }
"$itera" train --resume 1 --threads 1 --no-baseline --db "$db" >/dev/null 2>&1
"$itera" runs show 1 --db "$db" | grep -q '^status *finished' || { echo "resume did not finish"; exit 1; }
counts=$(sqlite3 "$db" "SELECT count(*) || ' ' || count(DISTINCT step) || ' ' || min(step) || ' ' || max(step)
                        FROM metrics WHERE run_id = 1 AND name = 'train_loss'")
[ "$counts" = "1500 1500 1 1500" ] || { echo "train_loss points (count distinct min max): $counts"; exit 1; }
echo "ok: $counts"
