#!/bin/sh
# Runs a command and checks both its exit code and its output, which CTest's
# PASS_REGULAR_EXPRESSION alone cannot (it ignores the exit code).
# usage: expect.sh CODE REGEX COMMAND [ARG...]
#   CODE   the exit code the command must return (0, or e.g. 1 for an error)
#   REGEX  an extended regular expression (grep -E) its stdout + stderr must
#          match, the lines joined by single spaces (so ".*" spans lines and
#          "^ok$" means the output is exactly "ok"); empty: no check
code=$1
regex=$2
shift 2
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne "$code" ]; then
    echo "expect.sh: exit code $rc, expected $code: $*"
    exit 1
fi
joined=$(printf '%s' "$out" | tr '\n' ' ')
if [ -n "$regex" ] && ! printf '%s\n' "$joined" | grep -Eq -- "$regex"; then
    echo "expect.sh: the output does not match /$regex/: $*"
    exit 1
fi
exit 0
