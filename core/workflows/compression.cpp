#include "workflows/compression.h"

#include <unistd.h>

#include <cstdio>

#include "compress/measure.h"
#include "eval/compare.h"
#include "eval/quality_stats.h"
#include "format/safetensors.h"
#include "store/run_store.h"
#include "tokenizer/stored_tokenizer.h"
#include "util/error.h"
#include "util/sha256.h"
#include "util/threads.h"
#include "workflows/model_source.h"

namespace itera {
namespace {

MeasureOptions measure_options(const MeasureRequest& r) {
    MeasureOptions m;
    m.max_tokens = r.max_tokens;
    m.threads = r.threads;
    m.timing_pairs = r.timing_pairs;
    m.progress = r.progress;
    m.cancel = r.cancel;
    return m;
}

}  // namespace

namespace {

// Measures `file` against `source` into `base` (quality on the source run's
// held-out text when asked, speeds, sizes).
void measure_file(const Workspace& ws, const std::filesystem::path& source,
                  const std::filesystem::path& file, CompressionReport& base,
                  const MeasureRequest& request) {
    auto m = measure_options(request);
    std::optional<EvalData> text;
    if (request.evaluate) {
        const auto source_file = SafetensorsFile::read(source);
        const auto tokenizer = stored_tokenizer(source_file.meta("tokenizer"), source);
        if (!tokenizer)
            throw Error(source.string() +
                        ": the checkpoint has no tokenizer attached, so it cannot be measured on "
                        "text (train it, or measure with evaluate off)");
        const auto spec = source_data_spec(ws, source_file.metadata(), request.eval_data);
        if (m.progress) m.progress("tokenising " + spec.request.corpus, -1);
        text =
            source_text(ws, spec, *tokenizer, Split::Validation, request.threads, request.cancel);
        m.text = text->stream.get();
        m.text_bytes = text->bytes;
        m.text_name = spec.request.corpus;
    }
    measure_model(source, file, m, base);
}

// Keeps the report of `out` with the source's run (or unattached).
MeasuredCompression record(const Workspace& ws, const std::filesystem::path& source,
                           const std::filesystem::path& out, CompressionReport base) {
    MeasuredCompression r;
    r.result.path = out;
    r.result.bytes = std::filesystem::file_size(out);
    r.result.source_bytes = std::filesystem::file_size(source);
    CompressionRecord rec;
    rec.source_path = std::filesystem::absolute(source).string();
    rec.method = base.method;
    rec.path = std::filesystem::absolute(out).string();
    rec.bytes = base.bytes;
    rec.sha256 = sha256_file(out);
    try {
        RunStore store(ws.db_path);
        rec.run_id = source_run_id(store, SafetensorsFile::read(source).metadata());
        rec.report = base;
        r.compression_id = store.add_compression(rec);
        base.compression_id = r.compression_id;
    } catch (const Error& e) {
        r.store_error = e.what();
    }
    r.report = std::move(base);
    return r;
}

// A temporary file beside `out`, removed unless it was renamed over `out`.
struct TempOutput {
    std::filesystem::path out, path;
    bool kept = false;
    explicit TempOutput(std::filesystem::path target)
        : out(std::move(target)),
          path(out.parent_path() /
               (out.filename().string() + ".tmp-" + std::to_string(::getpid()))) {}
    ~TempOutput() {
        std::error_code ec;
        if (!kept) std::filesystem::remove(path, ec);
    }
    void keep() {
        std::filesystem::rename(path, out);
        kept = true;
    }
};

// Compresses `source` with `options` into a temporary file, measures it,
// and only then puts it at `out`: a failure leaves `out` as it was.
MeasuredCompression compress_measure_record(const Workspace& ws,
                                            const std::filesystem::path& source,
                                            const CompressOptions& options,
                                            const std::filesystem::path& out,
                                            const MeasureRequest& m,
                                            std::optional<MixedPlanReport> plan) {
    check_not_source(source, out);
    if (m.progress) m.progress("compressing", -1);
    TempOutput tmp(out);
    auto result = compress_checkpoint(source, options, tmp.path);
    if (m.cancel && m.cancel->load()) throw Error("cancelled");
    auto base = compression_report_of(source, options, result);
    base.mixed = std::move(plan);
    measure_file(ws, source, tmp.path, base, m);
    tmp.keep();
    result.path = out;
    base.path = out.string();
    auto measured = record(ws, source, out, std::move(base));
    measured.result = std::move(result);
    return measured;
}

}  // namespace

MeasuredCompression compress_and_measure(const Workspace& ws, const std::filesystem::path& source,
                                         const CompressOptions& options,
                                         const std::filesystem::path& out,
                                         const MeasureRequest& m) {
    return compress_measure_record(ws, source, options, out, m, std::nullopt);
}

MeasuredCompression measure_and_record(const Workspace& ws, const std::filesystem::path& source,
                                       const std::filesystem::path& out, CompressionReport base,
                                       const MeasureRequest& request) {
    if (base.method.empty()) throw Error("internal: a measured model needs a method");
    measure_file(ws, source, out, base, request);
    return record(ws, source, out, std::move(base));
}

SensitivitySweep sweep_sensitivity(const Workspace& ws, const std::filesystem::path& source,
                                   const SweepSettings& settings,
                                   const std::optional<std::string>& data) {
    check_sweep_settings(settings);
    if (settings.progress) settings.progress("loading the model", -1);
    const auto src = InferenceModel::load(source);
    if (src->compressed())
        throw Error(source.string() + ": already compressed; sweep the FP32 checkpoint");
    const Tokenizer& tok = src->require_tokenizer();

    std::optional<RunStore> store;
    try {
        store.emplace(ws.db_path);
    } catch (const Error&) {  // no store: measure, and keep nothing
    }
    const auto spec = store ? source_data_spec(*store, src->metadata(), data)
                            : source_data_spec(ws, src->metadata(), data);
    SensitivityRecord record;
    record.source_path = std::filesystem::absolute(source).string();
    record.source_sha256 = sha256_file(source);
    record.settings = sweep_key(settings, spec.request.corpus);
    if (store) {
        record.run_id = source_run_id(*store, src->metadata());
        try {
            if (auto found = store->find_sensitivity_sweep(record.source_sha256, record.settings))
                return sweep_from_json(found->sweep);
        } catch (const Error&) {  // no usable stored sweep: measure
        }
    }

    if (settings.progress) settings.progress("tokenising " + spec.request.corpus, -1);
    // Calibrate on the training split: the held-out text stays for the final measurement.
    const auto text = source_text(ws, spec, tok, Split::Train, settings.threads, settings.cancel);
    auto sweep = measure_sensitivity(source, *src, record.source_sha256, *text.stream, text.bytes,
                                     spec.request.corpus, settings);
    record.sweep = sweep_to_json(sweep);
    if (store) {
        try {
            store->add_sensitivity_sweep(record);
        } catch (const Error&) {  // not kept: the next plan measures again
        }
    }
    return sweep;
}

MeasuredCompression compress_mixed_and_measure(
    const Workspace& ws, const std::filesystem::path& source, const MixedTarget& target,
    const SweepSettings& sweep_settings, const std::optional<std::string>& sweep_data,
    const std::filesystem::path& out, const MeasureRequest& measure) {
    check_not_source(source, out);
    const auto sweep = sweep_sensitivity(ws, source, sweep_settings, sweep_data);
    auto say = [&](const std::string& phase) {
        if (measure.progress) measure.progress(phase, -1);
    };
    // The plan and every uniform candidate, measured (not predicted) on the
    // calibration text the sweep used: the better one is written.
    const auto src = InferenceModel::load(source);
    const auto spec = source_data_spec(ws, src->metadata(), sweep_data);
    const auto& tok = src->require_tokenizer();
    const int threads = measure.threads > 0 ? measure.threads : default_thread_count();
    const auto text =
        source_text(ws, spec, tok, Split::Train, sweep_settings.threads, measure.cancel);
    EvalOptions eo;
    eo.max_tokens = sweep.tokens;
    eo.cancel = measure.cancel;
    const auto tmp = std::filesystem::temp_directory_path() /
                     ("itera-choice-" + std::to_string(::getpid()) + ".safetensors");
    struct Cleanup {
        std::filesystem::path path;
        ~Cleanup() {
            std::error_code ec;
            std::filesystem::remove(path, ec);
        }
    } cleanup{tmp};
    auto meets = [&](std::int64_t bytes, double bpw, double kld) {
        if (target.bytes) return bytes <= *target.bytes;
        if (target.bits_per_weight) return bpw <= *target.bits_per_weight;
        return kld <= *target.kld;
    };
    auto try_options = [&](const std::string& name, const CompressOptions& o) {
        say("measuring " + name + " on the calibration text");
        const auto result = compress_checkpoint(source, o, tmp);
        const auto cand = InferenceModel::load(tmp);
        const auto cmp =
            compare_models(*src, *cand, *text.stream, tok, text.bytes, eo, threads, true);
        const auto stats = quality_statistics(cmp.per_token);
        MixedPlanReport::Candidate c;
        c.name = name;
        c.bytes = static_cast<std::int64_t>(result.bytes);
        c.kld = stats.kld_mean;
        c.kld_unc = stats.kld_unc;
        c.meets_target = meets(c.bytes, result.bits_per_weight, c.kld);
        return c;
    };

    say("planning");
    MixedPlan plan;
    MixedPlanReport::Candidate planned;
    double scale = 1.0;
    for (int attempt = 0; attempt < 4; ++attempt) {
        plan = plan_mixed_for_file(sweep, source, target, scale);
        planned = try_options("plan", plan.options);
        // A KLD bound is met by measurement: when the plan overshoots it, plan
        // again for a smaller predicted KLD.
        if (!target.kld || planned.kld <= *target.kld || planned.kld <= 0) break;
        scale *= 0.9 * *target.kld / planned.kld;
    }
    auto report = mixed_plan_report(plan, sweep, target);
    report.candidates.push_back(planned);
    std::vector<CompressOptions> uniform_options = {plan.options};
    for (const auto& q : sweep_settings.candidates) {
        CompressOptions o;
        o.scheme = q.scheme;
        o.group_size = q.group_size;
        o.symmetric = q.symmetric;
        report.candidates.push_back(try_options(std::string(scheme_traits(q.scheme).name), o));
        uniform_options.push_back(o);
    }
    // A size target: the least KLD among those that fit. A KLD bound: the
    // smallest file among those under it.
    std::size_t best = report.candidates.size();
    for (std::size_t i = 0; i < report.candidates.size(); ++i) {
        const auto& c = report.candidates[i];
        if (!c.meets_target) continue;
        if (best == report.candidates.size()) {
            best = i;
            continue;
        }
        const auto& b = report.candidates[best];
        const bool better = target.kld ? c.bytes < b.bytes || (c.bytes == b.bytes && c.kld < b.kld)
                                       : c.kld < b.kld || (c.kld == b.kld && c.bytes < b.bytes);
        if (better) best = i;
    }
    if (best == report.candidates.size())
        throw Error(
            "mixed precision: neither the plan nor a uniform scheme meets the target (the "
            "plan measured " +
            std::to_string(planned.bytes) + " bytes, mean KLD " + std::to_string(planned.kld) +
            ")");
    const auto& chosen = report.candidates[best];
    report.chosen = chosen.name;
    char why[320];
    if (chosen.name == "plan")
        std::snprintf(why, sizeof why,
                      "the plan meets the target with the %s among the candidates measured on "
                      "the calibration text (mean KLD %.5f ± %.5f, %lld bytes)",
                      target.kld ? "smallest file" : "least divergence", chosen.kld, chosen.kld_unc,
                      static_cast<long long>(chosen.bytes));
    else
        std::snprintf(why, sizeof why,
                      "uniform %s is written instead of the plan: it meets the target with %s "
                      "(mean KLD %.5f against the plan's %.5f; %lld bytes against %lld)",
                      chosen.name.c_str(), target.kld ? "a smaller file" : "less divergence",
                      chosen.kld, planned.kld, static_cast<long long>(chosen.bytes),
                      static_cast<long long>(planned.bytes));
    report.reason = why;
    return compress_measure_record(ws, source, uniform_options[best], out, measure, report);
}

}  // namespace itera
