#include "compress/mixed.h"

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <limits>

#include "eval/compare.h"
#include "model/tensor_names.h"
#include "util/error.h"
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

nlohmann::json sweep_json_of(const SensitivitySweep& s) {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& e : s.entries)
        entries.push_back({{"group", e.group},
                           {"settings", settings_json(e.settings)},
                           {"bytes", e.bytes},
                           {"source_bytes", e.source_bytes},
                           {"delta_loss", e.delta_loss},
                           {"kld", e.kld},
                           {"kld_unc", e.kld_unc}});
    return {{"source_sha256", s.source_sha256},
            {"data", s.data},
            {"tokens", s.tokens},
            {"source_loss", s.source_loss},
            {"noise_floor", s.noise_floor},
            {"above_noise", s.above_noise},
            {"entries", entries}};
}

SensitivitySweep sweep_of(const nlohmann::json& j) {
    SensitivitySweep s;
    s.source_sha256 = j.at("source_sha256");
    s.data = j.at("data");
    s.tokens = j.at("tokens");
    s.source_loss = j.at("source_loss");
    for (const auto& e : j.at("entries"))
        s.entries.push_back({e.at("group"), settings_from(e.at("settings")), e.at("bytes"),
                             e.at("source_bytes"), e.at("delta_loss"), e.at("kld"),
                             e.value("kld_unc", 0.0)});
    s.noise_floor = j.value("noise_floor", 0.0);
    s.above_noise = j.value("above_noise", 0.0);
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

void check_sweep_settings(const SweepSettings& o) {
    if (o.candidates.empty()) throw Error("mixed precision: no candidate schemes");
    for (const auto& c : o.candidates)
        if (c.scheme == Scheme::F32) throw Error("mixed precision: f32 is not a candidate");
    if (o.calibration_tokens < 256)
        throw Error("mixed precision: at least 256 calibration tokens are needed, got " +
                    std::to_string(o.calibration_tokens));
}

std::string sweep_key(const SweepSettings& o, const std::string& data) {
    nlohmann::json candidates = nlohmann::json::array();
    for (const auto& c : o.candidates) candidates.push_back(settings_json(c));
    return nlohmann::json{{"candidates", candidates},
                          {"calibration_tokens", o.calibration_tokens},
                          {"max_calibration_tokens", o.max_calibration_tokens},
                          {"cost", "kld"},
                          {"data", data},
                          {"split", "train"}}
        .dump();
}

std::string sweep_to_json(const SensitivitySweep& sweep) {
    return sweep_json_of(sweep).dump();
}

SensitivitySweep sweep_from_json(const std::string& text) {
    try {
        return sweep_of(nlohmann::json::parse(text));
    } catch (const nlohmann::json::exception& e) {
        throw Error(std::string("stored sensitivity sweep: ") + e.what());
    }
}

SensitivitySweep measure_sensitivity(const std::filesystem::path& source, const InferenceModel& src,
                                     const std::string& source_sha256,
                                     const TokenStream& calibration,
                                     std::uint64_t calibration_bytes, const std::string& data,
                                     const SweepSettings& o) {
    auto say = [&](const std::string& phase, double fraction) {
        if (o.progress) o.progress(phase, fraction);
    };
    auto check_cancel = [&] {
        if (o.cancel && o.cancel->load()) throw Error("cancelled");
    };
    check_sweep_settings(o);
    if (src.compressed())
        throw Error(source.string() + ": already compressed; sweep the FP32 checkpoint");
    const Tokenizer& tok = src.require_tokenizer();
    const int threads = o.threads > 0 ? o.threads : default_thread_count();
    const auto groups = tensor_groups(src.config());
    const auto tmp = std::filesystem::temp_directory_path() /
                     ("itera-sweep-" + std::to_string(::getpid()) + ".safetensors");
    struct Cleanup {
        std::filesystem::path path;
        ~Cleanup() {
            std::error_code ec;
            std::filesystem::remove(path, ec);
        }
    } cleanup{tmp};
    // The calibration grows until the effects stand above their noise (or
    // the text or the cap is reached): a plan built on noise is no plan.
    SensitivitySweep sweep;
    const std::int64_t available = static_cast<std::int64_t>(calibration.size()) - 1;
    for (std::int64_t tokens = std::min(o.calibration_tokens, available);;) {
        EvalOptions eo;
        eo.max_tokens = tokens;
        eo.cancel = o.cancel;
        sweep = SensitivitySweep{};
        sweep.source_sha256 = source_sha256;
        sweep.data = data;
        const std::size_t trials = groups.size() * o.candidates.size();
        std::size_t done = 0;
        for (const auto& g : groups)
            for (const auto& c : o.candidates) {
                check_cancel();
                say("measuring " + g.name + " in " + std::string(scheme_traits(c.scheme).name) +
                        " (" + std::to_string(tokens) + " calibration tokens)",
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
                const auto cmp = compare_models(src, *cand, calibration, tok, calibration_bytes, eo,
                                                threads, true);
                const auto stats = quality_statistics(cmp.per_token);
                e.delta_loss = cmp.candidate.loss - cmp.reference.loss;
                e.kld = stats.kld_mean;
                e.kld_unc = stats.kld_unc;
                sweep.tokens = cmp.reference.tokens;
                sweep.source_loss = cmp.reference.loss;
                sweep.entries.push_back(e);
            }
        std::vector<double> unc;
        std::size_t above = 0;
        for (const auto& e : sweep.entries) {
            unc.push_back(e.kld_unc);
            above += e.kld >= 2 * e.kld_unc;
        }
        std::sort(unc.begin(), unc.end());
        sweep.noise_floor = unc.empty() ? 0 : unc[unc.size() / 2];
        sweep.above_noise =
            sweep.entries.empty() ? 1 : double(above) / double(sweep.entries.size());
        if (sweep.above_noise >= 0.9 || tokens >= std::min(o.max_calibration_tokens, available))
            break;
        tokens = std::min({2 * tokens, o.max_calibration_tokens, available});
    }
    say("sweep done", 1);
    return sweep;
}

MixedPlan plan_mixed(const SensitivitySweep& sweep, const ModelConfig& config,
                     std::int64_t source_file_bytes, const MixedTarget& target,
                     std::int64_t reserve, double kld_scale) {
    const int given = int(target.bytes.has_value()) + int(target.bits_per_weight.has_value()) +
                      int(target.kld.has_value());
    if (given != 1)
        throw Error(
            "mixed precision: give one target: a file size, bits per weight or a KLD bound");
    if (target.kld && !(*target.kld > 0))
        throw Error("mixed precision: the KLD bound must be positive");
    const auto groups = tensor_groups(config);
    // Per group: its options, FP32 first, then each measured candidate. The
    // cost is the measured mean KLD (non-negative, and additive over groups
    // to first order); the loss change is carried along for the report.
    struct Option {
        QuantSettings settings;
        std::int64_t bytes;
        double kld, delta_loss;
    };
    std::vector<std::vector<Option>> options(groups.size());
    std::int64_t group_source_bytes = 0, weights = 0;
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const std::int64_t fp32 = groups[i].weights * 4;
        options[i].push_back({QuantSettings{Scheme::F32, 0, false}, fp32, 0.0, 0.0});
        for (const auto& e : sweep.entries)
            if (e.group == groups[i].name)
                options[i].push_back({e.settings, e.bytes, std::max(0.0, e.kld), e.delta_loss});
        if (options[i].size() == 1)
            throw Error("mixed precision: the sweep has no measurement of " + groups[i].name +
                        " (was it made for another model?)");
        group_source_bytes += fp32;
        weights += groups[i].weights;
    }
    const std::int64_t fixed = source_file_bytes - group_source_bytes;
    std::vector<std::size_t> choice(groups.size(), 0);
    std::int64_t total = group_source_bytes;
    double cost = 0;
    // The cheapest move (KLD added per byte saved) among those `allowed`.
    auto best_move = [&](const auto& allowed, std::size_t& group, std::size_t& option) {
        double best = std::numeric_limits<double>::infinity();
        for (std::size_t i = 0; i < groups.size(); ++i) {
            const auto& cur = options[i][choice[i]];
            for (std::size_t k = 0; k < options[i].size(); ++k) {
                const auto& opt = options[i][k];
                if (opt.bytes >= cur.bytes || !allowed(cur, opt)) continue;
                const double ratio =
                    (opt.kld - cur.kld) / static_cast<double>(cur.bytes - opt.bytes);
                if (ratio < best) {
                    best = ratio;
                    group = i;
                    option = k;
                }
            }
        }
        return std::isfinite(best);
    };
    auto take = [&](std::size_t g, std::size_t k) {
        total -= options[g][choice[g]].bytes - options[g][k].bytes;
        cost += options[g][k].kld - options[g][choice[g]].kld;
        choice[g] = k;
    };
    auto any = [](const Option&, const Option&) { return true; };
    std::size_t g = 0, k = 0;
    if (target.kld) {
        // The smallest plan whose predicted KLD stays under the bound.
        const double bound = *target.kld * kld_scale;
        while (best_move([&](const Option& cur,
                             const Option& opt) { return cost + (opt.kld - cur.kld) <= bound; },
                         g, k))
            take(g, k);
    } else {
        const std::int64_t budget =
            target.bytes ? *target.bytes - fixed - reserve
                         : static_cast<std::int64_t>(std::floor(
                               *target.bits_per_weight * static_cast<double>(weights) / 8.0));
        // Greedy: while over budget, take the move with the least KLD per byte saved.
        while (total > budget) {
            if (!best_move(any, g, k)) {
                const auto smallest = target.bytes ? total + fixed : total;
                throw Error(
                    std::string("mixed precision: the target is below the smallest plan the "
                                "candidates allow (") +
                    (target.bytes ? std::to_string(smallest) + " bytes"
                                  : std::to_string(8.0 * double(total) / double(weights)) +
                                        " bits per weight") +
                    ")");
            }
            take(g, k);
        }
        // The greedy steps can overshoot (a group may jump straight to its
        // smallest scheme): spend what is left of the budget on the upgrades
        // that lower the KLD most per byte added.
        for (;;) {
            double best_gain = 0;
            std::size_t bg = 0, bk = 0;
            for (std::size_t i = 0; i < groups.size(); ++i) {
                const auto& cur = options[i][choice[i]];
                for (std::size_t o = 0; o < options[i].size(); ++o) {
                    const auto& opt = options[i][o];
                    if (opt.bytes <= cur.bytes || opt.kld >= cur.kld ||
                        total + (opt.bytes - cur.bytes) > budget)
                        continue;
                    const double gain =
                        (cur.kld - opt.kld) / static_cast<double>(opt.bytes - cur.bytes);
                    if (gain > best_gain) {
                        best_gain = gain;
                        bg = i;
                        bk = o;
                    }
                }
            }
            if (best_gain <= 0) break;
            take(bg, bk);
        }
    }

    MixedPlan plan;
    plan.options.scheme = Scheme::F32;
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const auto& opt = options[i][choice[i]];
        plan.choices.push_back({groups[i].name, opt.settings, opt.bytes, opt.delta_loss, opt.kld});
        plan.predicted_delta_loss += opt.delta_loss;
        plan.predicted_kld += opt.kld;
        for (const auto& t : groups[i].tensors) plan.options.per_tensor[t] = opt.settings;
    }
    plan.predicted_bytes = total + fixed;
    return plan;
}

