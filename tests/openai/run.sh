#!/usr/bin/env bash
# The OpenAI client acceptance test (CTest: serve.openai_client): trains a tiny
# byte-tokenizer model on generated text, serves it with `itera serve` on a
# free port, and runs client_test.mjs against it with the official `openai`
# npm package. Skips (exit 77) without node/npm or without the package
# installed (scripts/setup.sh installs it; or: cd tests/openai && npm ci).
# usage: tests/openai/run.sh ITERA
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
itera=${1:?usage: run.sh ITERA}

skip() { echo "skipped: $*"; exit 77; }
command -v node >/dev/null 2>&1 || skip "node is not installed (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || skip "npm is not installed (Debian: apt-get install npm)"
[ -f "$here/node_modules/openai/package.json" ] ||
  skip "the openai npm package is not installed: run scripts/setup.sh or (cd tests/openai && npm ci)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || skip "node $(node --version) is too old for the openai package (18 or later)"

d=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null; fi
  rm -rf "$d"
}
trap cleanup EXIT
export ITERA_DATA_DIR="$d/data"
db="$d/runs.sqlite"
# The server's output: stdout (its first line says the port) and stderr.
server_output() { cat "$d/serve.log" "$d/serve.err" 2>/dev/null | sed 's/^/serve: /'; }
fail() { echo "FAIL: $*"; server_output; exit 1; }

# ~100 KB of varied English-like text: sentences from a few templates over a
# few hundred words, in paragraphs (deterministic: awk's srand(7)).
awk 'BEGIN {
  srand(7)
  n = split("whale sea ship captain sailor harbour island storm wind wave morning night voyage rope " \
            "mast deck boat crew town street house window door letter book story man woman child " \
            "friend stranger king river mountain forest field road journey dream fire light shadow", noun, " ")
  v = split("saw found watched followed remembered carried left met called heard answered crossed " \
            "painted sold lost kept told read opened closed wanted needed loved feared", verb, " ")
  a = split("old young quiet dark bright cold warm long strange small great grey silent distant " \
            "heavy gentle wild patient tired happy", adj, " ")
  p = split("across over under near beyond behind beside through toward along", prep, " ")
  m = split("Ishmael Ahab Starbuck Queequeg Stubb Flask Pip Elijah Bildad Peleg", name, " ")
  t = split("slowly quietly often never always once again soon early late", adv, " ")
  bytes = 0
  while (bytes < 100000) {
    para = ""
    k = 3 + int(rand() * 5)
    for (s = 0; s < k; s++) {
      r = int(rand() * 5)
      if (r == 0)      x = name[int(rand()*m)+1] " " verb[int(rand()*v)+1] " the " adj[int(rand()*a)+1] " " noun[int(rand()*n)+1] "."
      else if (r == 1) x = "The " noun[int(rand()*n)+1] " " adv[int(rand()*t)+1] " " verb[int(rand()*v)+1] " a " noun[int(rand()*n)+1] " " prep[int(rand()*p)+1] " the " noun[int(rand()*n)+1] "."
      else if (r == 2) x = "Call me " name[int(rand()*m)+1] ". Some years ago I " verb[int(rand()*v)+1] " a " adj[int(rand()*a)+1] " " noun[int(rand()*n)+1] "."
      else if (r == 3) x = "\"Who " verb[int(rand()*v)+1] " the " noun[int(rand()*n)+1] "?\" asked " name[int(rand()*m)+1] ", and " name[int(rand()*m)+1] " said nothing."
      else             x = "It was a " adj[int(rand()*a)+1] " " noun[int(rand()*n)+1] ", and we " verb[int(rand()*v)+1] " it " prep[int(rand()*p)+1] " the " adj[int(rand()*a)+1] " " noun[int(rand()*n)+1] "."
      para = para (s ? " " : "") x
    }
    print para "\n"
    bytes += length(para) + 2
  }
}' > "$d/corpus.txt" || fail "writing the corpus"

"$itera" train --preset micro --data "$d/corpus.txt" --tokenizer byte --steps 30 --batch-size 4 \
  --seq-len 32 --eval-every 15 --threads 1 --no-baseline --db "$db" --json > "$d/train.log" 2>&1 ||
  fail "training: $(tail -5 "$d/train.log")"

"$itera" serve run:1 --db "$db" --port 0 --name tiny > "$d/serve.log" 2> "$d/serve.err" &
server=$!
port=
for _ in $(seq 300); do
  port=$(sed -n '1s/^serving .* on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$d/serve.log")
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || { server=; fail "the server exited before serving"; }
  sleep 0.1
done
[ -n "$port" ] || fail "no 'serving ... on http://127.0.0.1:PORT' line"

# GET /health until it answers 200.
healthy=
for _ in $(seq 100); do
  if exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
    printf 'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
    head -1 <&3 | grep -q " 200 " && healthy=1
    exec 3<&-
  fi
  [ -n "$healthy" ] && break
  sleep 0.1
done
[ -n "$healthy" ] || fail "GET /health did not answer 200"

node "$here/client_test.mjs" "http://127.0.0.1:$port/v1" tiny
rc=$?

kill -TERM "$server"
wait "$server"
server_rc=$?
server=
if [ "$server_rc" -ne 0 ]; then
  echo "FAIL: the server exited with $server_rc after SIGTERM"
  rc=1
fi
if [ "$rc" -ne 0 ]; then server_output; fi
exit "$rc"
