#pragma once
// The classic-compressor baseline a language model must beat: xz -9e
// (LZMA2, preset 9 extreme) conditional on the training text,
//
//   bits/byte = (8 · |xz(train + validation)| − 8 · |xz(train)|) / |validation|
//
// i.e. what the validation text costs once the compressor has seen the
// training text. Computed with liblzma in memory.

#include <cstdint>
#include <string>

#include "data/corpus.h"
#include "data/documents.h"

namespace itera {

struct XzBaseline {
    double bits_per_byte = 0;
    std::uint64_t train_bytes = 0;  ///< training text used as context (its tail, if capped)
    std::uint64_t validation_bytes = 0;
    std::uint64_t train_compressed = 0, both_compressed = 0;
    bool train_truncated = false;  ///< only the last `max_train_bytes` were used
    double seconds = 0;
};

/// Compressed size of `bytes` at xz -9e.
std::uint64_t xz_compressed_size(const std::string& bytes);

/// Baseline for the splits of `source` (documents joined by newlines). A
/// training text longer than `max_train_bytes` is cut to its tail (xz -9e's
/// dictionary is 64 MiB, so a tail of that size is all it could use anyway).
XzBaseline xz_baseline(const CorpusSource& source, const ReadOptions& read,
                       const SplitSettings& split, std::uint64_t max_train_bytes = 64ull << 20);

}  // namespace itera
