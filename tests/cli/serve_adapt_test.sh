#!/usr/bin/env bash
# `itera serve` and `itera adapt` as a user drives them: serve a trained run on
# a free port, ask it, rate the answers, stop it with SIGTERM (it finishes and
# says so), then fine-tune on the well-rated answers and see the run linked to
# its checkpoint with validation before and after. HTTP via bash's /dev/tcp.
# usage: serve_adapt_test.sh ITERA
set -euo pipefail
itera=$1
d=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$d"' EXIT
export ITERA_DATA_DIR="$d/data"
db="$d/runs.sqlite"
fail() { echo "FAIL: $*"; [ -f "$d/serve.log" ] && cat "$d/serve.log"; exit 1; }

awk 'BEGIN { srand(5); split("call me ishmael some years ago never mind how long precisely", w, " ");
             for (i = 0; i < 12000; i++) { printf "%s%s", w[int(rand() * 11) + 1], (i % 13 == 12) ? ".\n" : " ";
                                           if (i % 400 == 399) printf "\n" } }' > "$d/corpus.txt"
"$itera" train --preset micro --data "$d/corpus.txt" --tokenizer byte --steps 30 --batch-size 8 \
  --seq-len 32 --eval-every 15 --threads 1 --db "$db" --no-baseline --json > /dev/null 2>&1 || fail "training"

"$itera" serve run:1 --db "$db" --port 0 --name micro > "$d/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "on http://" "$d/serve.log" && break; sleep 0.1; done
port=$(sed -n 's/.*on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$d/serve.log")
[ -n "$port" ] || fail "no port printed"

# POST PATH BODY -> the response (status line, headers, body).
post() {
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$1" "${#2}" "$2" >&3
  cat <&3
  exec 3<&-
}
for seed in 1 2 3 4; do
  r=$(post /infer "{\"input_text\": \"call me\", \"max_length\": 40, \"seed\": $seed}")
  echo "$r" | head -1 | grep -q " 200 " || fail "infer: $r"
  id=$(echo "$r" | grep -o '"feedback_id":[0-9]*' | cut -d: -f2)
  [ -n "$id" ] || fail "no feedback_id in $r"
  r=$(post /feedback "{\"feedback_id\": $id, \"user_rating\": $((seed % 2 + 4))}")
  echo "$r" | grep -q '"stored"' || fail "feedback: $r"
done
r=$(post /infer '{"input_text": "call me", "max_length": "long"}')
echo "$r" | head -1 | grep -q " 400 " || fail "a bad max_length was not a 400: $r"
echo "$r" | grep -q '"field":"max_length"' || fail "the 400 does not name max_length: $r"
kill -TERM "$server"
wait "$server" || fail "the server did not exit cleanly on SIGTERM"
server=
grep -q "^stopped" "$d/serve.log" || fail "no clean stop"

j=$("$itera" adapt run:1 --db "$db" --from-feedback --min-rating 4 --steps 6 --seq-len 32 \
     --threads 1 --out "$d/adapted.safetensors" --json) || fail "adapt"
for key in run_id documents before after delta_ppl_pct; do
  echo "$j" | grep -q "\"$key\"" || fail "adapt --json lacks $key: $j"
done
echo "$j" | grep -q '"documents": 4' || fail "four rated answers expected: $j"
[ -s "$d/adapted.safetensors" ] || fail "no adapted file"
"$itera" runs show 2 --db "$db" | grep -q "adapted from feedback, a fine-tune of run 1" ||
  fail "adapt run not linked: $("$itera" runs show 2 --db "$db" | head -12)"
"$itera" adapt "$d/adapted.safetensors" --db "$d/empty.sqlite" --from-feedback --steps 2 --out "$d/x.safetensors" > "$d/msg.txt" 2>&1 &&
  fail "adapt without feedback accepted"
grep -q "no feedback rated 4 or better" "$d/msg.txt" || fail "no-feedback message: $(cat "$d/msg.txt")"
echo ok
