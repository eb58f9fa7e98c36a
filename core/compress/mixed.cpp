#include "compress/mixed.h"

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <limits>

#include "compress/data_spec.h"
#include "eval/compare.h"
#include "eval/eval_data.h"
#include "infer/inference_model.h"
#include "model/tensor_names.h"
#include "store/run_store.h"
#include "util/error.h"
#include "util/sha256.h"
#include "util/threads.h"

namespace itera {
namespace {

/// "layers.1.ffn.experts.2.w1.weight" → "layers.1.ffn.experts.2";
/// "layers.0.ffn.w2.weight" → "layers.0.ffn"; "embed.weight" → "embed".
std::string group_of(const std::string& tensor) {
    std::string name = tensor.substr(0, tensor.size() - std::string(".weight").size());
    if (const auto at = name.find(".experts."); at != std::string::npos)
        return name.substr(0, name.find('.', at + 9));
    if (name.size() > 3 && (name.compare(name.size() - 3, 3, ".w1") == 0 ||
                            name.compare(name.size() - 3, 3, ".w2") == 0))
        return name.substr(0, name.size() - 3);
    return name;
}

nlohmann::json settings_json(const QuantSettings& q) {
    return {{"scheme", std::string(scheme_traits(q.scheme).name)},
            {"group_size", q.group_size},
            {"symmetric", q.symmetric}};
}

QuantSettings settings_from(const nlohmann::json& j) {
    return {parse_scheme(j.at("scheme").get<std::string>()), j.at("group_size").get<std::int64_t>(),
            j.at("symmetric").get<bool>()};
}

nlohmann::json sweep_json(const SensitivitySweep& s) {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& e : s.entries)
        entries.push_back({{"group", e.group},
                           {"settings", settings_json(e.settings)},
                           {"bytes", e.bytes},
                           {"source_bytes", e.source_bytes},
                           {"delta_loss", e.delta_loss},
                           {"kld", e.kld}});
    return {{"source_sha256", s.source_sha256},
            {"data", s.data},
            {"tokens", s.tokens},
            {"source_loss", s.source_loss},
            {"entries", entries}};
}

SensitivitySweep sweep_from(const nlohmann::json& j) {
    SensitivitySweep s;
    s.source_sha256 = j.at("source_sha256");
    s.data = j.at("data");
    s.tokens = j.at("tokens");
    s.source_loss = j.at("source_loss");
    for (const auto& e : j.at("entries"))
        s.entries.push_back({e.at("group"), settings_from(e.at("settings")), e.at("bytes"),
                             e.at("source_bytes"), e.at("delta_loss"), e.at("kld")});
    return s;
}

}  // namespace

std::vector<TensorGroup> tensor_groups(const ModelConfig& config) {
    std::vector<TensorGroup> groups;
    for (const auto& spec : spec_tensors(config)) {
        if (!compressible(spec.name, spec.shape)) continue;
        const auto name = group_of(spec.name);
        if (groups.empty() || groups.back().name != name) groups.push_back({name, {}, 0});
        groups.back().tensors.push_back(spec.name);
        groups.back().weights += spec.shape[0] * spec.shape[1];
    }
    return groups;
}

