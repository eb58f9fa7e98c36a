#!/usr/bin/env bash
# Builds the fuzz targets if needed, then runs each for SECONDS on a working
# copy of its seed corpus, one target at a time, and prints one summary line
# per target.
#
# usage: tests/fuzz/run.sh SECONDS [OUT_DIR] [TARGET...]
#   SECONDS  fuzzing time per target (30 in CTest; 600+ for a real hunt)
#   OUT_DIR  binaries, logs, working corpora and findings (default: build/fuzz)
#   TARGET   a subset of `tests/fuzz/build.sh --list` (default: all)
# environment:
#   FUZZ_ARGS        extra libFuzzer flags, e.g. "-seed=1" or "-only_ascii=1"
#   FUZZ_KEEP_GOING  1: fork mode that records every crash, timeout and OOM and
#                    carries on (-fork=1 -ignore_crashes=1 ...), instead of
#                    stopping at the first finding
#   FUZZ_NICE        prefix for the builds and runs (default: "nice -n 19")
#
# Layout under OUT_DIR:
#   <target>                the binaries (tests/fuzz/build.sh)
#   corpus/<target>/        the working corpus: the seeds plus what the run
#                           found interesting (wiped at the start of each run;
#                           the repository's tests/fuzz/corpus is never written)
#   findings/<target>/      crash-*, leak-*, timeout-*, oom-* inputs (kept)
#   logs/<target>.log       libFuzzer's output
#
# Exit status: 0 no finding; 1 a target found a crash/leak/timeout/OOM or failed
# to build or run; 77 no clang++ with libFuzzer (CTest reports SKIPPED).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ]; then
    echo "usage: tests/fuzz/run.sh SECONDS [OUT_DIR] [TARGET...]" >&2
    exit 2
fi
seconds=$1
out=${2:-$root/build/fuzz}
shift 2 2>/dev/null || shift $#
mkdir -p "$out"
out=$(cd "$out" && pwd)
targets=("$@")
((${#targets[@]})) || mapfile -t targets < <(bash "$here/build.sh" --list)

bash "$here/build.sh" "$out" "${targets[@]}"
rc=$?
if [ "$rc" -eq 77 ]; then
    echo "run.sh: SKIPPED: no clang++ with libFuzzer on this machine (install clang libclang-rt-14-dev)"
    exit 77
elif [ "$rc" -ne 0 ]; then
    echo "run.sh: FAILED: the fuzz targets did not build" >&2
    exit 1
fi

read -r -a NICE <<<"${FUZZ_NICE-nice -n 19}"
read -r -a EXTRA <<<"${FUZZ_ARGS:-}"
# UBSan: a stack with every report (libFuzzer makes the report fatal).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# One value out of a log: the last match of an extended regex's first group.
last() { grep -Eao "$1" "$2" | tail -1 | sed -E "s|$1|\\1|"; }

# The first line of a report: sanitizer, uncaught exception, FUZZ_CHECK, timeout/OOM.
reports='ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|FUZZ_CHECK failed|what\(\):'

failed=0
summary=()
for t in "${targets[@]}"; do
    seeds=$here/corpus/$t
    work=$out/corpus/$t
    findings=$out/findings/$t
    log=$out/logs/$t.log
    rm -rf "$work"
    mkdir -p "$work" "$findings" "$out/logs"
    [ -d "$seeds" ] && cp "$seeds"/* "$work"/ 2>/dev/null
    marker=$out/logs/$t.start
    touch "$marker"
    sleep 1  # findings of this run are the files newer than the marker

    args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096
          -print_final_stats=1 -print_funcs=0 -artifact_prefix="$findings/")
    [ -f "$here/dict/$t.dict" ] && args+=(-dict="$here/dict/$t.dict")
    if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
        args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    fi
    echo "run.sh: $t for ${seconds}s: $out/$t ${args[*]} ${EXTRA[*]} $work"
    # The run happens in OUT_DIR: fork mode and -jobs write their own files into the
    # working directory.
    (cd "$out" && "${NICE[@]}" "$out/$t" "${args[@]}" "${EXTRA[@]}" "$work") >"$log" 2>&1
    status=$?

    if grep -q '^stat::number_of_executed_units' "$log"; then
        execs=$(last 'stat::number_of_executed_units: *([0-9]+)' "$log")
        rate=$(last 'stat::average_exec_per_sec: *([0-9]+)' "$log")
    else  # fork mode: the parent's last progress line
        execs=$(last '#([0-9]+): cov:' "$log")
        rate=$(last 'exec/s:? ([0-9]+)' "$log")
    fi
    cov=$(last 'cov: ([0-9]+)' "$log")
    ft=$(last 'ft: ([0-9]+)' "$log")
    corp=$(find "$work" -type f | wc -l)
    new=$(find "$findings" -type f -newer "$marker" | wc -l)
    kinds=$(find "$findings" -type f -newer "$marker" | sed -E 's|.*/||; s/-.*//' |
            sort | uniq -c | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}')
    line=$(printf '%-22s execs %10s (%6s/s)  cov %5s  ft %6s  corpus %5s  findings %d' \
                  "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$new")
    if [ "$new" -gt 0 ] || [ "$status" -ne 0 ]; then
        failed=1
        first=$(grep -m1 -aE "$reports" "$log" | sed -E 's/^ +//' | cut -c1-200)
        names=$(find "$findings" -type f -newer "$marker" -printf '%f\n' | sort | head -8 | paste -sd' ')
        if [ -z "$first" ] && [ -n "$names" ]; then  # fork mode: the report is in a child's log
            one=$findings/${names%% *}
            first=$(cd "$out" && timeout 120 "$out/$t" -timeout=10 -rss_limit_mb=2048 "$one" 2>&1 |
                    grep -m1 -aE "$reports" | sed -E 's/^ +//' | cut -c1-200)
        fi
        line+=" (${kinds:-exit $status})  first report: ${first:-see the log}"
        line+=$'\n'"      inputs: $names (in $findings/)"$'\n'"      log: $log"
    fi
    summary+=("$line")
    echo "$line"
done

echo
echo "run.sh: summary (${seconds}s per target, findings in $out/findings/)"
printf '  %s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
    echo "run.sh: FAILED: a target found a crash, leak, timeout or OOM (reproduce: OUT_DIR/TARGET FILE)"
    exit 1
fi
echo "run.sh: ok"
