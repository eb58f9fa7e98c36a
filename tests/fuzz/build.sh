#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang++ (ASan + UBSan), each
# from its harness and the few core/ sources it needs: no CMake, no LibTorch.
#
# usage: tests/fuzz/build.sh [OUT_DIR] [TARGET...]
#        tests/fuzz/build.sh --list          # the target names, one a line
#   OUT_DIR  where the binaries go (default: build/fuzz in the repository)
#   TARGET   fuzz_safetensors, fuzz_model_config, ... (default: all)
# environment:
#   CXX_FUZZ    the compiler (default: clang++)
#   FUZZ_NICE   prefix for each compile (default: "nice -n 19"; empty to disable)
#   FUZZ_FORCE  1: rebuild even when a binary is newer than all its inputs
#
# Exit status: 0 built (or up to date); 1 a compile failed; 77 no clang++ with
# libFuzzer here (install `clang libclang-rt-14-dev`, see scripts/setup.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
core=$root/core

# Each target: the harness and the core/ sources it links (found by reading the
# includes). tests/fuzz/support/ replaces one file that cannot go in as it is:
#   spm_linked.cpp            tokenizer/spm_library.cpp dlopens with RTLD_DEEPBIND,
#                             which ASan aborts on; the shim is linked instead
TARGETS=(fuzz_safetensors fuzz_model_config fuzz_tokenizer_json fuzz_token_manifest fuzz_requests)

sources_of() {
    case $1 in
    fuzz_safetensors)
        echo format/safetensors.cpp format/dtype.cpp util/atomic_file.cpp ;;
    fuzz_model_config)
        echo model/config.cpp model/tensor_names.cpp ;;
    fuzz_tokenizer_json)
        echo tokenizer/tokenizer.cpp tokenizer/byte_tokenizer.cpp tokenizer/word_tokenizer.cpp \
             tokenizer/sentencepiece_tokenizer.cpp tokenizer/stored_tokenizer.cpp \
             tokenizer/spm/spm_shim.cpp util/base64.cpp util/read_file.cpp \
             @support/spm_linked.cpp util/hardware_threads.cpp ;;
    fuzz_token_manifest)
        # tokenizer/*: token_cache.cpp names Tokenizer::fingerprint and tokenizer_kind_name;
        # spm_library.cpp is linked but never called (TokenStream::open loads no tokenizer).
        echo data/token_cache.cpp data/corpus.cpp data/documents.cpp data/json_stories.cpp \
             data/utf8.cpp util/atomic_file.cpp util/file_lock.cpp \
             tokenizer/tokenizer.cpp tokenizer/byte_tokenizer.cpp tokenizer/word_tokenizer.cpp \
             tokenizer/sentencepiece_tokenizer.cpp tokenizer/spm_library.cpp util/base64.cpp \
             util/hardware_threads.cpp ;;
    fuzz_requests)
        echo serve/requests.cpp data/utf8.cpp ;;
    *)
        echo "build.sh: unknown target \"$1\" (expected one of: ${TARGETS[*]})" >&2
        return 1 ;;
    esac
}

libs_of() {
    case $1 in
    fuzz_tokenizer_json)
        pkg-config --libs sentencepiece 2>/dev/null || echo -lsentencepiece -lsentencepiece_train ;;
    *) echo "" ;;
    esac
}

if [ "${1:-}" = "--list" ]; then
    printf '%s\n' "${TARGETS[@]}"
    exit 0
fi

out=${1:-$root/build/fuzz}
shift || true
wanted=("$@")
((${#wanted[@]})) || wanted=("${TARGETS[@]}")

CXX=${CXX_FUZZ:-clang++}
read -r -a NICE <<<"${FUZZ_NICE-nice -n 19}"
FLAGS=(-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I "$core" -I "$here")

# Can this compiler build a fuzzer at all? (clang without libclang-rt-*-dev cannot link one.)
if ! command -v "$CXX" >/dev/null 2>&1; then
    echo "build.sh: SKIP: $CXX not found (install clang libclang-rt-14-dev; see scripts/setup.sh)" >&2
    exit 77
fi
mkdir -p "$out"
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
printf '#include <cstddef>\n#include <cstdint>\nextern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n' \
    >"$probe_dir/probe.cpp"
if ! "$CXX" -fsanitize=fuzzer,address,undefined "$probe_dir/probe.cpp" -o "$probe_dir/probe" \
    >"$probe_dir/log" 2>&1; then
    cat "$probe_dir/log" >&2
    echo "build.sh: SKIP: $CXX cannot link a libFuzzer binary (install libclang-rt-14-dev; see scripts/setup.sh)" >&2
    exit 77
fi

# A binary is stale when this script, one of its sources, or any header of core/
# or tests/fuzz/ is newer than it.
stale() {
    local bin=$1 f
    shift
    for f in "$here/build.sh" "$@"; do
        [ "$f" -nt "$bin" ] && return 0
    done
    [ -n "$(find "$core" "$here" -name '*.h' -newer "$bin" -print -quit)" ]
}

status=0
for t in "${wanted[@]}"; do
    srcs=$(sources_of "$t") || exit 1
    files=("$here/$t.cpp")
    for s in $srcs; do
        case $s in
        @*) files+=("$here/${s#@}") ;;
        *) files+=("$core/$s") ;;
        esac
    done
    for f in "${files[@]}"; do
        [ -f "$f" ] || { echo "build.sh: $t: missing source $f" >&2; exit 1; }
    done
    bin=$out/$t
    if [ -x "$bin" ] && [ "${FUZZ_FORCE:-0}" != 1 ] && ! stale "$bin" "${files[@]}"; then
        echo "build.sh: $t: up to date ($bin)"
        continue
    fi
    echo "build.sh: building $t -> $bin"
    echo "  sources: ${files[*]#"$root/"}"
    libs=$(libs_of "$t")
    [ -z "$libs" ] || echo "  libs: $libs"
    # shellcheck disable=SC2086
    if ! "${NICE[@]}" "$CXX" "${FLAGS[@]}" "${files[@]}" $libs -o "$bin.tmp"; then
        echo "build.sh: FAILED to build $t" >&2
        rm -f "$bin.tmp"
        status=1
        continue
    fi
    mv "$bin.tmp" "$bin"
    echo "build.sh: built $t"
done
if [ "$status" -ne 0 ]; then
    echo "build.sh: some targets failed to build (see above)" >&2
fi
exit "$status"