SensitivitySweep sweep_sensitivity(const std::filesystem::path& source, const SweepOptions& o) {
    auto say = [&](const std::string& phase, double fraction) {
        if (o.progress) o.progress(phase, fraction);
    };
    auto check_cancel = [&] {
        if (o.cancel && o.cancel->load()) throw Error("cancelled");
    };
    if (o.candidates.empty()) throw Error("mixed precision: no candidate schemes");
    for (const auto& c : o.candidates)
        if (c.scheme == Scheme::F32) throw Error("mixed precision: f32 is not a candidate");
    if (o.calibration_tokens < 256)
        throw Error("mixed precision: at least 256 calibration tokens are needed, got " +
                    std::to_string(o.calibration_tokens));
    say("loading the model", -1);
    const auto src = InferenceModel::load(source);
    if (src->compressed())
        throw Error(source.string() + ": already compressed; sweep the FP32 checkpoint");
    const Tokenizer& tok = src->require_tokenizer();
    const auto spec = compression_data_spec(src->metadata(), o.data, o.db);

    nlohmann::json candidates = nlohmann::json::array();
    for (const auto& c : o.candidates) candidates.push_back(settings_json(c));
    const nlohmann::json settings = {{"candidates", candidates},
                                     {"calibration_tokens", o.calibration_tokens},
                                     {"data", spec.request.corpus},
                                     {"split", "train"}};
    SweepRecord record;
    record.source_path = std::filesystem::absolute(source).string();
    record.source_sha256 = sha256_file(source);
    record.settings = settings.dump();
    if (auto it = src->metadata().find("run_id"); it != src->metadata().end()) {
        try {
            record.run_id = std::stoll(it->second);
        } catch (const std::exception&) {  // unattached
        }
    }
    const auto db = o.db.empty() ? RunStore::default_path() : o.db;
    try {
        RunStore store(db);
        if (auto found = store.find_sweep(record.source_sha256, record.settings))
            return sweep_from(nlohmann::json::parse(found->sweep));
    } catch (const std::exception&) {  // no usable stored sweep: measure
    }

    say("tokenising " + spec.request.corpus, -1);
    // Calibrate on the training split: the held-out text stays for the final measurement.
    const auto ed = compression_text(spec, tok, Split::Train, o.threads, o.cancel);
    EvalOptions eo;
    eo.max_tokens = o.calibration_tokens;
    eo.cancel = o.cancel;
    const int threads = o.threads > 0 ? o.threads : default_thread_count();

    SensitivitySweep sweep;
    sweep.source_sha256 = record.source_sha256;
    sweep.data = spec.request.corpus;
    const auto groups = tensor_groups(src->config());
    const auto tmp = std::filesystem::temp_directory_path() /
                     ("itera-sweep-" + std::to_string(::getpid()) + ".safetensors");
    struct Cleanup {
        std::filesystem::path path;
        ~Cleanup() {
            std::error_code ec;
            std::filesystem::remove(path, ec);
        }
    } cleanup{tmp};
    const std::size_t trials = groups.size() * o.candidates.size();
    std::size_t done = 0;
    for (const auto& g : groups)
        for (const auto& c : o.candidates) {
            check_cancel();
            say("measuring " + g.name + " in " + std::string(scheme_traits(c.scheme).name),
                double(done++) / double(trials));
            CompressOptions co;
            co.scheme = Scheme::F32;
            for (const auto& t : g.tensors) co.per_tensor[t] = c;
            const auto cr = compress_checkpoint(source, co, tmp);
            Sensitivity e;
            e.group = g.name;
            e.settings = c;
            for (const auto& t : cr.tensors)
                if (std::find(g.tensors.begin(), g.tensors.end(), t.name) != g.tensors.end()) {
                    e.bytes += static_cast<std::int64_t>(t.bytes);
                    e.source_bytes += static_cast<std::int64_t>(t.source_bytes);
                }
            const auto cand = InferenceModel::load(tmp);
            const auto cmp = compare_models(*src, *cand, *ed.stream, tok, ed.bytes, eo, threads);
            e.delta_loss = cmp.candidate.loss - cmp.reference.loss;
            e.kld = cmp.kld;
            sweep.tokens = cmp.reference.tokens;
            sweep.source_loss = cmp.reference.loss;
            sweep.entries.push_back(e);
        }
    say("sweep done", 1);
    record.sweep = sweep_json(sweep).dump();
    try {
        RunStore store(db);
        if (record.run_id && !store.find_run(*record.run_id)) record.run_id.reset();
        store.add_sweep(record);
    } catch (const std::exception&) {  // not kept: the next plan measures again
    }
    return sweep;
}

