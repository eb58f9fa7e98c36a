#include "infer/paired_timing.h"

#include <algorithm>

#include "infer/decode_bench.h"
#include "util/error.h"

namespace itera {
namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

void PairedRate::summarise() {
    if (a.empty() || a.size() != b.size()) return;
    std::vector<double> ratios;
    for (std::size_t i = 0; i < a.size(); ++i) ratios.push_back(a[i] > 0 ? b[i] / a[i] : 0.0);
    a_median = median(a);
    b_median = median(b);
    ratio_median = median(ratios);
    ratio_min = *std::min_element(ratios.begin(), ratios.end());
    ratio_max = *std::max_element(ratios.begin(), ratios.end());
}

PairedTiming time_pair(const InferenceModel& a, const InferenceModel& b,
                       const PairedTimingOptions& o) {
    if (o.pairs < 5) throw Error("paired timing: at least 5 pairs, got " + std::to_string(o.pairs));
    if (o.decode_tokens < 1 || o.prompt_tokens < 1 || o.batch < 0 || o.threads < 1)
        throw Error("paired timing: tokens and threads must be positive");
    PairedTiming t;
    t.options = o;
    auto check = [&] {
        if (o.check_cancel) o.check_cancel();
    };
    // One run of each kind for one model: decode, prefill, batched decode.
    auto run = [&](const InferenceModel& m, std::vector<double>* decode,
                   std::vector<double>* prefill, std::vector<double>* batched) {
        const double d = measure_decode(m, 1, o.threads, o.decode_tokens, 1);
        check();
        const double p = measure_prefill(m, o.prompt_tokens, o.threads, 1);
        check();
        const double bt =
            o.batch > 0 ? measure_decode(m, o.batch, o.threads, o.batch_tokens, 1) : 0;
        check();
        if (decode) decode->push_back(d);
        if (prefill) prefill->push_back(p);
        if (batched && o.batch > 0) batched->push_back(bt);
    };
    run(a, nullptr, nullptr, nullptr);  // warm-up: caches, pages, thread pools
    run(b, nullptr, nullptr, nullptr);
    for (int pair = 0; pair < o.pairs; ++pair) {
        if (o.progress) o.progress(pair, o.pairs);
        // Alternate which goes first, so a drift in the machine's speed
        // favours neither.
        if (pair % 2 == 0) {
            run(a, &t.decode.a, &t.prefill.a, &t.batched.a);
            run(b, &t.decode.b, &t.prefill.b, &t.batched.b);
        } else {
            run(b, &t.decode.b, &t.prefill.b, &t.batched.b);
            run(a, &t.decode.a, &t.prefill.a, &t.batched.a);
        }
    }
    t.decode.summarise();
    t.prefill.summarise();
    t.batched.summarise();
    return t;
}

}  // namespace itera
