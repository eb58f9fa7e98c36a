#pragma once
// The decode benchmark behind `itera bench decode`: single-stream greedy
// decoding on one thread and on all threads, batched decoding, and the
// prefill of a prompt, each timed several times (the median is reported).

#include <cstdint>
#include <functional>
#include <string>

#include "infer/inference_model.h"

namespace itera {

struct DecodeBenchOptions {
    std::int64_t decode_tokens = 1024;  ///< tokens per timed decode run
    std::int64_t prompt_tokens = 512;   ///< tokens of the prefilled prompt
    std::int64_t batch = 8;             ///< sequences of the batched run
    int threads = 0;                    ///< 0 = all cores
    int repeats = 3;
};

struct DecodeBenchResult {
    int threads = 1;
    double decode_tokens_per_s_1t = 0;  ///< single stream, one thread
    double decode_tokens_per_s = 0;     ///< single stream, `threads` threads
    double batch_tokens_per_s_1t = 0;   ///< `batch` streams, one thread, tokens of all streams
    double prefill_tokens_per_s = 0;    ///< `threads` threads
    std::size_t active_weight_bytes = 0;
    double weight_gb_per_s_1t = 0;  ///< active weights read per second, single stream, one thread
    /// One core's streaming read speed over a buffer the size of the active
    /// weights, and the decode rate it would allow if reading were all a token did.
    double read_gb_per_s = 0;
    double read_bound_tokens_per_s = 0;
    long peak_rss_kb = 0;
};

/// Tokens/s of greedy decoding with `batch` streams on `threads` threads
/// (median of `repeats` runs of `tokens` steps; every stream's tokens count).
double measure_decode(const InferenceModel& model, std::int64_t batch, int threads,
                      std::int64_t tokens, int repeats);

/// Tokens/s of absorbing a `tokens`-long prompt (median of `repeats`, after one
/// untimed run).
double measure_prefill(const InferenceModel& model, std::int64_t tokens, int threads, int repeats);

/// `progress` receives a line describing the phase about to run.
DecodeBenchResult run_decode_bench(const InferenceModel& model, const DecodeBenchOptions& options,
                                   const std::function<void(const std::string&)>& progress = {});

}  // namespace itera
