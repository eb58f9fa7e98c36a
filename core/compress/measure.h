#pragma once
// Measuring a model file against its FP32 source: quality on held-out text
// (perplexity and its change, bits/byte, KL divergence, top-1 agreement), the
// decode and prefill speed of both decoders timed in alternating rounds, and
// the sizes of both files. Pure: the text comes in, a report comes out; where
// the text comes from and where the report is kept is workflows/' business.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "compress/compress.h"
#include "compress/compression_report.h"
#include "data/token_cache.h"

namespace itera {

struct MeasureOptions {
    /// Held-out text in the source's tokenizer; null: sizes and speeds only.
    const TokenStream* text = nullptr;
    std::uint64_t text_bytes = 0;     ///< UTF-8 bytes of the whole text
    std::string text_name;            ///< the corpus, as the report names it
    std::int64_t max_tokens = 65536;  ///< evaluated tokens at most
    int threads = 0;                  ///< 0 = all cores (the comparison; timing uses one)
    int timing_pairs = 5;             ///< interleaved pairs per speed comparison (at least 5)
    /// Called with the phase ("comparing on held-out text", ...) and its
    /// progress in [0, 1] (-1 when unknown).
    std::function<void(const std::string& phase, double fraction)> progress;
    const std::atomic<bool>* cancel = nullptr;  ///< set to stop; throws itera::Error("cancelled")
};

/// Throws if `out` is the file `source` (writing it would destroy the source).
void check_not_source(const std::filesystem::path& source, const std::filesystem::path& out);

/// The report of a compression before it is measured: method, files, sizes,
/// bits per weight and every tensor's error.
CompressionReport compression_report_of(const std::filesystem::path& source,
                                        const CompressOptions& options,
                                        const CompressResult& result);

/// Measures the model file `out` against its FP32 `source` into `report`:
/// both file sizes and the ratio, quality on `m.text` (when given), decode
/// and prefill speeds and decoder weight bytes.
void measure_model(const std::filesystem::path& source, const std::filesystem::path& out,
                   const MeasureOptions& m, CompressionReport& report);

}  // namespace itera