MixedPlan plan_mixed(const SensitivitySweep& sweep, const ModelConfig& config,
                     std::int64_t source_file_bytes, const MixedTarget& target,
                     std::int64_t reserve) {
    if (!target.bytes == !target.bits_per_weight)
        throw Error("mixed precision: give one target, a file size or bits per weight");
    const auto groups = tensor_groups(config);
    // Per group: its options, FP32 first, then each measured candidate.
    struct Option {
        QuantSettings settings;
        std::int64_t bytes;
        double delta_loss;
    };
    std::vector<std::vector<Option>> options(groups.size());
    std::int64_t group_source_bytes = 0, weights = 0;
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const std::int64_t fp32 = groups[i].weights * 4;
        options[i].push_back({QuantSettings{Scheme::F32, 0, false}, fp32, 0.0});
        for (const auto& e : sweep.entries)
            if (e.group == groups[i].name)
                options[i].push_back({e.settings, e.bytes, e.delta_loss});
        if (options[i].size() == 1)
            throw Error("mixed precision: the sweep has no measurement of " + groups[i].name +
                        " (was it made for another model?)");
        group_source_bytes += fp32;
        weights += groups[i].weights;
    }
    const std::int64_t fixed = source_file_bytes - group_source_bytes;
    const std::int64_t budget =
        target.bytes ? *target.bytes - fixed - reserve
                     : static_cast<std::int64_t>(std::floor(*target.bits_per_weight *
                                                            static_cast<double>(weights) / 8.0));
    std::vector<std::size_t> choice(groups.size(), 0);
    std::int64_t total = group_source_bytes;
    // Greedy: while over budget, take the move with the least loss increase
    // per byte saved (a move that lowers the loss is taken first).
    while (total > budget) {
        double best_ratio = std::numeric_limits<double>::infinity();
        std::size_t best_group = 0, best_option = 0;
        for (std::size_t i = 0; i < groups.size(); ++i) {
            const auto& cur = options[i][choice[i]];
            for (std::size_t k = 0; k < options[i].size(); ++k) {
                const auto& opt = options[i][k];
                if (opt.bytes >= cur.bytes) continue;
                const double ratio =
                    (opt.delta_loss - cur.delta_loss) / static_cast<double>(cur.bytes - opt.bytes);
                if (ratio < best_ratio) {
                    best_ratio = ratio;
                    best_group = i;
                    best_option = k;
                }
            }
        }
        if (!std::isfinite(best_ratio)) {
            const auto smallest = target.bytes ? total + fixed : total;
            throw Error(std::string("mixed precision: the target is below the smallest plan the "
                                    "candidates allow (") +
                        (target.bytes ? std::to_string(smallest) + " bytes"
                                      : std::to_string(8.0 * double(total) / double(weights)) +
                                            " bits per weight") +
                        ")");
        }
        total -=
            options[best_group][choice[best_group]].bytes - options[best_group][best_option].bytes;
        choice[best_group] = best_option;
    }

    // The greedy steps can overshoot (a group may jump straight to its
    // smallest scheme): spend what is left of the budget on the upgrades that
    // lower the loss most per byte added.
    for (;;) {
        double best_gain = 0;
        std::size_t best_group = 0, best_option = 0;
        for (std::size_t i = 0; i < groups.size(); ++i) {
            const auto& cur = options[i][choice[i]];
            for (std::size_t k = 0; k < options[i].size(); ++k) {
                const auto& opt = options[i][k];
                if (opt.bytes <= cur.bytes || opt.delta_loss >= cur.delta_loss ||
                    total + (opt.bytes - cur.bytes) > budget)
                    continue;
                const double gain =
                    (cur.delta_loss - opt.delta_loss) / static_cast<double>(opt.bytes - cur.bytes);
                if (gain > best_gain) {
                    best_gain = gain;
                    best_group = i;
                    best_option = k;
                }
            }
        }
        if (best_gain <= 0) break;
        total +=
            options[best_group][best_option].bytes - options[best_group][choice[best_group]].bytes;
        choice[best_group] = best_option;
    }

    MixedPlan plan;
    plan.options.scheme = Scheme::F32;
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const auto& opt = options[i][choice[i]];
        plan.choices.push_back({groups[i].name, opt.settings, opt.bytes, opt.delta_loss});
        plan.predicted_delta_loss += opt.delta_loss;
        for (const auto& t : groups[i].tensors) plan.options.per_tensor[t] = opt.settings;
    }
    plan.predicted_bytes = total + fixed;
    return plan;
}

