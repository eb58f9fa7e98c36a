#include "infer/context_timing.h"

#include <chrono>
#include <cmath>

#include "infer/decode_kernels.h"
#include "infer/decoder.h"
#include "util/error.h"

namespace itera {
namespace {

struct Run {
    double prefill = 0, decode = 0;  // tokens/s
    std::size_t state_bytes = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// The same pseudo-random ids for both models (SplitMix64, reduced to each vocabulary).
std::vector<std::int32_t> context_ids(std::int64_t n, std::int64_t vocab) {
    std::vector<std::int32_t> ids;
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    for (std::int64_t i = 0; i < n; ++i) {
        std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        ids.push_back(
            static_cast<std::int32_t>((z ^ (z >> 31)) % static_cast<std::uint64_t>(vocab)));
    }
    return ids;
}

Run run_once(const InferenceModel& m, std::int64_t context, std::int64_t steps, int threads) {
    const auto V = m.config().vocab_size;
    const auto ids = context_ids(context, V);
    Decoder dec(m.decode_model(), 1, threads);
    Run r;
    auto t0 = std::chrono::steady_clock::now();
    auto logits = m.prefill(dec, 0, ids);
    r.prefill = static_cast<double>(context) / seconds_since(t0);
    auto token = static_cast<std::int32_t>(decode::argmax(logits.data(), V));
    t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < steps; ++i)
        token = static_cast<std::int32_t>(decode::argmax(dec.step(&token), V));
    r.decode = static_cast<double>(steps) / seconds_since(t0);
    r.state_bytes = dec.state_bytes(0);
    return r;
}

}  // namespace

std::optional<double> ratio_crossing(const std::vector<std::int64_t>& contexts,
                                     const std::vector<double>& ratios) {
    for (std::size_t i = 1; i < contexts.size() && i < ratios.size(); ++i) {
        const double r0 = ratios[i - 1] - 1, r1 = ratios[i] - 1;
        if (r0 == 0) return static_cast<double>(contexts[i - 1]);
        if ((r0 < 0) == (r1 < 0) && r1 != 0) continue;
        const double l0 = std::log(double(contexts[i - 1])), l1 = std::log(double(contexts[i]));
        return std::exp(l0 + (l1 - l0) * r0 / (r0 - r1));
    }
    return std::nullopt;
}

ContextTiming time_contexts(const InferenceModel& a, const InferenceModel& b,
                            const ContextTimingOptions& o) {
    if (o.contexts.empty()) throw Error("context timing: no context lengths");
    if (o.pairs < 1 || o.decode_tokens < 1) throw Error("context timing: pairs and tokens >= 1");
    ContextTiming t;
    t.options = o;
    run_once(a, o.contexts.front(), o.decode_tokens, o.threads);  // warm-up: caches, pages
    run_once(b, o.contexts.front(), o.decode_tokens, o.threads);
    std::vector<std::int64_t> lengths;
    std::vector<double> ratios;
    for (auto context : o.contexts) {
        if (context < 1) throw Error("context timing: context lengths must be positive");
        ContextPoint p;
        p.context = context;
        for (int i = 0; i < o.pairs; ++i) {
            if (o.progress) o.progress(context, i, o.pairs);
            Run ra, rb;
            if (i % 2 == 0) {
                ra = run_once(a, context, o.decode_tokens, o.threads);
                rb = run_once(b, context, o.decode_tokens, o.threads);
            } else {
                rb = run_once(b, context, o.decode_tokens, o.threads);
                ra = run_once(a, context, o.decode_tokens, o.threads);
            }
            p.prefill.a.push_back(ra.prefill);
            p.prefill.b.push_back(rb.prefill);
            p.decode.a.push_back(ra.decode);
            p.decode.b.push_back(rb.decode);
            p.state_bytes_a = ra.state_bytes;
            p.state_bytes_b = rb.state_bytes;
        }
        p.prefill.summarise();
        p.decode.summarise();
        lengths.push_back(context);
        ratios.push_back(p.decode.ratio_median);
        t.points.push_back(std::move(p));
    }
    t.crossing = ratio_crossing(lengths, ratios);
    return t;
}

}  // namespace itera
