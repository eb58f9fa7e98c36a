#include "eval/compare.h"

#include <chrono>
#include <cmath>
#include <memory>

#include "infer/decode_kernels.h"
#include "util/error.h"

namespace itera {

namespace {

struct Totals {
    double nats = 0;
};

/// Runs `models` (one or two) over the windows; `visit(b, target, logits_per_model)`
/// sees every predicted position.
template <class Visit>
std::int64_t run_windows(const std::vector<const InferenceModel*>& models, const EvalTokens& et,
                         const EvalOptions& o, int threads, Visit visit) {
    if (o.batch_size < 1 || o.seq_len < 1)
        throw Error("evaluation: batch_size and seq_len must be positive");
    const std::int64_t n = et.targets(), T = o.seq_len, B = o.batch_size;
    const std::int64_t windows = (n + T - 1) / T;
    std::vector<std::unique_ptr<Decoder>> decoders;
    for (const auto* m : models)
        decoders.push_back(std::make_unique<Decoder>(m->decode_model(), B, threads));
    std::vector<const float*> logits(models.size());
    std::vector<std::int64_t> seqs;
    std::vector<std::int32_t> inputs;
    std::int64_t done = 0;
    for (std::int64_t w0 = 0; w0 < windows; w0 += B) {
        const std::int64_t count = std::min(B, windows - w0);
        for (auto& d : decoders)
            for (std::int64_t b = 0; b < count; ++b) d->reset(b);
        for (std::int64_t t = 0; t < T; ++t) {
            seqs.clear();
            inputs.clear();
            for (std::int64_t b = 0; b < count; ++b) {
                const std::int64_t pos = (w0 + b) * T + t;  // input position; target pos + 1
                if (pos + 1 > n) continue;
                seqs.push_back(b);
                inputs.push_back(static_cast<std::int32_t>(et.ids[static_cast<std::size_t>(pos)]));
            }
            if (seqs.empty()) break;
            for (std::size_t m = 0; m < decoders.size(); ++m)
                logits[m] = decoders[m]->step_sequences(seqs.data(), inputs.data(),
                                                        static_cast<std::int64_t>(seqs.size()));
            for (std::size_t i = 0; i < seqs.size(); ++i) {
                const std::int64_t pos = (w0 + seqs[i]) * T + t;
                visit(i, static_cast<std::int32_t>(et.ids[static_cast<std::size_t>(pos + 1)]),
                      logits);
            }
            done += static_cast<std::int64_t>(seqs.size());
        }
        if (o.progress) o.progress(done, n);
        if (o.cancel && o.cancel->load()) throw Error("cancelled");
    }
    return done;
}

EvalResult finish(double nats, std::int64_t n, std::uint64_t bytes, double seconds) {
    EvalResult r;
    r.tokens = n;
    r.bytes = bytes;
    r.loss = nats / static_cast<double>(n);
    r.perplexity = std::exp(r.loss);
    r.bits_per_byte = bytes ? nats / std::log(2.0) / static_cast<double>(bytes) : 0.0;
    r.seconds = seconds;
    return r;
}

double since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

EvalResult evaluate_decoder(const InferenceModel& model, const TokenStream& stream,
                            const Tokenizer& tokenizer, std::uint64_t stream_bytes,
                            const EvalOptions& o, int threads) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto et = eval_tokens(stream, tokenizer, stream_bytes, o.max_tokens);
    const std::int64_t V = model.config().vocab_size;
    double nats = 0;
    const std::int64_t n = run_windows(
        {&model}, et, o, threads, [&](std::size_t row, std::int32_t target, const auto& logits) {
            const float* l = logits[0] + static_cast<std::int64_t>(row) * V;
            nats += static_cast<double>(decode::log_sum_exp(l, V)) - l[target];
        });
    return finish(nats, n, et.bytes, since(t0));
}

CompareResult compare_models(const InferenceModel& reference, const InferenceModel& candidate,
                             const TokenStream& stream, const Tokenizer& tokenizer,
                             std::uint64_t stream_bytes, const EvalOptions& o, int threads,
                             bool per_token) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::int64_t V = reference.config().vocab_size;
    if (candidate.config().vocab_size != V)
        throw Error("compare: the models have different vocabularies (" + std::to_string(V) +
                    " and " + std::to_string(candidate.config().vocab_size) + ")");
    const auto et = eval_tokens(stream, tokenizer, stream_bytes, o.max_tokens);
    double nats_a = 0, nats_b = 0, kl = 0;
    std::int64_t agree = 0;
    TokenComparison tc;
    const std::int64_t n = run_windows(
        {&reference, &candidate}, et, o, threads,
        [&](std::size_t row, std::int32_t target, const auto& logits) {
            const float* a = logits[0] + static_cast<std::int64_t>(row) * V;
            const float* b = logits[1] + static_cast<std::int64_t>(row) * V;
            const float lse_a = decode::log_sum_exp(a, V), lse_b = decode::log_sum_exp(b, V);
            const double nll_a = static_cast<double>(lse_a) - a[target];
            const double nll_b = static_cast<double>(lse_b) - b[target];
            const double k = decode::kl_divergence(a, lse_a, b, lse_b, V);
            const bool same = decode::argmax(a, V) == decode::argmax(b, V);
            nats_a += nll_a;
            nats_b += nll_b;
            kl += k;
            agree += same;
            if (per_token) {
                tc.nll_reference.push_back(static_cast<float>(nll_a));
                tc.nll_candidate.push_back(static_cast<float>(nll_b));
                tc.kld.push_back(static_cast<float>(k));
                tc.p_reference.push_back(static_cast<float>(std::exp(-nll_a)));
                tc.p_candidate.push_back(static_cast<float>(std::exp(-nll_b)));
                tc.same_top.push_back(same ? 1 : 0);
            }
        });
    const double s = since(t0);
    CompareResult r;
    r.reference = finish(nats_a, n, et.bytes, s);
    r.candidate = finish(nats_b, n, et.bytes, s);
    r.kld = kl / static_cast<double>(n);
    r.top1_agreement = static_cast<double>(agree) / static_cast<double>(n);
    r.per_token = std::move(tc);
    return r;
}

}  // namespace itera
