#!/bin/sh
# `itera compress` and `itera inspect` as a user drives them on a small
# trained run: each method's measured report, the file it writes (which then
# generates, scores and evaluates on its own), and errors for bad input.
# usage: compress_test.sh ITERA
set -eu
itera=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
export ITERA_DATA_DIR="$d/data"
db="$d/runs.sqlite"
fail() { echo "FAIL: $*"; exit 1; }

awk 'BEGIN { srand(7); split("call me ishmael some years ago never mind how long precisely", w, " ");
             for (i = 0; i < 12000; i++) { printf "%s%s", w[int(rand() * 11) + 1], (i % 13 == 12) ? ".\n" : " ";
                                           if (i % 400 == 399) printf "\n" } }' > "$d/corpus.txt"
"$itera" train --preset micro --data "$d/corpus.txt" --tokenizer byte --steps 40 --batch-size 8 \
  --seq-len 32 --eval-every 20 --threads 1 --db "$db" --no-baseline --json > /dev/null 2>&1 || fail "training"

for m in f16 bf16 int8 int4 nf4; do
  j=$("$itera" compress run:1 --db "$db" --method $m --out "$d/$m.safetensors" --max-tokens 2000 --json)
  for key in method source_bytes bytes ratio bpw perplexity source_perplexity delta_ppl_pct kld \
             top1_agreement decode_tokens_per_s source_decode_tokens_per_s prefill_tokens_per_s \
             source_prefill_tokens_per_s timing tensors compression_id; do
    echo "$j" | grep -q "\"$key\"" || fail "$m: compress --json lacks $key"
  done
  size=$(wc -c < "$d/$m.safetensors")
  echo "$j" | grep -q "\"bytes\": $size," || fail "$m: reported bytes differ from the file's $size"
  "$itera" inspect "$d/$m.safetensors" > "$d/inspect.txt"
  grep -q "layers.0.mixer.A_log .*F32" "$d/inspect.txt" || fail "$m: A_log not kept in F32"
  # The compressed file works on its own.
  "$itera" generate "$d/$m.safetensors" --prompt "call me" --max-tokens 8 --seed 1 > /dev/null 2>&1 ||
    fail "$m: generate from the compressed file"
  "$itera" eval "$d/$m.safetensors" --data "$d/corpus.txt" --max-tokens 2000 --json | grep -q '"perplexity"' ||
    fail "$m: eval of the compressed file"
done
"$itera" inspect "$d/int8.safetensors" > "$d/inspect.txt"
grep -q "embed.weight.qweight .*I8" "$d/inspect.txt" || fail "int8 qweight not listed"
grep -q "embed.weight.scales .*F32" "$d/inspect.txt" || fail "int8 scales not listed"
"$itera" inspect "$d/int4.safetensors" > "$d/inspect.txt"
grep -q "embed.weight.zeros .*F16" "$d/inspect.txt" || fail "int4 zeros not listed"
msg=$("$itera" compress run:1 --db "$db" --method int4 --group-size 40 --out "$d/x.safetensors" 2>&1) &&
  fail "group size 40 accepted"
echo "$msg" | grep -q "multiple of 16" || fail "group-size message: $msg"
n=$("$itera" runs show 1 --db "$db" | grep -c '^  #[0-9]')
[ "$n" = 5 ] || fail "5 compressions expected in runs show, found $n"

msg=$("$itera" compress run:1 --db "$db" --method int3 --out "$d/x.safetensors" 2>&1) && fail "bad method accepted"
echo "$msg" | grep -q 'unknown scheme "int3"' || fail "method message: $msg"
msg=$("$itera" compress "$d/int8.safetensors" --method int8 --out "$d/y.safetensors" --no-eval 2>&1) &&
  fail "compressing a compressed file accepted"
echo "$msg" | grep -q "already compressed" || fail "recompress message: $msg"
msg=$("$itera" inspect "$d/nothing.safetensors" 2>&1) && fail "missing file accepted"
echo "$msg" | grep -q "nothing.safetensors" || fail "inspect message: $msg"

