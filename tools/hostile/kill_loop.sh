#!/usr/bin/env bash
# SIGKILL during training, resumed each time; then the run store is checked.
# usage: bash tools/hostile/kill_loop.sh ITERA_BINARY [KILLS=20] [WORKDIR]
#   WORKDIR (default: a new /tmp/kill-loop.XXXXXX, kept) holds the corpus, the data dir
#   (ITERA_DATA_DIR), the run store (runs.sqlite) and one log per attempt.
#   KILL_LOOP_TRAIN_ARGS: extra options for the first `itera train`
#     (default: --tokenizer byte --threads 1 --no-baseline)
#   KILL_LOOP_SEED: seeds the kill moments (default: the time)
#   KILL_LOOP_MAX_DELAY: the latest kill moment in seconds (default 6; the first 5 kills: 1)
# Exit 0 only when every check holds; 1 on a violation; 2 on a usage error.
set -u
[ $# -ge 1 ] || { sed -n '2,9p' "$0"; exit 2; }
itera=$(readlink -f "$1")
kills=${2:-20}
work=${3:-$(mktemp -d /tmp/kill-loop.XXXXXX)}
[ -x "$itera" ] || { echo "not an executable: $1"; exit 2; }
mkdir -p "$work" && work=$(readlink -f "$work")
[ -e "$work/runs.sqlite" ] && { echo "$work already holds a run store; give a fresh WORKDIR"; exit 2; }
export ITERA_DATA_DIR="$work/data"
db="$work/runs.sqlite" corpus="$work/corpus.txt"
read -r -a extra <<< "${KILL_LOOP_TRAIN_ARGS:---tokenizer byte --threads 1 --no-baseline}"
STEPS=400 EVAL=50 CKPT=25 PRE_CKPT_KILLS=5
RANDOM=${KILL_LOOP_SEED:-$(date +%s)}

# ~200 KB of text: a first-order Markov chain over /usr/share/dict/words (2,000 of them) or,
# without a dictionary, over a built-in vocabulary; blank lines separate paragraphs.
{ if [ -r /usr/share/dict/words ]; then grep -E '^[a-z]{2,12}$' /usr/share/dict/words
  else echo "the a of and to in that was his he it with is for as had you not be her on at by which have
    or from this him but all she they were my are me one their so an said them we who would been
    will no when there if more out up into do any your what has man could other than our some
    very time upon about may its only now like little then can should made did us such great
    before must two these see know over much down after first good men own never most old shall
    day where those came come himself way work life without go make well through being long say
    might how am too even life house whale ship sea captain white deep harpoon sailor wind boat
    water night voyage crew deck mast island storm wave shore harbour rope anchor compass map
    lantern morning evening river stone bread winter" | tr -s ' \n' '\n'
  fi; } | awk -v seed="$RANDOM" -v bytes=204800 'BEGIN { srand(seed) } NF { all[n++] = $1 }
  END { v = n < 2000 ? n : 2000
        for (i = 0; i < v; i++) { j = i + int(rand() * (n - i)); t = all[i]; all[i] = all[j]; all[j] = t }
        for (i = 0; i < v; i++) for (k = 0; k < 4; k++) next_of[i, k] = int(rand() * v)
        cur = 0
        for (out = 0; out < bytes; ) {
          len = 6 + int(rand() * 14); s = ""
          for (k = 0; k < len; k++) { s = s (k ? " " : "") all[cur]; cur = next_of[cur, int(rand() * 4)] }
          s = toupper(substr(s, 1, 1)) substr(s, 2) "."
          sentences++; sep = sentences % 7 ? " " : "\n\n"
          printf "%s%s", s, sep; out += length(s) + length(sep) } }' > "$corpus"

q() { sqlite3 "$db" "$1" 2>&1; }
run_id() { [ -e "$db" ] && sqlite3 "$db" 'SELECT max(id) FROM runs' 2>/dev/null; }
run_status() { "$itera" runs show "$1" --db "$db" 2>/dev/null | awk '$1 == "status" { sub(/:$/, "", $2); print $2 }'; }
newest_ckpt() {  # the newest complete step folder, as resuming sees it ("none" when there is none)
  local dir d s  # the run's folder as the store records it: runs/<store>/<id>, beside the database
  dir=$(sqlite3 "$db" "SELECT dir FROM runs WHERE id = $1" 2>/dev/null)
  d="$work/${dir:-runs/$1}/checkpoints"
  s=$(find "$d" -maxdepth 1 -name 'step-*' -printf '%f\n' 2>/dev/null | sed -n 's/^step-0*\([0-9][0-9]*\)$/\1/p' | sort -n | tail -1)
  echo "${s:-none}"
}
now() { date +%s.%N; }

echo "kill loop: $itera, $kills kills, work dir $work, corpus $(wc -c < "$corpus") bytes"
violations=0 killed=0 pre=0 pre_with_run=0 finished_early=0
violation() { violations=$((violations + 1)); echo "  VIOLATION: $*"; }

for ((k = 1; k <= kills; k++)); do
  id=$(run_id)
  if [ -z "$id" ]; then
    args=(train --preset micro --data "$corpus" --steps "$STEPS" --eval-every "$EVAL" --checkpoint-every "$CKPT"
          --db "$db" "${extra[@]}")
    what="new run"
  else
    args=(train --resume "$id" --db "$db")
    what="resume $id from $(newest_ckpt "$id")"
  fi
  if ((k <= PRE_CKPT_KILLS)); then hi=1.0; else hi=${KILL_LOOP_MAX_DELAY:-6}; fi
  delay=$(awk -v r="$RANDOM" -v hi="$hi" 'BEGIN { printf "%.2f", 0.2 + r / 32767 * (hi - 0.2) }')
  log="$work/attempt-$k.log"
  t0=$(now)
  "$itera" "${args[@]}" > "$log" 2>&1 &
  pid=$!
  end=$(awk -v a="$t0" -v d="$delay" 'BEGIN { printf "%.3f", a + d }')
  while kill -0 "$pid" 2>/dev/null && awk -v e="$end" -v n="$(now)" 'BEGIN { exit !(n < e) }'; do
    sleep 0.02
  done
  if kill -9 "$pid" 2>/dev/null; then outcome=killed; killed=$((killed + 1)); else outcome=exited; fi
  wait "$pid" 2>/dev/null; rc=$?  # (2>/dev/null: no "Killed" job notice)
  at=$(awk -v a="$t0" -v n="$(now)" 'BEGIN { printf "%.2f", n - a }')
  id=$(run_id)
  integrity=$([ -e "$db" ] && q 'PRAGMA integrity_check' | tr '\n' ' ' | sed 's/ $//' || echo "no db yet")
  status=$([ -n "$id" ] && run_status "$id" || echo "no run yet")
  ckpt=$([ -n "$id" ] && newest_ckpt "$id" || echo none)
  note=""
  if [ "$outcome" = killed ] && [ "$ckpt" = none ]; then
    pre=$((pre + 1)); note=" [before the first checkpoint]"
    [ -n "$id" ] && pre_with_run=$((pre_with_run + 1))
  fi
  printf 'kill %2d/%d  %-28s %s at %5.2f s (aimed %4.2f)  status %-11s newest ckpt %-5s integrity %s%s\n' \
    "$k" "$kills" "($what)" "$outcome" "$at" "$delay" "${status:-?}" "$ckpt" "$integrity" "$note"
  case "$integrity" in ok|"no db yet") ;; *) violation "integrity_check after kill $k: $integrity" ;; esac
  if [ "$outcome" = killed ]; then
    case "$status" in interrupted|"no run yet") ;; *) violation "run $id shows '$status' after SIGKILL (want interrupted)" ;; esac
  elif [ "$status" = finished ]; then
    finished_early=1; echo "  the run finished before kill $k could land; no more kills"; break
  else
    violation "attempt $k exited on its own (code $rc) with the run $status; last lines of $log:"
    tail -3 "$log" | sed 's/^/    /'
  fi
