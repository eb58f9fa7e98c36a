#!/bin/sh
# `itera prune` and `itera distill` as a user drives them on a small trained
# run: the pruned file is a smaller spec model that works on its own, a
# fine-tune is a run linked to it, a student is linked to its teacher and has
# a baseline with the same steps, all of them land in the compression report,
# and impossible requests are named.
# usage: prune_distill_test.sh ITERA
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
"$itera" train --preset micro --data "$d/corpus.txt" --tokenizer byte --steps 40 --batch-size 8 \
  --seq-len 32 --eval-every 20 --threads 1 --db "$db" --no-baseline --json > /dev/null 2>&1 || fail "training"

# Pruning: experts, FFN units and SSM channels at once; the result is smaller and measured.
j=$("$itera" prune run:1 --db "$db" --experts 3 --ffn-keep 0.5 --channels-keep 0.5 \
     --calibration-tokens 1024 --max-tokens 2000 --threads 1 --out "$d/small.safetensors" --json) ||
  fail "prune"
for key in pruning experts delta_loss load perplexity delta_ppl_pct kld ratio params source_params compression_id; do
  echo "$j" | grep -q "\"$key\"" || fail "prune --json lacks $key"
done
"$itera" inspect "$d/small.safetensors" --json > "$d/inspect.json"
grep -q '"layers.1.ffn.experts.2.w1.weight"' "$d/inspect.json" || fail "expert 2 missing"
grep -q '"layers.1.ffn.experts.3.w1.weight"' "$d/inspect.json" && fail "a fourth expert is still stored"
"$itera" model info --checkpoint "$d/small.safetensors" > "$d/info.txt"
grep -q "experts *3 (top 2), width 64$" "$d/info.txt" || fail "not 3 experts of width 64: $(cat "$d/info.txt")"
grep -q "inner (di) 64$" "$d/info.txt" || fail "di not 64: $(cat "$d/info.txt")"
"$itera" generate "$d/small.safetensors" --prompt "call me" --max-tokens 8 --seed 1 > /dev/null 2>&1 ||
  fail "generate from the pruned file"

# A fine-tune: a run linked to the untuned file, both files measured.
j=$("$itera" prune run:1 --db "$db" --ffn-keep 0.75 --finetune-steps 6 --calibration-tokens 1024 \
     --max-tokens 2000 --threads 1 --out "$d/tuned.safetensors" --json) || fail "prune with fine-tune"
echo "$j" | grep -q '"finetune_run_id": 2' || fail "fine-tune run id: $j"
[ -s "$d/tuned.untuned.safetensors" ] || fail "the untuned file is not kept"
"$itera" runs show 2 --db "$db" > "$d/show.txt"
grep -q "fine-tune of run 1" "$d/show.txt" || fail "runs show lacks the link: $(cat "$d/show.txt")"

# Distillation: a student linked to its teacher, and a baseline with the same steps.
j=$("$itera" distill --teacher run:1 --db "$db" --student-preset micro --steps 8 --batch-size 4 \
     --seq-len 32 --eval-every 4 --max-tokens 2000 --threads 1 --json) || fail "distill"
echo "$j" | grep -q '"baseline"' || fail "distill has no baseline: $j"
for key in distillation alpha temperature perplexity kld run_id; do
  echo "$j" | grep -q "\"$key\"" || fail "distill --json lacks $key"
done
"$itera" runs show 3 --db "$db" | grep -q "teacher: run 1" || fail "student not linked to its teacher"
"$itera" runs metrics 3 --db "$db" --name distill_kl | grep -q "distill_kl" || fail "no distill_kl metric"
s3=$("$itera" runs metrics 3 --db "$db" --name train_loss --csv | grep -c '^[0-9]')
s4=$("$itera" runs metrics 4 --db "$db" --name train_loss --csv | grep -c '^[0-9]')
[ "$s3" = 8 ] && [ "$s4" = 8 ] || fail "student and baseline steps differ: $s3 vs $s4"

# All in the compression report.
"$itera" report --compression run:1 --db "$db" --out "$d/c.md" > /dev/null || fail "compression report"
for m in prune prune+finetune distill distill-baseline; do
  grep -q "^| $m |" "$d/c.md" || fail "report lacks a $m row"
done
grep -q "^### Pruning of small.safetensors" "$d/c.md" || fail "report lacks the pruning section"
grep -q "^### Distilled student distilled-micro-run3.safetensors" "$d/c.md" || fail "report lacks the student"

# Impossible requests, named.
msg=$("$itera" prune run:1 --db "$db" --channels-keep 0.75 --out "$d/x.safetensors" 2>&1) &&
  fail "channels 0.75 accepted"
echo "$msg" | grep -q "integer ssm_expand" || fail "channels message: $msg"
msg=$("$itera" prune run:1 --db "$db" --experts 1 --out "$d/x.safetensors" 2>&1) && fail "1 expert accepted"
echo "$msg" | grep -q "top_k_experts" || fail "experts message: $msg"
msg=$("$itera" prune run:1 --db "$db" --out "$d/x.safetensors" 2>&1) && fail "nothing to prune accepted"
echo "$msg" | grep -q "give what to prune" || fail "empty prune message: $msg"
msg=$("$itera" prune "$d/nothing.safetensors" --experts 3 --db "$db" --out "$d/x.safetensors" 2>&1) &&
  fail "missing file accepted"
echo "$msg" | grep -q "nothing.safetensors" || fail "missing-file message: $msg"
msg=$("$itera" distill --teacher run:1 --db "$db" --student-preset huge --steps 2 2>&1) &&
  fail "bad preset accepted"
echo "$msg" | grep -q 'student-preset "huge"' || fail "preset message: $msg"
msg=$("$itera" distill --teacher run:1 --db "$db" --steps 2 --alpha 2 2>&1) && fail "alpha 2 accepted"
echo "$msg" | grep -q "alpha" || fail "alpha message: $msg"
[ ! -e "$d/x.safetensors" ] || fail "a refused request wrote a file"
echo ok