MixedPlanReport mixed_plan_report(const MixedPlan& plan, const SensitivitySweep& sweep,
                                  const MixedTarget& target) {
    MixedPlanReport r;
    for (const auto& c : plan.choices)
        r.plan.push_back({c.group, std::string(scheme_traits(c.settings.scheme).name),
                          c.settings.group_size, c.bytes, c.delta_loss, c.kld});
    r.target_bytes = target.bytes;
    r.target_bits_per_weight = target.bits_per_weight;
    r.target_kld = target.kld;
    r.predicted_bytes = plan.predicted_bytes;
    r.predicted_kld = plan.predicted_kld;
    r.noise_floor = sweep.noise_floor;
    r.above_noise = sweep.above_noise;
    r.predicted_delta_loss = plan.predicted_delta_loss;
    r.predicted_delta_ppl_pct = 100.0 * std::expm1(plan.predicted_delta_loss);
    r.calibration_data = sweep.data;
    r.calibration_split = "train";
    r.calibration_tokens = sweep.tokens;
    r.calibration_source_loss = sweep.source_loss;
    return r;
}

MixedPlan plan_mixed_for_file(const SensitivitySweep& sweep, const std::filesystem::path& source,
                              const MixedTarget& target, double kld_scale) {
    const auto config = InferenceModel::load(source)->config();
    const auto source_bytes = static_cast<std::int64_t>(std::filesystem::file_size(source));
    const auto tmp = std::filesystem::temp_directory_path() /
                     ("itera-plan-" + std::to_string(::getpid()) + ".safetensors");
    std::int64_t reserve = 0;
    MixedPlan plan;
    bool fits = false;
    for (int attempt = 0; attempt < 20 && !fits; ++attempt) {
        plan = plan_mixed(sweep, config, source_bytes, target, reserve, kld_scale);
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
