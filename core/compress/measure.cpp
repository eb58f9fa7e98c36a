#include "compress/measure.h"

#include "compress/data_spec.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "eval/compare.h"
#include "eval/eval_data.h"
#include "infer/decode_bench.h"
#include "train/run_launch.h"
#include "util/error.h"
#include "util/sha256.h"
#include "util/threads.h"

namespace itera {
namespace {

std::filesystem::path store_path(const MeasureOptions& m) {
    return m.db.empty() ? RunStore::default_path() : m.db;
}

void check_cancel(const MeasureOptions& m) {
    if (m.cancel && m.cancel->load()) throw Error("cancelled");
}

}  // namespace

DataSpec compression_data_spec(const std::map<std::string, std::string>& meta,
                               const std::optional<std::string>& eval_data,
                               const std::filesystem::path& db) {
    if (eval_data) {
        auto spec = DataSpec::from_json("{}");
        spec.request.corpus = *eval_data;
        return spec;
    }
    if (auto it = meta.find("run_id"); it != meta.end()) {
        try {
            RunStore store(db.empty() ? RunStore::default_path() : db);
            if (auto run = store.find_run(std::stoll(it->second))) return stored_data_spec(*run);
        } catch (const std::exception&) {  // no store or no such run: the defaults
        }
    }
    return DataSpec::from_json("{}");
}

EvalData compression_text(const DataSpec& spec, const Tokenizer& tokenizer, Split split,
                          int threads, const std::atomic<bool>* cancel) {
    CacheBuildOptions cache;
    cache.split = spec.split;
    cache.read = spec.read;
    cache.threads = threads;
    cache.cancel = cancel;
    return prepare_eval_data(spec.request.corpus, spec.request.format, tokenizer, split, cache);
}

void check_not_source(const std::filesystem::path& source, const std::filesystem::path& out) {
    if (std::filesystem::exists(out) && std::filesystem::exists(source) &&
        std::filesystem::equivalent(out, source))
        throw Error("the output " + out.string() + " is the source checkpoint itself");
}

MeasuredCompression compress_and_measure(const std::filesystem::path& source,
                                         const CompressOptions& options,
                                         const std::filesystem::path& out,
                                         const MeasureOptions& m) {
    auto say = [&](const std::string& phase, double fraction) {
        if (m.progress) m.progress(phase, fraction);
    };
    check_not_source(source, out);
    MeasuredCompression r;
    say("compressing", -1);
    r.result = compress_checkpoint(source, options, out);
    const auto& cr = r.result;
    check_cancel(m);
    nlohmann::json tensors = nlohmann::json::array();
    for (const auto& t : cr.tensors)
        tensors.push_back(
            {{"name", t.name},
             {"shape", t.shape},
             {"scheme", t.scheme},
             {"bytes", t.bytes},
             {"source_bytes", t.source_bytes},
             {"rel_rms", t.error.rel_rms},
             {"sqnr_db", std::isfinite(t.error.sqnr_db) ? nlohmann::json(t.error.sqnr_db)
                                                        : nlohmann::json()}});
    nlohmann::json j = {
        {"method",
         options.mixed() ? std::string("mixed") : std::string(scheme_traits(options.scheme).name)},
        {"source", source.string()},
        {"path", out.string()},
        {"source_bytes", cr.source_bytes},
        {"bytes", cr.bytes},
        {"ratio", static_cast<double>(cr.source_bytes) / static_cast<double>(cr.bytes)},
        {"bpw", cr.bits_per_weight},
        {"quantized_weights", cr.quantized_weights},
        {"tensors", tensors}};

    r.report = j.dump();
    auto measured = measure_and_record(source, out, r.report, m);
    measured.result = std::move(r.result);
    return measured;
}

MeasuredCompression measure_and_record(const std::filesystem::path& source,
                                       const std::filesystem::path& out,
                                       const std::string& base_report, const MeasureOptions& m) {
    auto say = [&](const std::string& phase, double fraction) {
        if (m.progress) m.progress(phase, fraction);
    };
    MeasuredCompression r;
    r.result.path = out;
    r.result.bytes = std::filesystem::file_size(out);
    r.result.source_bytes = std::filesystem::file_size(source);
    auto j = nlohmann::json::parse(base_report);
    if (!j.contains("method")) throw Error("internal: a measured model needs a method");
    j["source"] = source.string();
    j["path"] = out.string();
    j["source_bytes"] = r.result.source_bytes;
    j["bytes"] = r.result.bytes;
    j["ratio"] = static_cast<double>(r.result.source_bytes) / static_cast<double>(r.result.bytes);
    say("loading both models", -1);
    auto src_model = InferenceModel::load(source);
    auto cmp_model = InferenceModel::load(out);
    if (m.evaluate) {
        const Tokenizer& tok = src_model->require_tokenizer();
        auto spec = compression_data_spec(src_model->metadata(), m.eval_data, store_path(m));
        say("tokenising " + spec.request.corpus, -1);
        auto ed = compression_text(spec, tok, Split::Validation, m.threads, m.cancel);
        EvalOptions eo;
        eo.max_tokens = m.max_tokens;
        eo.cancel = m.cancel;
        eo.progress = [&](std::int64_t done, std::int64_t total) {
            say("comparing on held-out text",
                double(done) / double(std::max<std::int64_t>(1, total)));
        };
        auto c = compare_models(*src_model, *cmp_model, *ed.stream, tok, ed.bytes, eo,
                                m.threads > 0 ? m.threads : default_thread_count());
        j["eval"] = {{"data", spec.request.corpus},
                     {"split", "validation"},
                     {"tokens", c.reference.tokens},
                     {"bytes", c.reference.bytes}};
        j["source_perplexity"] = c.reference.perplexity;
        j["perplexity"] = c.candidate.perplexity;
        j["delta_ppl_pct"] = 100.0 * (c.candidate.perplexity / c.reference.perplexity - 1.0);
        j["source_bits_per_byte"] = c.reference.bits_per_byte;
        j["bits_per_byte"] = c.candidate.bits_per_byte;
        j["kld"] = c.kld;
        j["top1_agreement"] = c.top1_agreement;
    }
    // Alternating rounds, so both models see the same phases of a noisy machine.
    std::vector<double> src_rates, cmp_rates, src_prefill, cmp_prefill;
    for (int round = 0; round < 5; ++round) {
        check_cancel(m);
        say("timing decoding and prefill", round / 5.0);
        src_rates.push_back(measure_decode(*src_model, 1, 1, 512, 1));
        cmp_rates.push_back(measure_decode(*cmp_model, 1, 1, 512, 1));
        src_prefill.push_back(measure_prefill(*src_model, 512, 1, 1));
        cmp_prefill.push_back(measure_prefill(*cmp_model, 512, 1, 1));
    }
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    j["source_decode_tokens_per_s"] = median(src_rates);
    j["decode_tokens_per_s"] = median(cmp_rates);
    j["timing"] = {{"rounds", src_rates.size()},
                   {"threads", 1},
                   {"decode_tokens", 512},
                   {"prefill_tokens", 512}};
    j["source_prefill_tokens_per_s"] = median(src_prefill);
    j["prefill_tokens_per_s"] = median(cmp_prefill);
    j["source_weight_bytes"] = src_model->decode_model()->weight_bytes();
    j["weight_bytes"] = cmp_model->decode_model()->weight_bytes();

    if (!m.extra_report.empty()) {
        const auto extra = nlohmann::json::parse(m.extra_report, nullptr, false);
        if (extra.is_object()) j.update(extra);
    }

    // Keep the report with the source's run (or unattached).
    CompressionRecord rec;
    if (auto it = src_model->metadata().find("run_id"); it != src_model->metadata().end()) {
        try {
            rec.run_id = std::stoll(it->second);
        } catch (const std::exception&) {  // not a number: unattached
        }
    }
    rec.source_path = std::filesystem::absolute(source).string();
    rec.method = j["method"];
    rec.settings = j.dump();
    rec.path = std::filesystem::absolute(out).string();
    rec.bytes = static_cast<std::int64_t>(r.result.bytes);
    rec.sha256 = sha256_file(out);
    try {
        RunStore store(store_path(m));
        if (rec.run_id && !store.find_run(*rec.run_id)) rec.run_id.reset();
        r.compression_id = store.add_compression(rec);
        j["compression_id"] = *r.compression_id;
    } catch (const Error& e) {
        r.store_error = e.what();
    }
    r.report = j.dump();
    return r;
}

}  // namespace itera
