#include "compress/compression_report.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

#include "util/error.h"

namespace itera {
namespace {

using Json = nlohmann::json;

// Readers that name the field when it has the wrong type; absent keys are
// left at their defaults (reports of earlier versions lack newer keys).
template <typename T>
void read(const Json& j, const char* key, T& out, const std::string& where) {
    if (!j.contains(key) || j[key].is_null()) return;
    try {
        out = j[key].get<T>();
    } catch (const Json::exception&) {
        throw Error("compression report: " + where + key + " has the wrong type");
    }
}

template <typename T>
void read(const Json& j, const char* key, std::optional<T>& out, const std::string& where) {
    if (!j.contains(key) || j[key].is_null()) return;
    T v{};
    read(j, key, v, where);
    out = v;
}

const Json& object(const Json& j, const char* key, const std::string& where) {
    static const Json empty = Json::object();
    if (!j.contains(key) || j[key].is_null()) return empty;
    if (!j[key].is_object())
        throw Error("compression report: " + where + key + " is not an object");
    return j[key];
}

const Json& array(const Json& j, const char* key, const std::string& where) {
    static const Json empty = Json::array();
    if (!j.contains(key) || j[key].is_null()) return empty;
    if (!j[key].is_array()) throw Error("compression report: " + where + key + " is not a list");
    return j[key];
}

template <typename T>
void put(Json& j, const char* key, const std::optional<T>& v) {
    if (v) j[key] = *v;
}

Json shares_json(const std::vector<std::pair<std::string, double>>& v) {
    Json o = Json::object();
    for (const auto& [k, s] : v) o[k] = s;
    return o;
}

std::vector<std::pair<std::string, double>> shares_from(const Json& o, const std::string& where) {
    std::vector<std::pair<std::string, double>> v;
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (!it.value().is_number())
            throw Error("compression report: " + where + it.key() + " is not a number");
        v.emplace_back(it.key(), it.value().get<double>());
    }
    return v;
}

Json mixed_json(const MixedPlanReport& m, Json& j) {
    Json plan = Json::array();
    for (const auto& c : m.plan)
        plan.push_back({{"group", c.group},
                        {"scheme", c.scheme},
                        {"group_size", c.group_size},
                        {"bytes", c.bytes},
                        {"predicted_delta_loss", c.predicted_delta_loss},
                        {"kld", c.kld}});
    Json target = Json::object();
    put(target, "bytes", m.target_bytes);
    put(target, "bits_per_weight", m.target_bits_per_weight);
    put(target, "kld", m.target_kld);
    j["plan"] = plan;
    j["target"] = target;
    j["predicted_bytes"] = m.predicted_bytes;
    j["predicted_kld"] = m.predicted_kld;
    j["noise_floor"] = m.noise_floor;
    j["above_noise"] = m.above_noise;
    Json candidates = Json::array();
    for (const auto& c : m.candidates)
        candidates.push_back({{"name", c.name},
                              {"bytes", c.bytes},
                              {"kld", c.kld},
                              {"kld_unc", c.kld_unc},
                              {"meets_target", c.meets_target}});
    j["plan_candidates"] = candidates;
    j["chosen"] = m.chosen;
    j["reason"] = m.reason;
    j["predicted_delta_loss"] = m.predicted_delta_loss;
    j["predicted_delta_ppl_pct"] = m.predicted_delta_ppl_pct;
    j["calibration"] = {{"data", m.calibration_data},
                        {"split", m.calibration_split},
                        {"tokens", m.calibration_tokens},
                        {"source_loss", m.calibration_source_loss}};
    return j;
}

MixedPlanReport mixed_from(const Json& j) {
    MixedPlanReport m;
    for (const auto& c : array(j, "plan", "")) {
        MixedPlanReport::Choice ch;
        read(c, "group", ch.group, "plan.");
        read(c, "scheme", ch.scheme, "plan.");
        read(c, "group_size", ch.group_size, "plan.");
        read(c, "bytes", ch.bytes, "plan.");
        read(c, "predicted_delta_loss", ch.predicted_delta_loss, "plan.");
        read(c, "kld", ch.kld, "plan.");
        m.plan.push_back(ch);
    }
    const auto& t = object(j, "target", "");
    read(t, "bytes", m.target_bytes, "target.");
    read(t, "bits_per_weight", m.target_bits_per_weight, "target.");
    read(t, "kld", m.target_kld, "target.");
    read(j, "predicted_bytes", m.predicted_bytes, "");
    read(j, "predicted_kld", m.predicted_kld, "");
    read(j, "noise_floor", m.noise_floor, "");
    read(j, "above_noise", m.above_noise, "");
    for (const auto& c : array(j, "plan_candidates", "")) {
        MixedPlanReport::Candidate x;
        read(c, "name", x.name, "plan_candidates.");
        read(c, "bytes", x.bytes, "plan_candidates.");
        read(c, "kld", x.kld, "plan_candidates.");
        read(c, "kld_unc", x.kld_unc, "plan_candidates.");
        read(c, "meets_target", x.meets_target, "plan_candidates.");
        m.candidates.push_back(x);
    }
    read(j, "chosen", m.chosen, "");
    read(j, "reason", m.reason, "");
    read(j, "predicted_delta_loss", m.predicted_delta_loss, "");
    read(j, "predicted_delta_ppl_pct", m.predicted_delta_ppl_pct, "");
    const auto& c = object(j, "calibration", "");
    read(c, "data", m.calibration_data, "calibration.");
    read(c, "split", m.calibration_split, "calibration.");
    read(c, "tokens", m.calibration_tokens, "calibration.");
    read(c, "source_loss", m.calibration_source_loss, "calibration.");
    return m;
}

Json pruning_json(const PruningReport& p) {
    Json j = Json::object();
    j["before"] = Json::parse(p.before.to_json());
    j["after"] = Json::parse(p.after.to_json());
    j["calibration"] = {
        {"split", "train"}, {"tokens", p.calibration_tokens}, {"loss", p.calibration_loss}};
    if (!p.experts.empty()) {
        j["expert_criterion"] = p.expert_criterion;
        Json arr = Json::array();
        for (const auto& e : p.experts)
            arr.push_back({{"layer", e.layer},
                           {"expert", e.expert},
                           {"load", e.load},
                           {"delta_loss", e.delta_loss},
                           {"kept", e.kept}});
        j["experts"] = arr;
    }
    if (!p.ffn_importance_kept.empty())
        j["ffn_importance_kept"] = shares_json(p.ffn_importance_kept);
    if (!p.channel_importance_kept.empty())
        j["channel_importance_kept"] = shares_json(p.channel_importance_kept);
    return j;
}

PruningReport pruning_from(const Json& j) {
    PruningReport p;
    try {
        p.before = ModelConfig::from_json(object(j, "before", "pruning.").dump());
        p.after = ModelConfig::from_json(object(j, "after", "pruning.").dump());
    } catch (const Error& e) {
        throw Error(std::string("compression report: pruning: ") + e.what());
    }
    const auto& c = object(j, "calibration", "pruning.");
    read(c, "tokens", p.calibration_tokens, "pruning.calibration.");
    read(c, "loss", p.calibration_loss, "pruning.calibration.");
    read(j, "expert_criterion", p.expert_criterion, "pruning.");
    for (const auto& e : array(j, "experts", "pruning.")) {
        PruningReport::Expert x;
        read(e, "layer", x.layer, "pruning.experts.");
        read(e, "expert", x.expert, "pruning.experts.");
        read(e, "load", x.load, "pruning.experts.");
        read(e, "delta_loss", x.delta_loss, "pruning.experts.");
        read(e, "kept", x.kept, "pruning.experts.");
        p.experts.push_back(x);
    }
    p.ffn_importance_kept =
        shares_from(object(j, "ffn_importance_kept", "pruning."), "pruning.ffn_importance_kept.");
    p.channel_importance_kept = shares_from(object(j, "channel_importance_kept", "pruning."),
                                            "pruning.channel_importance_kept.");
    return p;
}

Json percentiles_json(const Percentiles& p) {
    return {{"min", p.min}, {"p1", p.p1},         {"p5", p.p5},      {"p10", p.p10},
            {"p25", p.p25}, {"median", p.median}, {"p75", p.p75},    {"p90", p.p90},
            {"p95", p.p95}, {"p99", p.p99},       {"p99.9", p.p999}, {"max", p.max}};
}

Percentiles percentiles_from(const Json& j, const std::string& where) {
    Percentiles p;
    const std::pair<const char*, double*> fields[] = {
        {"min", &p.min}, {"p1", &p.p1},         {"p5", &p.p5},      {"p10", &p.p10},
        {"p25", &p.p25}, {"median", &p.median}, {"p75", &p.p75},    {"p90", &p.p90},
        {"p95", &p.p95}, {"p99", &p.p99},       {"p99.9", &p.p999}, {"max", &p.max}};
    for (const auto& [key, into] : fields) read(j, key, *into, where);
    return p;
}

Json statistics_json(const QualityStats& s) {
    return {{"tokens", s.tokens},
            {"ppl_base", s.ppl_base},
            {"ppl", s.ppl},
            {"ln_ppl_ratio", s.ln_ppl_ratio},
            {"ln_ppl_ratio_unc", s.ln_ppl_ratio_unc},
            {"kld_mean", s.kld_mean},
            {"kld_unc", s.kld_unc},
            {"kld", percentiles_json(s.kld)},
            {"dp_mean", s.dp_mean},
            {"dp_unc", s.dp_unc},
            {"dp_rms", s.dp_rms},
            {"dp", percentiles_json(s.dp)},
            {"same_top", s.same_top},
            {"same_top_unc", s.same_top_unc}};
}

QualityStats statistics_from(const Json& j) {
    QualityStats s;
    const std::string w = "statistics.";
    read(j, "tokens", s.tokens, w);
    read(j, "ppl_base", s.ppl_base, w);
    read(j, "ppl", s.ppl, w);
    read(j, "ln_ppl_ratio", s.ln_ppl_ratio, w);
    read(j, "ln_ppl_ratio_unc", s.ln_ppl_ratio_unc, w);
    read(j, "kld_mean", s.kld_mean, w);
    read(j, "kld_unc", s.kld_unc, w);
    s.kld = percentiles_from(object(j, "kld", w), w + "kld.");
    read(j, "dp_mean", s.dp_mean, w);
    read(j, "dp_unc", s.dp_unc, w);
    read(j, "dp_rms", s.dp_rms, w);
    s.dp = percentiles_from(object(j, "dp", w), w + "dp.");
    read(j, "same_top", s.same_top, w);
    read(j, "same_top_unc", s.same_top_unc, w);
    return s;
}

Json rate_json(const PairedRate& r) {
    return {{"a", r.a},
            {"b", r.b},
            {"a_median", r.a_median},
            {"b_median", r.b_median},
            {"ratio_median", r.ratio_median},
            {"ratio_min", r.ratio_min},
            {"ratio_max", r.ratio_max}};
}

PairedRate rate_from(const Json& j, const std::string& where) {
    PairedRate r;
    read(j, "a", r.a, where);
    read(j, "b", r.b, where);
    read(j, "a_median", r.a_median, where);
    read(j, "b_median", r.b_median, where);
    read(j, "ratio_median", r.ratio_median, where);
    read(j, "ratio_min", r.ratio_min, where);
    read(j, "ratio_max", r.ratio_max, where);
    return r;
}

Json paired_json(const PairedSpeedReport& p) {
    return {{"threads", p.threads},
            {"pairs", p.pairs},
            {"decode_tokens", p.decode_tokens},
            {"prompt_tokens", p.prompt_tokens},
            {"batch", p.batch},
            {"batch_tokens", p.batch_tokens},
            {"decode", rate_json(p.decode)},
            {"prefill", rate_json(p.prefill)},
            {"batched", rate_json(p.batched)}};
}

PairedSpeedReport paired_from(const Json& j) {
    PairedSpeedReport p;
    const std::string w = "speed_pairs.";
    read(j, "threads", p.threads, w);
    read(j, "pairs", p.pairs, w);
    read(j, "decode_tokens", p.decode_tokens, w);
    read(j, "prompt_tokens", p.prompt_tokens, w);
    read(j, "batch", p.batch, w);
    read(j, "batch_tokens", p.batch_tokens, w);
    p.decode = rate_from(object(j, "decode", w), w + "decode.");
    p.prefill = rate_from(object(j, "prefill", w), w + "prefill.");
    p.batched = rate_from(object(j, "batched", w), w + "batched.");
    return p;
}

}  // namespace

