#!/bin/sh
# `itera generate`, `score`, `eval` and `bench decode` as a user drives them
# on a small trained run: reproducible text from a seed, the JSON keys the
# playground and external checks read, and clear errors for bad input.
# usage: infer_test.sh ITERA
set -eu
itera=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
export ITERA_DATA_DIR="$d/data"
db="$d/runs.sqlite"
fail() { echo "FAIL: $*"; exit 1; }

awk 'BEGIN { srand(5); split("call me ishmael some years ago never mind how long precisely", w, " ");
             for (i = 0; i < 12000; i++) { printf "%s%s", w[int(rand() * 11) + 1], (i % 13 == 12) ? ".\n" : " ";
                                           if (i % 400 == 399) printf "\n" } }' > "$d/corpus.txt"
"$itera" train --preset micro --data "$d/corpus.txt" --tokenizer byte --steps 40 --batch-size 8 \
  --seq-len 32 --eval-every 20 --threads 1 --db "$db" --no-baseline --json > /dev/null 2>&1 || fail "training"

# Same seed, same text; the JSON carries ids, probabilities and both speeds.
a=$("$itera" generate run:1 --db "$db" --prompt "call me" --max-tokens 24 --seed 7 --json)
b=$("$itera" generate run:1 --db "$db" --prompt "call me" --max-tokens 24 --seed 7 --json)
[ "$a" != "" ] || fail "no output"
strip() { echo "$1" | grep -v '_seconds\|_per_s'; }
[ "$(strip "$a")" = "$(strip "$b")" ] || fail "same seed gave different output"
for key in text tokens prompt_tokens probs stop_reason prefill_tokens_per_s decode_tokens_per_s; do
  echo "$a" | grep -q "\"$key\"" || fail "generate --json lacks $key"
done
c=$("$itera" generate run:1 --db "$db" --prompt "call me" --max-tokens 24 --seed 8 --json --temperature 1.5)
[ "$(strip "$a")" != "$(strip "$c")" ] || fail "another seed and temperature gave the same output"
streamed=$("$itera" generate run:1 --db "$db" --prompt "call me" --max-tokens 24 --seed 7 2>/dev/null)
text=$(echo "$a" | sed -n 's/^  "text": "\(.*\)",$/\1/p')
case "$streamed" in "call me"*) ;; *) fail "the stream does not start with the prompt: $streamed" ;; esac

# score: one logprob per predicted token, five alternatives per position.
s=$("$itera" score run:1 --db "$db" --text "call me ishmael" --json)
for key in tokens pieces logprobs top total_logprob; do
  echo "$s" | grep -q "\"$key\"" || fail "score --json lacks $key"
done
ntok=$(echo "$s" | sed -n '/"tokens": \[/,/\]/p' | grep -c '^ *[0-9]')
nlp=$(echo "$s" | sed -n '/"logprobs": \[/,/\]/p' | grep -c '^ *-\?[0-9]')
[ "$ntok" -eq 15 ] || fail "byte tokenizer: 15 tokens expected, got $ntok"
[ "$nlp" -eq 14 ] || fail "14 logprobs expected, got $nlp"

# eval: the run's own corpus and split by default.
e=$("$itera" eval run:1 --db "$db" --json)
for key in loss perplexity bits_per_byte tokens bytes; do
  echo "$e" | grep -q "\"$key\"" || fail "eval --json lacks $key"
done
echo "$e" | grep -q '"data_from": "run 1"' || fail "eval did not use the run's corpus: $e"

# bench decode: the keys of the issue.
bj=$("$itera" bench decode run:1 --db "$db" --tokens 32 --prompt-tokens 48 --batch 2 --repeats 1 --json)
for key in decode_tokens_per_s_1t decode_tokens_per_s prefill_tokens_per_s peak_rss_mb; do
  echo "$bj" | grep -q "\"$key\"" || fail "bench decode --json lacks $key: $bj"
done

# Errors name what is wrong.
msg=$("$itera" generate "$d/missing.safetensors" --prompt x 2>&1) && fail "missing checkpoint accepted"
echo "$msg" | grep -q "missing.safetensors" || fail "missing-file message: $msg"
best=$(ls "$d"/runs/*/1/best.safetensors) || fail "no best checkpoint under $d/runs"
head -c 300 "$best" > "$d/cut.safetensors"
msg=$("$itera" generate "$d/cut.safetensors" --prompt x 2>&1) && fail "truncated checkpoint accepted"
echo "$msg" | grep -q "cut.safetensors" || fail "truncated-file message: $msg"
msg=$("$itera" generate run:1 --db "$db" --prompt "$(printf 'bad \377 byte')" 2>&1) && fail "invalid UTF-8 accepted"
echo "$msg" | grep -q "not valid UTF-8" || fail "UTF-8 message: $msg"
msg=$("$itera" generate run:1 --db "$db" --prompt x --temperature -1 2>&1) && fail "negative temperature accepted"
echo "$msg" | grep -q "temperature" || fail "temperature message: $msg"
msg=$("$itera" generate run:99 --db "$db" --prompt x 2>&1) && fail "missing run accepted"
echo "$msg" | grep -q "no run 99" || fail "missing-run message: $msg"
"$itera" model init --preset micro --vocab-size 259 --out "$d/init.safetensors" > /dev/null
msg=$("$itera" generate "$d/init.safetensors" --prompt x 2>&1) && fail "checkpoint without tokenizer accepted"
echo "$msg" | grep -q "no tokenizer attached" || fail "no-tokenizer message: $msg"
msg=$("$itera" eval run:1 --db "$db" --split test 2>&1) && fail "bad split accepted"
echo "$msg" | grep -q "validation or train" || fail "split message: $msg"
echo ok
