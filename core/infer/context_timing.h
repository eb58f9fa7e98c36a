#pragma once
// Decode speed by context length, for two models timed interleaved (see
// paired_timing.h): at each context length C, one sequence absorbs C tokens
// (the prefill, timed) and then decodes greedily (timed per token). An SSM's
// step costs the same at any C; attention's grows with the cached keys, so the
// curves can cross: `crossing` says where, on this machine.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "infer/inference_model.h"
#include "infer/paired_timing.h"

namespace itera {

/// Where `itera bench decode --contexts` keeps a run's figures, in its folder.
inline constexpr const char* kDecodeByContextFile = "decode-by-context.json";

struct ContextTimingOptions {
    std::vector<std::int64_t> contexts = {128, 512, 2048};
    std::int64_t decode_tokens = 32;  ///< timed steps after each prefill
    int pairs = 5;                    ///< A B / B A pairs per context length
    int threads = 1;                  ///< for both models
    /// Called before each pair with (context, pair, pairs).
    std::function<void(std::int64_t, int, int)> progress;
};

struct ContextPoint {
    std::int64_t context = 0;
    PairedRate prefill;  ///< tokens/s absorbing the C-token context
    PairedRate decode;   ///< tokens/s decoding after it
    /// Bytes of recurrent state one sequence holds after the run (SSM states,
    /// or the key/value cache).
    std::size_t state_bytes_a = 0, state_bytes_b = 0;
};

struct ContextTiming {
    ContextTimingOptions options;
    std::vector<ContextPoint> points;
    /// The context length at which B's decode speed equals A's (the median
    /// ratio crossing 1 between two measured lengths, interpolated linearly in
    /// log C); none when it stays on one side over the lengths measured.
    std::optional<double> crossing;
};

ContextTiming time_contexts(const InferenceModel& a, const InferenceModel& b,
                            const ContextTimingOptions& options);

/// Where ratios r(C) (ascending C) cross 1, interpolated linearly in log C.
std::optional<double> ratio_crossing(const std::vector<std::int64_t>& contexts,
                                     const std::vector<double>& ratios);

}  // namespace itera