std::string CompressionReport::to_json() const {
    Json j = Json::object();
    j["method"] = method;
    j["source"] = source;
    j["path"] = path;
    j["source_bytes"] = source_bytes;
    j["bytes"] = bytes;
    j["ratio"] = ratio;
    put(j, "bpw", bpw);
    put(j, "quantized_weights", quantized_weights);
    if (!tensors.empty()) {
        Json ts = Json::array();
        for (const auto& t : tensors)
            ts.push_back({{"name", t.name},
                          {"shape", t.shape},
                          {"scheme", t.scheme},
                          {"bytes", t.bytes},
                          {"source_bytes", t.source_bytes},
                          {"rel_rms", t.rel_rms},
                          {"sqnr_db", t.sqnr_db ? Json(*t.sqnr_db) : Json()}});
        j["tensors"] = ts;
    }
    put(j, "params", params);
    put(j, "source_params", source_params);
    if (eval)
        j["eval"] = {{"data", eval->data},
                     {"split", eval->split},
                     {"tokens", eval->tokens},
                     {"bytes", eval->bytes}};
    if (quality) {
        const auto& q = *quality;
        j["source_perplexity"] = q.source_perplexity;
        j["perplexity"] = q.perplexity;
        j["delta_ppl_pct"] = q.delta_ppl_pct;
        j["source_bits_per_byte"] = q.source_bits_per_byte;
        j["bits_per_byte"] = q.bits_per_byte;
        j["kld"] = q.kld;
        j["top1_agreement"] = q.top1_agreement;
    }
    if (speed) {
        const auto& s = *speed;
        j["source_decode_tokens_per_s"] = s.source_decode_tokens_per_s;
        j["decode_tokens_per_s"] = s.decode_tokens_per_s;
        j["source_prefill_tokens_per_s"] = s.source_prefill_tokens_per_s;
        j["prefill_tokens_per_s"] = s.prefill_tokens_per_s;
        j["source_weight_bytes"] = s.source_weight_bytes;
        j["weight_bytes"] = s.weight_bytes;
        j["timing"] = {{"rounds", s.timing.rounds},
                       {"threads", s.timing.threads},
                       {"decode_tokens", s.timing.decode_tokens},
                       {"prefill_tokens", s.timing.prefill_tokens}};
    }
    if (statistics) j["statistics"] = statistics_json(*statistics);
    if (paired) j["speed_pairs"] = paired_json(*paired);
    if (mixed) mixed_json(*mixed, j);
    if (pruning) j["pruning"] = pruning_json(*pruning);
    if (finetune) {
        const auto& f = *finetune;
        j["finetune"] = {{"run_id", f.run_id},
                         {"steps", f.steps},
                         {"tokens", f.tokens},
                         {"lr", f.lr},
                         {"untuned", f.untuned}};
        put(j["finetune"], "untuned_compression_id", f.untuned_compression_id);
    }
    if (distillation) {
        const auto& d = *distillation;
        j["distillation"] = {
            {"run_id", d.run_id}, {"student_preset", d.student_preset}, {"teacher", d.teacher},
            {"alpha", d.alpha},   {"temperature", d.temperature},       {"steps", d.steps},
            {"tokens", d.tokens}};
        put(j["distillation"], "baseline_run_id", d.baseline_run_id);
        put(j["distillation"], "student_run_id", d.student_run_id);
    }
    put(j, "compression_id", compression_id);
    return j.dump();
}

