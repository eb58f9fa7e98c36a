#!/bin/bash
# The Transformer baseline as a user drives it from the CLI: matched size in
# `model info`, a short run, then every command that takes a checkpoint
# (generate, score, eval, compress, prune, serve, report --compare,
# bench decode --contexts), and the ablations' errors.
# usage: transformer_test.sh ITERA
set -eu
itera=$1
d=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$d"' EXIT
export ITERA_DATA_DIR="$d/data"
db="$d/runs.sqlite"
fail() { echo "FAIL: $*"; exit 1; }

# Matched size: within 3 % of the Itera-Lite preset.
a=$("$itera" model info --preset mini --vocab-size 4096 --json | sed -n 's/^  "params": \([0-9]*\),\{0,1\}$/\1/p')
b=$("$itera" model info --preset mini --vocab-size 4096 --arch transformer --json | sed -n 's/^  "params": \([0-9]*\),\{0,1\}$/\1/p')
[ -n "$a" ] && [ -n "$b" ] || fail "model info --json has no params"
awk -v a="$a" -v b="$b" 'BEGIN { r = b / a; exit !(r > 0.97 && r < 1.03) }' || fail "mini: $b vs $a parameters"
"$itera" model info --preset mini --vocab-size 4096 --arch transformer | grep -q "attention *4 heads" || fail "model info text"
"$itera" model info --preset mini --vocab-size 512 --arch transformer --moe off 2>&1 | grep -q "Itera-Lite ablations" \
  || fail "--moe off with a Transformer was not refused"
"$itera" model info --preset mini --vocab-size 512 --arch mamba 2>&1 | grep -q "must be itera-lite-v2 or transformer" \
  || fail "an unknown --arch was not refused"
"$itera" model info --preset mini --vocab-size 512 --moe off --ssm-state 16 | grep -q "N 16" || fail "ablation"

awk 'BEGIN { srand(5); split("call me ishmael some years ago never mind how long precisely", w, " ");
             for (i = 0; i < 12000; i++) { printf "%s%s", w[int(rand() * 11) + 1], (i % 13 == 12) ? ".\n" : " ";
                                           if (i % 400 == 399) printf "\n" } }' > "$d/corpus.txt"
for arch in itera-lite-v2 transformer; do
  "$itera" train --preset micro --arch "$arch" --data "$d/corpus.txt" --tokenizer byte --steps 60 \
    --batch-size 8 --seq-len 32 --eval-every 30 --threads 1 --db "$db" --no-baseline --json \
    > "$d/train-$arch.json" 2>&1 || { cat "$d/train-$arch.json"; fail "training $arch"; }
done
"$itera" runs list --db "$db" | grep -q "micro transformer on" || fail "the run is not named by its architecture"

# Every command that takes a checkpoint.
"$itera" generate run:2 --db "$db" --prompt "call me" --max-tokens 16 --seed 1 --json | grep -q '"text"' \
  || fail "generate"
"$itera" score run:2 --db "$db" --text "call me ishmael" --json | grep -q '"total_logprob"' || fail "score"
"$itera" eval run:2 --db "$db" --json | grep -q '"bits_per_byte"' || fail "eval"
"$itera" compress run:2 --db "$db" --method int8 --out "$d/t-int8.safetensors" --json > "$d/c.json" 2>&1 \
  || { cat "$d/c.json"; fail "compress"; }
"$itera" generate "$d/t-int8.safetensors" --prompt "call me" --max-tokens 8 --json | grep -q '"text"' \
  || fail "generate from the int8 file"
"$itera" prune run:2 --db "$db" --ffn-keep 0.5 --out "$d/t-pruned.safetensors" > "$d/p.txt" 2>&1 \
  || { cat "$d/p.txt"; fail "prune --ffn-keep"; }
"$itera" prune run:2 --db "$db" --channels-keep 0.5 --out "$d/x.safetensors" 2>&1 | grep -q "no SSM channels" \
  || fail "prune --channels-keep was not refused for a Transformer"

# Decode speed by context, both runs; the figures reach the comparison report.
"$itera" bench decode run:1 --vs run:2 --db "$db" --contexts 16,64 --tokens 8 --pairs 1 --json \
  > "$d/ctx.json" || fail "bench decode --contexts"
grep -q '"state_bytes_b"' "$d/ctx.json" || fail "no state bytes"
"$itera" report --compare 1,2 --db "$db" --out "$d/compare.md" > /dev/null 2>&1 || fail "report --compare"
grep -q "Architecture.*Itera-Lite.*Transformer" "$d/compare.md" || fail "no architecture row"
grep -q "Active parameters per token" "$d/compare.md" || fail "no active parameters row"
grep -q "Decode tokens/s at context 64" "$d/compare.md" || fail "no decode-by-context row"
grep -q "int8: ΔPPL, KLD" "$d/compare.md" || fail "no compression row"

# Served like any model: an OpenAI-style completion.
"$itera" serve run:2 --db "$db" --port 0 --name tiny > "$d/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "on http://" "$d/serve.log" && break; sleep 0.1; done
port=$(sed -n 's/.*on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$d/serve.log")
[ -n "$port" ] || fail "no port printed"
body='{"model": "tiny", "prompt": "call me", "max_tokens": 8}'
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
  "${#body}" "$body" >&3
r=$(cat <&3)
exec 3<&-
echo "$r" | head -1 | grep -q " 200 " || { cat "$d/serve.log"; fail "serve: $r"; }
echo "$r" | grep -q '"text"' || fail "no completion text: $r"
echo ok