# Mixed precision: a plan for a size between int4 and int8, measured, and its report.
int4=$(wc -c < "$d/int4.safetensors"); int8=$(wc -c < "$d/int8.safetensors")
target=$(( (int4 + int8) / 2 ))
j=$("$itera" compress run:1 --db "$db" --method mixed --target-size "$target" --calibration-tokens 1024 \
     --out "$d/mixed.safetensors" --max-tokens 2000 --json) || fail "mixed compression"
for key in plan predicted_bytes predicted_delta_ppl_pct calibration delta_ppl_pct; do
  echo "$j" | grep -q "\"$key\"" || fail "mixed: --json lacks $key"
done
[ "$(wc -c < "$d/mixed.safetensors")" -le "$target" ] || fail "mixed: file larger than the target $target"
msg=$("$itera" compress run:1 --db "$db" --method mixed --out "$d/x.safetensors" 2>&1) && fail "mixed without a target accepted"
echo "$msg" | grep -q "needs --target-size or --target-bpw" || fail "mixed target message: $msg"
msg=$("$itera" compress run:1 --db "$db" --method mixed --target-size 1KB --calibration-tokens 1024 --out "$d/x.safetensors" 2>&1) &&
  fail "an unreachable target accepted"
echo "$msg" | grep -q "smallest plan" || fail "unreachable-target message: $msg"

# Reports of the run and of its compressions: Markdown with PNG charts beside it.
mkdir "$d/reports"
"$itera" report 1 --db "$db" --out "$d/reports/run.md" > "$d/out.txt" || fail "itera report 1"
for f in run.md run-loss.png run-perplexity.png run-lr.png run-compression.png; do
  [ -s "$d/reports/$f" ] || fail "report: $f not written"
  grep -q "$f" "$d/out.txt" || fail "report: $f not listed in: $(cat "$d/out.txt")"
done
head -c 8 "$d/reports/run-loss.png" | od -An -c | grep -q 'P   N   G' || fail "run-loss.png is not a PNG"
grep -q '^# Training report: run 1' "$d/reports/run.md" || fail "report title"
grep -q '](run-loss.png)' "$d/reports/run.md" || fail "report does not link run-loss.png"
# Every compression made above is in the table, with the file size measured on disk.
for m in f16 bf16 int8 int4 nf4 mixed; do
  grep -q "^| $m | $m.safetensors |" "$d/reports/run.md" || fail "report lacks the $m row"
done
grep -q "^### Mixed-precision plan of mixed.safetensors" "$d/reports/run.md" || fail "report lacks the plan"
"$itera" report --compression run:1 --db "$db" --out "$d/reports/c.md" > /dev/null || fail "compression report"
grep -q '^# Compression report: best.safetensors' "$d/reports/c.md" || fail "compression report title"
[ -s "$d/reports/c-compression.png" ] || fail "compression chart not written"
msg=$("$itera" report --compare 1 --db "$db" --out "$d/reports/x.md" 2>&1) && fail "one-run comparison accepted"
echo "$msg" | grep -q "at least two" || fail "compare message: $msg"
msg=$("$itera" report 7 --db "$db" --out "$d/reports/x.md" 2>&1) && fail "missing run accepted"
echo "$msg" | grep -q "no run 7" || fail "missing-run message: $msg"
msg=$("$itera" report 1 --db "$d/none.sqlite" 2>&1) && fail "missing store accepted"
echo "$msg" | grep -q "no run store at" || fail "missing-store message: $msg"
msg=$("$itera" report 1 --db "$db" --out "$d/reports/x.txt" 2>&1) && fail "non-.md output accepted"
echo "$msg" | grep -q "expected a .md file" || fail "output-name message: $msg"
[ ! -e "$d/none.sqlite" ] || fail "a report created a run store"
echo ok