CompressionReport CompressionReport::from_json(const std::string& text) {
    Json j;
    try {
        j = Json::parse(text);
    } catch (const Json::exception& e) {
        throw Error(std::string("compression report: not JSON: ") + e.what());
    }
    if (!j.is_object()) throw Error("compression report: expected a JSON object");
    CompressionReport r;
    read(j, "method", r.method, "");
    read(j, "source", r.source, "");
    read(j, "path", r.path, "");
    read(j, "source_bytes", r.source_bytes, "");
    read(j, "bytes", r.bytes, "");
    read(j, "ratio", r.ratio, "");
    read(j, "bpw", r.bpw, "");
    read(j, "quantized_weights", r.quantized_weights, "");
    read(j, "params", r.params, "");
    read(j, "source_params", r.source_params, "");
    for (const auto& t : array(j, "tensors", "")) {
        TensorReport x;
        read(t, "name", x.name, "tensors.");
        read(t, "shape", x.shape, "tensors.");
        read(t, "scheme", x.scheme, "tensors.");
        read(t, "bytes", x.bytes, "tensors.");
        read(t, "source_bytes", x.source_bytes, "tensors.");
        read(t, "rel_rms", x.rel_rms, "tensors.");
        read(t, "sqnr_db", x.sqnr_db, "tensors.");
        r.tensors.push_back(std::move(x));
    }
    if (j.contains("eval") && j["eval"].is_object()) {
        EvalTextReport e;
        const auto& o = j["eval"];
        read(o, "data", e.data, "eval.");
        read(o, "split", e.split, "eval.");
        read(o, "tokens", e.tokens, "eval.");
        read(o, "bytes", e.bytes, "eval.");
        r.eval = e;
    }
    // A figure a stored report lacks reads as NaN (shown as "–"), never as 0.
    constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
    if (j.contains("perplexity") && !j["perplexity"].is_null()) {
        QualityReport q{kNone, kNone, kNone, kNone, kNone, kNone, kNone};
        read(j, "source_perplexity", q.source_perplexity, "");
        read(j, "perplexity", q.perplexity, "");
        read(j, "delta_ppl_pct", q.delta_ppl_pct, "");
        read(j, "source_bits_per_byte", q.source_bits_per_byte, "");
        read(j, "bits_per_byte", q.bits_per_byte, "");
        read(j, "kld", q.kld, "");
        read(j, "top1_agreement", q.top1_agreement, "");
        r.quality = q;
    }
    if (j.contains("decode_tokens_per_s") && !j["decode_tokens_per_s"].is_null()) {
        SpeedReport s{kNone, kNone, kNone, kNone, 0, 0, {}};
        read(j, "source_decode_tokens_per_s", s.source_decode_tokens_per_s, "");
        read(j, "decode_tokens_per_s", s.decode_tokens_per_s, "");
        read(j, "source_prefill_tokens_per_s", s.source_prefill_tokens_per_s, "");
        read(j, "prefill_tokens_per_s", s.prefill_tokens_per_s, "");
        read(j, "source_weight_bytes", s.source_weight_bytes, "");
        read(j, "weight_bytes", s.weight_bytes, "");
        const auto& t = object(j, "timing", "");
        read(t, "rounds", s.timing.rounds, "timing.");
        read(t, "threads", s.timing.threads, "timing.");
        read(t, "decode_tokens", s.timing.decode_tokens, "timing.");
        read(t, "prefill_tokens", s.timing.prefill_tokens, "timing.");
        r.speed = s;
    }
    if (j.contains("statistics") && j["statistics"].is_object())
        r.statistics = statistics_from(j["statistics"]);
    if (j.contains("speed_pairs") && j["speed_pairs"].is_object())
        r.paired = paired_from(j["speed_pairs"]);
    if (j.contains("plan") && j["plan"].is_array()) r.mixed = mixed_from(j);
    if (j.contains("pruning") && j["pruning"].is_object()) r.pruning = pruning_from(j["pruning"]);
    if (j.contains("finetune") && j["finetune"].is_object()) {
        FinetuneReport f;
        const auto& o = j["finetune"];
        read(o, "run_id", f.run_id, "finetune.");
        read(o, "steps", f.steps, "finetune.");
        read(o, "tokens", f.tokens, "finetune.");
        read(o, "lr", f.lr, "finetune.");
        read(o, "untuned", f.untuned, "finetune.");
        read(o, "untuned_compression_id", f.untuned_compression_id, "finetune.");
        r.finetune = f;
    }
    if (j.contains("distillation") && j["distillation"].is_object()) {
        DistillationReport d;
        const auto& o = j["distillation"];
        read(o, "run_id", d.run_id, "distillation.");
        read(o, "student_preset", d.student_preset, "distillation.");
        read(o, "teacher", d.teacher, "distillation.");
        read(o, "alpha", d.alpha, "distillation.");
        read(o, "temperature", d.temperature, "distillation.");
        read(o, "steps", d.steps, "distillation.");
        read(o, "tokens", d.tokens, "distillation.");
        read(o, "baseline_run_id", d.baseline_run_id, "distillation.");
        read(o, "student_run_id", d.student_run_id, "distillation.");
        r.distillation = d;
    }
    read(j, "compression_id", r.compression_id, "");
    return r;
}

}  // namespace itera
