#!/bin/sh
# `itera train` and `itera runs` as a user drives them: a short run with a
# JSON summary, then list / show / metrics --csv / tag / note / delete, and
# the errors for a run without a length and for a corpus too small.
# usage: train_runs_test.sh ITERA
set -eu
itera=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
export ITERA_DATA_DIR="$d/data"
db="$d/runs.sqlite"
fail() { echo "FAIL: $*"; exit 1; }

awk 'BEGIN { srand(3); split("call me ishmael some years ago never mind how long precisely", w, " ");
             for (i = 0; i < 12000; i++) { printf "%s%s", w[int(rand() * 11) + 1], (i % 13 == 12) ? ".\n" : " ";
                                           if (i % 400 == 399) printf "\n" } }' > "$d/corpus.txt"

out=$("$itera" train --preset micro --data "$d/corpus.txt" --tokenizer byte --steps 30 --batch-size 4 \
        --seq-len 32 --eval-every 10 --checkpoint-every 10 --threads 1 --json --db "$db" --name smoke 2>/dev/null)
for key in run_id steps tokens train_loss val_loss val_perplexity bits_per_byte best_checkpoint \
           latest_checkpoint tokens_per_s xz_bits_per_byte; do
  echo "$out" | grep -q "\"$key\"" || fail "JSON summary lacks $key: $out"
done
echo "$out" | grep -q '"steps": 30' || fail "steps: $out"
echo "$out" | grep -q '"status": "finished"' || fail "status: $out"
latest=$(echo "$out" | sed -n 's/.*"latest_checkpoint": "\(.*\)".*/\1/p')
[ -f "$latest" ] || fail "latest checkpoint $latest missing"

"$itera" runs list --db "$db" | grep -q '^1 *finished *smoke *micro *30 ' || fail "runs list: $("$itera" runs list --db "$db")"
"$itera" runs tag 1 baseline --db "$db"
"$itera" runs note 1 "first try" --db "$db"
"$itera" runs rename 1 "smoke (renamed)" --db "$db"
"$itera" runs show 1 --db "$db" | grep -q 'smoke (renamed)' || fail "rename not shown"
msg=$("$itera" runs rename 1 "  " --db "$db" 2>&1) && fail "blank name accepted"
echo "$msg" | grep -q "must not be empty" || fail "blank name message: $msg"
"$itera" runs rename 1 smoke --db "$db"
show=$("$itera" runs show 1 --db "$db")
echo "$show" | grep -q '^tags *baseline' || fail "tag not shown"
echo "$show" | grep -q '^notes *first try' || fail "note not shown"
echo "$show" | grep -q 'best *step' || fail "best checkpoint not listed"
csv=$("$itera" runs metrics 1 --name val_loss --csv --db "$db")
[ "$(echo "$csv" | head -1)" = "step,tokens,wall_s,name,value" ] || fail "CSV header: $csv"
[ "$(echo "$csv" | wc -l)" -eq 5 ] || fail "val_loss at steps 0,10,20,30 expected: $csv"

# Errors name what is wrong and change nothing.
msg=$("$itera" train --data "$d/corpus.txt" --tokenizer byte --db "$db" 2>&1) && fail "no length accepted"
echo "$msg" | grep -q "give the run a length" || fail "no-length message: $msg"
msg=$("$itera" train --preset micro --data "$d/corpus.txt" --tokenizer byte --steps 5 --seq-len 500000 \
        --db "$db" --no-baseline 2>&1) && fail "huge seq-len accepted"
echo "$msg" | grep -q "one training sequence needs seq_len + 1 = 500001" || fail "too-small message: $msg"
msg=$("$itera" train --preset micro --data "$d/corpus.txt" --tokenizer byte --steps 5 --precision fp16 \
        --db "$db" --no-baseline 2>&1) && fail "precision fp16 accepted"
echo "$msg" | grep -q -- '--precision must be fp32 or bf16, got "fp16"' || fail "precision message: $msg"
msg=$("$itera" runs show 99 --db "$db" 2>&1) && fail "missing run accepted"
echo "$msg" | grep -q "no run 99" || fail "missing-run message: $msg"
echo "not a database" > "$d/bad.sqlite"
msg=$("$itera" runs list --db "$d/bad.sqlite" 2>&1) && fail "bad database accepted"
echo "$msg" | grep -q "not an SQLite database" || fail "bad-database message: $msg"

# Everything from a config file, including the data.
cat > "$d/run.json" <<JSON
{"data": {"corpus": "$d/corpus.txt", "tokenizer": "byte"}, "preset": "micro", "steps": 6,
 "batch_size": 2, "seq_len": 16, "eval_every": 3, "lr": 0.001}
JSON
"$itera" train --config "$d/run.json" --db "$db" --no-baseline --json 2>/dev/null | grep -q '"steps": 6' ||
  fail "config run"
"$itera" runs show 2 --db "$db" | grep -q '"lr": 0.001' || fail "config lr not stored"

# Ctrl-C (SIGINT) stops after the current step with a checkpoint; exit code 130.
"$itera" train --preset micro --data "$d/corpus.txt" --tokenizer byte --steps 1000000 --batch-size 2 \
  --seq-len 16 --db "$db" --no-baseline > "$d/int.out" 2>&1 &
pid=$!
sleep 3
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || fail "exit code after Ctrl-C: $rc ($(cat "$d/int.out"))"
grep -q "resume with: itera train --resume 3" "$d/int.out" || fail "no resume hint: $(cat "$d/int.out")"
"$itera" runs show 3 --db "$db" | grep -q '^status *stopped' || fail "not stopped"
"$itera" runs show 3 --db "$db" | grep -q 'latest *step' || fail "no checkpoint after Ctrl-C"

"$itera" runs delete 1 --db "$db" | grep -q "deleted run 1" || fail "delete"
[ ! -e "$(dirname "$(dirname "$latest")")" ] || fail "run folder left behind"
echo ok