std::string mixed_report_json(const MixedPlan& plan, const SensitivitySweep& sweep,
                              const MixedTarget& target) {
    nlohmann::json choices = nlohmann::json::array();
    for (const auto& c : plan.choices)
        choices.push_back({{"group", c.group},
                           {"scheme", std::string(scheme_traits(c.settings.scheme).name)},
                           {"group_size", c.settings.group_size},
                           {"bytes", c.bytes},
                           {"predicted_delta_loss", c.delta_loss}});
    nlohmann::json t = nlohmann::json::object();
    if (target.bytes) t["bytes"] = *target.bytes;
    if (target.bits_per_weight) t["bits_per_weight"] = *target.bits_per_weight;
    return nlohmann::json{
        {"plan", choices},
        {"target", t},
        {"predicted_bytes", plan.predicted_bytes},
        {"predicted_delta_loss", plan.predicted_delta_loss},
        {"predicted_delta_ppl_pct", 100.0 * std::expm1(plan.predicted_delta_loss)},
        {"calibration",
         {{"data", sweep.data},
          {"split", "train"},
          {"tokens", sweep.tokens},
          {"source_loss", sweep.source_loss}}}}
        .dump();
}

MixedPlan plan_mixed_for_file(const SensitivitySweep& sweep, const std::filesystem::path& source,
                              const MixedTarget& target) {
    const auto config = InferenceModel::load(source)->config();
    const auto source_bytes = static_cast<std::int64_t>(std::filesystem::file_size(source));
    const auto tmp = std::filesystem::temp_directory_path() /
                     ("itera-plan-" + std::to_string(::getpid()) + ".safetensors");
    std::int64_t reserve = 0;
    MixedPlan plan;
    bool fits = false;
    for (int attempt = 0; attempt < 20 && !fits; ++attempt) {
        plan = plan_mixed(sweep, config, source_bytes, target, reserve);
        plan.file_bytes =
            static_cast<std::int64_t>(compress_checkpoint(source, plan.options, tmp).bytes);
        fits = !target.bytes || plan.file_bytes <= *target.bytes;
        // A smaller plan can change which tensors carry scales and zero
        // points, so the header moves too: reserve at least 64 bytes more.
        if (!fits) reserve += std::max<std::int64_t>(64, plan.file_bytes - *target.bytes);
    }
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    if (!fits)
        throw Error("mixed precision: no plan found whose file fits " +
                    std::to_string(*target.bytes) + " bytes (the closest was " +
                    std::to_string(plan.file_bytes) + "); try a slightly larger target");
    return plan;
}

MeasuredCompression compress_mixed_and_measure(const std::filesystem::path& source,
                                               const MixedTarget& target,
                                               const SweepOptions& sweep_options,
                                               const std::filesystem::path& out,
                                               const MeasureOptions& measure) {
    const auto sweep = sweep_sensitivity(source, sweep_options);
    if (measure.progress) measure.progress("planning", -1);
    const auto plan = plan_mixed_for_file(sweep, source, target);
    auto m = measure;
    m.extra_report = mixed_report_json(plan, sweep, target);
    return compress_and_measure(source, plan.options, out, m);
}

std::int64_t parse_size(const std::string& text) {
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    std::string unit = used ? text.substr(used) : "";
    for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    double scale = 0;
    if (unit.empty() || unit == "B") scale = 1;
    if (unit == "KB" || unit == "K") scale = 1e3;
    if (unit == "MB" || unit == "M") scale = 1e6;
    if (unit == "GB" || unit == "G") scale = 1e9;
    if (used == 0 || scale == 0 || !(v > 0) || !std::isfinite(v))
        throw Error("\"" + text + "\" is not a size (expected e.g. 2MB, 500KB or 1500000)");
    return static_cast<std::int64_t>(std::llround(v * scale));
}

}  // namespace itera
