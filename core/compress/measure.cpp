#include "compress/measure.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "eval/compare.h"
#include "eval/quality_stats.h"
#include "infer/paired_timing.h"
#include "util/error.h"
#include "util/threads.h"

namespace itera {
namespace {

void check_cancel(const MeasureOptions& m) {
    if (m.cancel && m.cancel->load()) throw Error("cancelled");
}

}  // namespace

void check_not_source(const std::filesystem::path& source, const std::filesystem::path& out) {
    if (std::filesystem::exists(out) && std::filesystem::exists(source) &&
        std::filesystem::equivalent(out, source))
        throw Error("the output " + out.string() + " is the source checkpoint itself");
}

CompressionReport compression_report_of(const std::filesystem::path& source,
                                        const CompressOptions& options, const CompressResult& cr) {
    CompressionReport r;
    r.method =
        options.mixed() ? std::string("mixed") : std::string(scheme_traits(options.scheme).name);
    r.source = source.string();
    r.path = cr.path.string();
    r.source_bytes = static_cast<std::int64_t>(cr.source_bytes);
    r.bytes = static_cast<std::int64_t>(cr.bytes);
    r.ratio = static_cast<double>(cr.source_bytes) / static_cast<double>(cr.bytes);
    r.bpw = cr.bits_per_weight;
    r.quantized_weights = cr.quantized_weights;
    for (const auto& t : cr.tensors) {
        TensorReport x;
        x.name = t.name;
        x.shape = t.shape;
        x.scheme = t.scheme;
        x.bytes = static_cast<std::int64_t>(t.bytes);
        x.source_bytes = static_cast<std::int64_t>(t.source_bytes);
        x.rel_rms = t.error.rel_rms;
        if (std::isfinite(t.error.sqnr_db)) x.sqnr_db = t.error.sqnr_db;
        r.tensors.push_back(std::move(x));
    }
    return r;
}

void measure_model(const std::filesystem::path& source, const std::filesystem::path& out,
                   const MeasureOptions& m, CompressionReport& r) {
    auto say = [&](const std::string& phase, double fraction) {
        if (m.progress) m.progress(phase, fraction);
    };
    r.source = source.string();
    r.path = out.string();
    r.source_bytes = static_cast<std::int64_t>(std::filesystem::file_size(source));
    r.bytes = static_cast<std::int64_t>(std::filesystem::file_size(out));
    r.ratio = static_cast<double>(r.source_bytes) / static_cast<double>(r.bytes);
    say("loading both models", -1);
    auto src_model = InferenceModel::load(source);
    auto cmp_model = InferenceModel::load(out);
    if (m.text) {
        const Tokenizer& tok = src_model->require_tokenizer();
        EvalOptions eo;
        eo.max_tokens = m.max_tokens;
        eo.cancel = m.cancel;
        eo.progress = [&](std::int64_t done, std::int64_t total) {
            say("comparing on held-out text",
                double(done) / double(std::max<std::int64_t>(1, total)));
        };
        auto c = compare_models(*src_model, *cmp_model, *m.text, tok, m.text_bytes, eo,
                                m.threads > 0 ? m.threads : default_thread_count(), true);
        r.statistics = quality_statistics(c.per_token);
        r.eval = EvalTextReport{m.text_name, "validation", c.reference.tokens,
                                static_cast<std::int64_t>(c.reference.bytes)};
        QualityReport q;
        q.source_perplexity = c.reference.perplexity;
        q.perplexity = c.candidate.perplexity;
        q.delta_ppl_pct = 100.0 * (c.candidate.perplexity / c.reference.perplexity - 1.0);
        q.source_bits_per_byte = c.reference.bits_per_byte;
        q.bits_per_byte = c.candidate.bits_per_byte;
        q.kld = c.kld;
        q.top1_agreement = c.top1_agreement;
        r.quality = q;
    }
    // Both models timed interleaved in one measurement (infer/paired_timing.h):
    // the ratios compare runs taken seconds apart, never minutes.
    PairedTimingOptions po;
    po.pairs = m.timing_pairs;
    po.threads = 1;
    po.decode_tokens = 512;
    po.prompt_tokens = 512;
    po.batch = 8;
    po.batch_tokens = 128;
    po.progress = [&](int pair, int pairs) {
        say("timing decoding and prefill, both models in turn", double(pair) / pairs);
    };
    po.check_cancel = [&] { check_cancel(m); };
    const auto t = time_pair(*src_model, *cmp_model, po);
    PairedSpeedReport p;
    p.threads = po.threads;
    p.pairs = po.pairs;
    p.decode_tokens = po.decode_tokens;
    p.prompt_tokens = po.prompt_tokens;
    p.batch = po.batch;
    p.batch_tokens = po.batch_tokens;
    p.decode = t.decode;
    p.prefill = t.prefill;
    p.batched = t.batched;
    r.paired = p;
    SpeedReport s;
    s.source_decode_tokens_per_s = t.decode.a_median;
    s.decode_tokens_per_s = t.decode.b_median;
    s.source_prefill_tokens_per_s = t.prefill.a_median;
    s.prefill_tokens_per_s = t.prefill.b_median;
    s.source_weight_bytes = static_cast<std::int64_t>(src_model->decode_model()->weight_bytes());
    s.weight_bytes = static_cast<std::int64_t>(cmp_model->decode_model()->weight_bytes());
    s.timing = {po.pairs, po.threads, po.decode_tokens, po.prompt_tokens};
    r.speed = s;
}

}  // namespace itera
