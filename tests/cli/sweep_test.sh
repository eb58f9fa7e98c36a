#!/bin/sh
# A sweep through the CLI (docs/sweeps.md): a 6-trial grid with ASHA on a tiny
# model. The sweep's process is killed (SIGKILL) while a trial trains; the
# trial's process checkpoints and stops (it follows its parent), and
# `itera sweep resume` finishes the sweep:
#  - every trial has one run (none was started over) and every run's curve
#    holds each step once, from step 1;
#  - the trial that was cut short went on from its checkpoint;
#  - ASHA's decisions hold: a trial went past a rung only when it ranked
#    within the kept share of that rung.
# Then a random sweep with two seeds trains two trials at once (--parallel 2).
# usage: sweep_test.sh ITERA
set -eu
itera=$1
d=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$d"' EXIT
export ITERA_DATA_DIR="$d/data"
db="$d/s.sqlite"

awk 'BEGIN { srand(7); split("the whale sea ship captain white deep harpoon sailor wind", w, " ");
             for (i = 0; i < 25000; i++) { printf "%s%s", w[int(rand() * 10) + 1], (i % 15 == 14) ? ".\n" : " ";
                                           if (i % 300 == 299) printf "\n" } }' > "$d/corpus.txt"
cat > "$d/spec.json" <<JSON
{"name": "tiny grid",
 "base": {"preset": "micro", "data": {"corpus": "$d/corpus.txt", "tokenizer": "byte"},
          "batch_size": 8, "seq_len": 128, "eval_tokens": 2048, "steps": 160,
          "eval_every": 20, "checkpoint_every": 10, "warmup_steps": 10},
 "parameters": {"lr": {"values": [0.0005, 0.003, 0.02]}, "dropout": {"values": [0, 0.1]}},
 "method": "grid",
 "early_stopping": {"rungs": [40, 80], "reduction": 2}}
JSON

"$itera" sweep start "$d/spec.json" --threads 1 --db "$db" >"$d/first.out" 2>"$d/first.log" &
pid=$!
# Kill the sweep while its third trial trains.
for _ in $(seq 1 600); do
  n=$(sqlite3 -cmd ".timeout 5000" "$db" "SELECT count(*) FROM sweep_trials t JOIN metrics m ON m.run_id = t.run_id
                     WHERE t.trial = 2 AND m.name = 'train_loss'" 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 12 ] && break
  kill -0 $pid 2>/dev/null || { cat "$d/first.log"; echo "the sweep ended before the kill"; exit 1; }
  sleep 0.1
done
kill -9 $pid
wait $pid 2>/dev/null || true
# The trial's process stops after its step, with a checkpoint.
for _ in $(seq 1 100); do
  r=$(sqlite3 -cmd ".timeout 5000" "$db" "SELECT r.status FROM sweep_trials t JOIN runs r ON r.id = t.run_id WHERE t.trial = 2")
  [ "$r" = stopped ] && break
  sleep 0.1
done
[ "$r" = stopped ] || { echo "trial 3's run is '$r' after its sweep was killed, not stopped"; exit 1; }
cut_at=$(sqlite3 -cmd ".timeout 5000" "$db" "SELECT max(step) FROM metrics m JOIN sweep_trials t ON m.run_id = t.run_id
                        WHERE t.trial = 2 AND m.name = 'train_loss'")

"$itera" sweep resume 1 --threads 1 --db "$db" >"$d/second.out" 2>"$d/second.log" ||
  { cat "$d/second.log"; exit 1; }
grep -q "^sweep 1 finished" "$d/second.out" || { cat "$d/second.out"; exit 1; }

q() { sqlite3 -cmd ".timeout 5000" "$db" "$1"; }
[ "$(q "SELECT count(*) FROM sweep_trials")" = 6 ] || { echo "not 6 trials"; exit 1; }
[ "$(q "SELECT count(*) FROM runs")" = 6 ] || { echo "$(q "SELECT count(*) FROM runs") runs for 6 trials"; exit 1; }
[ "$(q "SELECT count(DISTINCT run_id) FROM sweep_trials")" = 6 ] || { echo "two trials share a run"; exit 1; }
dup=$(q "SELECT count(*) FROM (SELECT run_id, step FROM metrics WHERE name = 'train_loss'
                                GROUP BY run_id, step HAVING count(*) > 1)")
[ "$dup" = 0 ] || { echo "$dup steps stored twice"; exit 1; }
gaps=$(q "SELECT count(*) FROM (SELECT run_id, min(step) AS lo, max(step) AS hi, count(*) AS n
                                 FROM metrics WHERE name = 'train_loss' GROUP BY run_id)
          WHERE lo != 1 OR n != hi")
[ "$gaps" = 0 ] || { echo "$gaps runs whose curve does not hold each step from 1 once"; exit 1; }
[ "$(q "SELECT count(*) FROM sweep_trials WHERE status IN ('running', 'waiting', 'failed')")" = 0 ] ||
  { q "SELECT trial, status, reason FROM sweep_trials"; exit 1; }
# Every trial reached step 40, some stopped there, and one went on to 160
# (ASHA promotes as soon as a trial ranks well among those seen so far, so an
# early trial may go on that a later ranking would have stopped).
reached=$(q "SELECT group_concat(hi, ' ') FROM (SELECT max(m.step) AS hi FROM sweep_trials t
             JOIN metrics m ON m.run_id = t.run_id AND m.name = 'train_loss'
             GROUP BY t.trial ORDER BY hi)")
case "$reached" in
  "40 "*" 160") ;;
  *) echo "trials ended at steps '$reached'"; exit 1 ;;