done

id=$(run_id)
if [ -z "$id" ]; then  # every kill landed before the run was created: start it once more, unkilled
  echo "final: a new run (no kill reached a created run) ..."
  "$itera" train --preset micro --data "$corpus" --steps "$STEPS" --eval-every "$EVAL" --checkpoint-every "$CKPT" \
    --db "$db" "${extra[@]}" > "$work/final.log" 2>&1 || violation "the final run exited with $? (see $work/final.log)"
elif [ "$(run_status "$id")" != finished ]; then
  echo "final: resume run $id from step $(newest_ckpt "$id") and let it finish ..."
  "$itera" train --resume "$id" --db "$db" > "$work/final.log" 2>&1 || violation "the final resume exited with $? (see $work/final.log)"
fi
id=$(run_id)
if [ -z "$id" ]; then
  violation "no run was ever created"
else
  integrity=$(q 'PRAGMA integrity_check' | tr '\n' ' ' | sed 's/ $//')
  [ "$integrity" = ok ] || violation "final integrity_check: $integrity"
  status=$(run_status "$id")
  [ "$status" = finished ] || violation "run $id ends '$status', not finished"
  dups=$(q 'SELECT run_id, name, step, COUNT(*) c FROM metrics GROUP BY 1,2,3 HAVING c > 1')
  ndups=$(printf '%s' "$dups" | grep -c . || true)
  if [ "$ndups" -gt 0 ]; then
    violation "$ndups (run, metric, step) keys stored more than once; first ones (run|name|step|count):"
    printf '%s\n' "$dups" | head -5 | sed 's/^/    /'
    echo "    by metric: $(q 'SELECT name || " " || COUNT(*) FROM (SELECT name FROM metrics GROUP BY run_id, name, step HAVING COUNT(*) > 1) GROUP BY name' | tr '\n' ',' | sed 's/,$//')"
  fi
  train=$(q "SELECT COUNT(*) || ' ' || COUNT(DISTINCT step) || ' ' || MIN(step) || ' ' || MAX(step)
             FROM metrics WHERE run_id = $id AND name = 'train_loss'")
  gaps=$(q "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $STEPS)
            SELECT COUNT(*) FROM s WHERE n NOT IN (SELECT step FROM metrics WHERE run_id = $id AND name = 'train_loss')")
  if [ "$train" != "$STEPS $STEPS 1 $STEPS" ] || [ "$gaps" != 0 ]; then violation "train_loss points (count distinct min max): $train, missing steps: $gaps (want $STEPS $STEPS 1 $STEPS, 0)"; fi
  val=$(q "SELECT group_concat(step, ',') FROM (SELECT step FROM metrics WHERE run_id = $id AND name = 'val_loss' ORDER BY step)")
  want=$(seq -s, 0 $EVAL $STEPS)
  [ "$val" = "$want" ] || violation "val_loss steps: $val (want $want)"
  runs=$(q 'SELECT COUNT(*) FROM runs')
  [ "$runs" = 1 ] || echo "  note: the store holds $runs runs"
fi

echo
echo "summary: $killed kills of $kills planned: $pre before the first checkpoint ($pre_with_run of them with the run" \
     "already in the store); run ${id:-none} $(run_status "${id:-0}" 2>/dev/null)"
echo "         train_loss ${train:-?} (count distinct min max), val_loss steps ${val:-?}"
echo "         duplicate (run, metric, step) keys: ${ndups:-?}; violations: $violations; work dir $work"
if ((finished_early)) || ((pre < (kills < PRE_CKPT_KILLS ? kills : PRE_CKPT_KILLS))); then
  violation "coverage: wanted $kills kills with $PRE_CKPT_KILLS before the first checkpoint, got $killed and $pre"
fi
((violations == 0)) && echo "verdict: PASS" || echo "verdict: FAIL ($violations violations)"
((violations == 0))
