#include "train/train_settings.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "util/error.h"
#include "util/json_read.h"

namespace itera {
namespace {

void require(bool ok, const std::string& message) {
    if (!ok) throw Error("training settings: " + message);
}

}  // namespace

void TrainSettings::validate() const {
    model.validate();
    require(batch_size >= 1 && batch_size <= 65536,
            "batch_size must be in 1..65536, got " + std::to_string(batch_size));
    require(seq_len >= 1 && seq_len <= (1 << 20),
            "seq_len must be in 1..1048576, got " + std::to_string(seq_len));
    require(grad_accum >= 1 && grad_accum <= 4096,
            "grad_accum must be in 1..4096, got " + std::to_string(grad_accum));
    require(steps >= 0 && steps <= (std::int64_t{1} << 40), "steps must be >= 0");
    require(std::isfinite(minutes) && minutes >= 0 && minutes <= 60 * 24 * 365,
            "minutes must be in 0..525600");
    require(steps > 0 || minutes > 0, "give a length: steps > 0 or minutes > 0");
    require(std::isfinite(adam.lr) && adam.lr > 0 && adam.lr <= 10,
            "lr must be in (0, 10], got " + number_text(adam.lr));
    require(adam.beta1 >= 0 && adam.beta1 < 1 && adam.beta2 >= 0 && adam.beta2 < 1,
            "betas must be in [0, 1)");
    require(std::isfinite(adam.eps) && adam.eps > 0, "eps must be > 0");
    require(std::isfinite(adam.weight_decay) && adam.weight_decay >= 0 && adam.weight_decay < 10,
            "weight_decay must be in [0, 10)");
    require(std::isfinite(min_lr_ratio) && min_lr_ratio >= 0 && min_lr_ratio <= 1,
            "min_lr_ratio must be in [0, 1]");
    require(warmup_steps >= 0, "warmup_steps must be >= 0");
    require(std::isfinite(max_grad_norm), "max_grad_norm must be finite");
    require(eval_every >= 1, "eval_every must be >= 1");
    require(eval_tokens >= 2, "eval_tokens must be >= 2");
    require(checkpoint_every >= 1, "checkpoint_every must be >= 1");
    require(patience >= 0, "patience must be >= 0");
    require(threads >= 0 && threads <= 4096, "threads must be in 0..4096");
    require(std::isfinite(distill_alpha) && distill_alpha >= 0 && distill_alpha <= 1,
            "distill_alpha must be in [0, 1]");
    require(std::isfinite(distill_temperature) && distill_temperature >= 0.1 &&
                distill_temperature <= 100,
            "distill_temperature must be in [0.1, 100]");
    check_precision(precision, "training settings: precision");
}

void check_precision(const std::string& precision, const std::string& what) {
    if (precision != "fp32" && precision != "bf16")
        throw Error(what + " must be fp32 or bf16, got \"" + precision + "\"");
}

namespace {

// Every setting but the model, by its JSON key: one list for writing and reading.
template <class Settings, class Visit>
void for_each_field(Settings& s, Visit&& visit) {
    visit("preset", s.preset);
    visit("batch_size", s.batch_size);
    visit("seq_len", s.seq_len);
    visit("grad_accum", s.grad_accum);
    visit("steps", s.steps);
    visit("minutes", s.minutes);
    visit("lr", s.adam.lr);
    visit("beta1", s.adam.beta1);
    visit("beta2", s.adam.beta2);
    visit("eps", s.adam.eps);
    visit("weight_decay", s.adam.weight_decay);
    visit("min_lr_ratio", s.min_lr_ratio);
    visit("warmup_steps", s.warmup_steps);
    visit("max_grad_norm", s.max_grad_norm);
    visit("eval_every", s.eval_every);
    visit("eval_tokens", s.eval_tokens);
    visit("checkpoint_every", s.checkpoint_every);
    visit("patience", s.patience);
    visit("seed", s.seed);
    visit("threads", s.threads);
}

// Reads `v` into a setting of any type, naming the key when it does not fit
// (a float too large for an integer is refused before it is converted).
template <class T>
void read_field(const nlohmann::json& v, const std::string& key, T& into) {
    const auto what = "training settings: " + key;
    if constexpr (std::is_same_v<T, std::string>) {
        into = json_string(v, what);
    } else if constexpr (std::is_same_v<T, bool>) {
        into = json_bool(v, what);
    } else if constexpr (std::is_integral_v<T>) {
        const auto lo = std::is_unsigned_v<T>
                            ? std::int64_t{0}
                            : static_cast<std::int64_t>(std::numeric_limits<T>::min());
        const auto hi = static_cast<std::int64_t>(
            std::min<std::uint64_t>(std::numeric_limits<T>::max(), INT64_MAX));
        into = static_cast<T>(json_int(v, what, lo, hi));
    } else {
        into = static_cast<T>(json_number(v, what));
    }
}

}  // namespace

std::string TrainSettings::to_json() const {
    nlohmann::ordered_json j;
    j["model"] = nlohmann::ordered_json::parse(model.to_json());
    for_each_field(*this, [&](const char* key, const auto& value) { j[key] = value; });
    // Written only when used, so plain runs keep their settings unchanged.
    if (!init_from.empty()) j["init_from"] = init_from;
    if (precision != "fp32") j["precision"] = precision;
    if (!teacher.empty()) {
        j["teacher"] = teacher;
        j["distill_alpha"] = distill_alpha;
        j["distill_temperature"] = distill_temperature;
    }
    return j.dump(2);
}

TrainSettings TrainSettings::from_json(const std::string& text) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // The position, not the library's text: that quotes the raw bytes.
        throw Error("training settings: invalid JSON at byte " + std::to_string(e.byte));
    } catch (const nlohmann::json::exception&) {
        throw Error("training settings: invalid JSON");
    }
    require(j.is_object(), "expected a JSON object");
    TrainSettings s;
    std::set<std::string> known = {"model",         "init_from",           "teacher",
                                   "distill_alpha", "distill_temperature", "precision"};
    for_each_field(s, [&](const char* key, auto&) { known.insert(key); });
    for (const auto& [key, value] : j.items())
        require(known.count(key), "unknown key \"" + key + "\"");
    if (j.contains("model")) s.model = ModelConfig::from_json(j["model"].dump());
    for_each_field(s, [&](const char* key, auto& into) {
        if (j.contains(key)) read_field(j[key], key, into);
    });
    if (j.contains("init_from")) read_field(j["init_from"], "init_from", s.init_from);
    if (j.contains("precision")) read_field(j["precision"], "precision", s.precision);
    if (j.contains("teacher")) read_field(j["teacher"], "teacher", s.teacher);
    if (j.contains("distill_alpha"))
        read_field(j["distill_alpha"], "distill_alpha", s.distill_alpha);
    if (j.contains("distill_temperature"))
        read_field(j["distill_temperature"], "distill_temperature", s.distill_temperature);
    s.validate();
    return s;
}

double schedule_progress(const TrainSettings& s, std::int64_t step, std::int64_t total,
                         ScheduleAnchor anchor) {
    if (step < s.warmup_steps || total <= 0) return 0;
    // Before warm-up ends the anchor cannot have moved the cosine.
    const auto from = std::max(anchor.step, s.warmup_steps);
    const double at = from == anchor.step ? std::clamp(anchor.progress, 0.0, 1.0) : 0.0;
    if (step <= from) return at;
    const std::int64_t span = std::max<std::int64_t>(1, total - from);
    return std::min(1.0, at + (1 - at) * static_cast<double>(step - from) / span);
}

double learning_rate(const TrainSettings& s, std::int64_t step, std::int64_t total,
                     ScheduleAnchor anchor) {
    const double peak = s.adam.lr;
    if (step < s.warmup_steps) return peak * static_cast<double>(step + 1) / (s.warmup_steps + 1);
    if (total <= 0) return peak;
    const double floor = peak * s.min_lr_ratio;
    const double t = schedule_progress(s, step, total, anchor);
    return floor + (peak - floor) * 0.5 * (1 + std::cos(M_PI * t));
}

}  // namespace itera