esac
[ "$(q "SELECT count(*) FROM sweep_trials WHERE status = 'completed'")" -ge 1 ] || exit 1
bad=$(q "SELECT count(*) FROM sweep_trials, json_each(decisions) d
         WHERE json_extract(d.value, '$.action') = 'promoted'
           AND json_extract(d.value, '$.rank') > json_extract(d.value, '$.kept')")
[ "$bad" = 0 ] || { echo "$bad promotions outside the kept share"; exit 1; }
after=$(q "SELECT max(m.step) FROM metrics m JOIN sweep_trials t ON m.run_id = t.run_id
           WHERE t.trial = 2 AND m.name = 'train_loss'")
[ "$after" -ge "$cut_at" ] || { echo "trial 3 lost steps: $cut_at before, $after after"; exit 1; }

"$itera" sweep show 1 --db "$db" > "$d/show.txt"
grep -q "objective: val_bits_per_byte" "$d/show.txt" || { cat "$d/show.txt"; exit 1; }
"$itera" report --sweep 1 --db "$db" --out "$d/r.md" > /dev/null
grep -q "## Stopping decisions" "$d/r.md" && [ -s "$d/r-parallel.png" ] ||
  { echo "the sweep report lacks its decisions or chart"; exit 1; }
# Two trials at once: 2 configurations x 2 seeds, one thread each.
cat > "$d/par.json" <<JSON
{"base": {"preset": "micro", "data": {"corpus": "$d/corpus.txt", "tokenizer": "byte"},
          "batch_size": 4, "seq_len": 64, "eval_tokens": 2048, "steps": 30, "eval_every": 10},
 "parameters": {"lr": {"range": [0.001, 0.01], "scale": "log"}},
 "configurations": 2, "seeds": 2}
JSON
"$itera" sweep start "$d/par.json" --parallel 2 --threads 2 --db "$db" >"$d/par.out" 2>"$d/par.log" ||
  { cat "$d/par.log"; exit 1; }
[ "$(q "SELECT count(*) FROM sweep_trials WHERE sweep_id = 2 AND status = 'completed'")" = 4 ] ||
  { cat "$d/par.log"; exit 1; }
[ "$(q "SELECT count(DISTINCT json_extract(params, '$.lr')) FROM sweep_trials WHERE sweep_id = 2")" = 2 ] ||
  { echo "the seeds of one configuration got different settings"; exit 1; }
"$itera" sweep show 2 --db "$db" | grep -q "over seeds (mean" || { echo "no seed summary"; exit 1; }

echo "killed at step $cut_at of trial 3, resumed: 6 trials, 6 runs, every step once; ends at $reached ok"
