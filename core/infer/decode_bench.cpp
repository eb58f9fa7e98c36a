#include "infer/decode_bench.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "data/tokenize_bench.h"
#include "infer/decode_kernels.h"
#include "util/error.h"
#include "util/threads.h"

namespace itera {

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

double measure_decode(const InferenceModel& model, std::int64_t batch, int threads,
                      std::int64_t tokens, int repeats) {
    const auto V = model.config().vocab_size;
    std::vector<double> rates;
    for (int r = 0; r < repeats; ++r) {
        Decoder dec(model.decode_model(), batch, threads);
        std::vector<std::int32_t> next(static_cast<std::size_t>(batch));
        for (std::int64_t b = 0; b < batch; ++b)
            next[static_cast<std::size_t>(b)] = static_cast<std::int32_t>((b * 37 + 1) % V);
        auto advance = [&] {
            const float* logits = dec.step(next.data());
            for (std::int64_t b = 0; b < batch; ++b) {  // greedy, as generation would
                next[static_cast<std::size_t>(b)] =
                    static_cast<std::int32_t>(decode::argmax(logits + b * V, V));
            }
        };
        for (int i = 0; i < 16; ++i) advance();  // warm the caches
        const auto t0 = Clock::now();
        for (std::int64_t i = 0; i < tokens; ++i) advance();
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        rates.push_back(static_cast<double>(tokens * batch) / s);
    }
    return median(rates);
}

double measure_prefill(const InferenceModel& model, std::int64_t tokens, int threads, int repeats) {
    const auto V = model.config().vocab_size;
    std::vector<std::int32_t> prompt(static_cast<std::size_t>(tokens));
    for (std::size_t i = 0; i < prompt.size(); ++i)
        prompt[i] = static_cast<std::int32_t>((i * 7919 + 17) % static_cast<std::size_t>(V));
    std::vector<double> rates;
    for (int rep = 0; rep <= repeats; ++rep) {  // the first run warms up, untimed
        Decoder dec(model.decode_model(), 1, threads);
        const auto t0 = Clock::now();
        model.prefill(dec, 0, prompt);
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        if (rep > 0) rates.push_back(static_cast<double>(tokens) / s);
    }
    return median(rates);
}

namespace {

/// GB/s of one thread summing a `bytes` buffer again and again (cache-warm).
double read_speed(std::size_t bytes, int repeats) {
    std::vector<float> buf(bytes / sizeof(float), 1.0f);
    const auto n = static_cast<std::int64_t>(buf.size());
    volatile float sink = 0;
    std::vector<double> rates;
    for (int r = 0; r < repeats; ++r) {
        sink = sink + decode::stream_sum(buf.data(), n);  // warm
        const int passes =
            std::max<int>(8, static_cast<int>(2e9 / static_cast<double>(bytes)) / repeats / 4);
        const auto t0 = Clock::now();
        for (int p = 0; p < passes; ++p) sink = sink + decode::stream_sum(buf.data(), n);
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        rates.push_back(static_cast<double>(bytes) * passes / s / 1e9);
    }
    return median(rates);
}

}  // namespace

DecodeBenchResult run_decode_bench(const InferenceModel& model, const DecodeBenchOptions& o,
                                   const std::function<void(const std::string&)>& progress) {
    if (o.decode_tokens < 1 || o.prompt_tokens < 1 || o.batch < 1 || o.repeats < 1)
        throw Error("bench decode: tokens, prompt tokens, batch and repeats must be positive");
    auto say = [&](const std::string& s) {
        if (progress) progress(s);
    };
    DecodeBenchResult r;
    r.threads = set_thread_count(o.threads);
    r.active_weight_bytes = model.decode_model()->active_weight_bytes();
    say("reading a buffer the size of the active weights");
    r.read_gb_per_s = read_speed(r.active_weight_bytes, o.repeats);
    r.read_bound_tokens_per_s = r.read_gb_per_s * 1e9 / static_cast<double>(r.active_weight_bytes);
    say("decoding, 1 thread");
    r.decode_tokens_per_s_1t = measure_decode(model, 1, 1, o.decode_tokens, o.repeats);
    r.weight_gb_per_s_1t =
        r.decode_tokens_per_s_1t * static_cast<double>(r.active_weight_bytes) / 1e9;
    say("decoding, " + std::to_string(r.threads) + " threads");
    r.decode_tokens_per_s = r.threads == 1
                                ? r.decode_tokens_per_s_1t
                                : measure_decode(model, 1, r.threads, o.decode_tokens, o.repeats);
    say("decoding " + std::to_string(o.batch) + " streams, 1 thread");
    r.batch_tokens_per_s_1t = measure_decode(
        model, o.batch, 1, std::max<std::int64_t>(1, o.decode_tokens / o.batch), o.repeats);

    say("prefill, " + std::to_string(r.threads) + " threads");
    r.prefill_tokens_per_s = measure_prefill(model, o.prompt_tokens, r.threads, o.repeats);
    r.peak_rss_kb = peak_rss_kb();
    return r;
}

}  // namespace itera
