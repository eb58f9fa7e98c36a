#include "sweep/sweep_spec.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "data/data_spec.h"
#include "model/config.h"
#include "train/train_settings.h"
#include "util/error.h"
#include "util/json_read.h"

namespace itera {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kMaxTrials = 10000;

const std::set<std::string>& settings_keys() {
    static const std::set<std::string> keys = [] {
        TrainSettings s;
        s.steps = 1;
        s.model = ModelConfig::preset("micro", 256);
        std::set<std::string> k;
        const auto all = json::parse(s.to_json());  // alive while iterated
        for (const auto& [key, v] : all.items()) k.insert(key);
        k.insert({"precision", "init_from", "teacher", "distill_alpha", "distill_temperature"});
        k.erase("model");
        return k;
    }();
    return keys;
}

/// Keys of either architecture's model (a point's "arch" picks the preset's).
const std::set<std::string>& model_keys() {
    static const std::set<std::string> keys = [] {
        std::set<std::string> k;
        for (const auto* arch : {kIteraArch, kTransformerArch})
            for (const auto& key : config_keys(arch)) k.insert(key);
        k.erase("vocab_size");  // the tokenizer's
        return k;
    }();
    return keys;
}

void require(bool ok, const std::string& message) {
    if (!ok) throw Error("sweep spec: " + message);
}

void check_keys(const json& j, const std::string& where, const std::set<std::string>& known) {
    require(j.is_object(), where + " must be a JSON object");
    for (const auto& [key, v] : j.items())
        require(known.count(key), where + ": unknown key \"" + key + "\"");
}

SweepParameter parse_parameter(const std::string& written, const json& j) {
    const auto where = "parameter \"" + written + "\"";
    SweepParameter p;
    try {
        p.name = canonical_parameter(written);
    } catch (const Error& e) {
        throw Error(std::string("sweep spec: ") + e.what());
    }
    check_keys(j, where, {"values", "range", "scale", "type"});
    require(j.contains("values") != j.contains("range"),
            where + ": give either \"values\" (a list) or \"range\" ([low, high])");
    if (j.contains("values")) {
        const auto& v = j["values"];
        require(v.is_array() && !v.empty() && v.size() <= 1000,
                where + ": \"values\" must be a list of 1 to 1000 values");
        for (const auto& x : v)
            require(x.is_number() || x.is_string() || x.is_boolean(),
                    where + ": values must be numbers, strings or true/false");
        require(!j.contains("scale") && !j.contains("type"),
                where + ": \"scale\" and \"type\" apply to a range");
        p.values = v;
        return p;
    }
    const auto& r = j["range"];
    require(r.is_array() && r.size() == 2, where + ": \"range\" must be [low, high]");
    p.lo = json_number(r[0], "sweep spec: " + where + ": low");
    p.hi = json_number(r[1], "sweep spec: " + where + ": high");
    require(p.lo < p.hi, where + ": low must be below high");
    const auto scale = j.contains("scale") ? json_string(j["scale"], where + ": scale") : "linear";
    require(scale == "linear" || scale == "log", where + ": scale must be \"linear\" or \"log\"");
    p.log = scale == "log";
    require(!p.log || p.lo > 0, where + ": a log range needs low > 0");
    const auto type =
        j.contains("type")
            ? json_string(j["type"], where + ": type")
            : (r[0].is_number_integer() && r[1].is_number_integer() ? "int" : "float");
    require(type == "int" || type == "float", where + ": type must be \"int\" or \"float\"");
    p.integer = type == "int";
    if (p.integer)
        require(std::ceil(p.lo) <= std::floor(p.hi), where + ": the range holds no integer");
    return p;
}

// Every value a parameter can take at its extremes, each applied to the base
// alone, so a bad range fails before any trial has run.
void check_against_base(const SweepSpec& spec) {
    for (const auto& p : spec.parameters) {
        std::vector<json> probes;
        if (p.is_range()) {
            probes = {p.integer ? json(static_cast<std::int64_t>(std::ceil(p.lo))) : json(p.lo),
                      p.integer ? json(static_cast<std::int64_t>(std::floor(p.hi))) : json(p.hi)};
        } else {
            probes.assign(p.values.begin(), p.values.end());
        }
        for (const auto& v : probes) {
            if (p.name == "preset")
                require(v.is_string(), "parameter \"preset\": values must be preset names");
            try {
                TrainSettings::from_json(trial_settings(spec.base, {{p.name, v}}, 256).dump());
            } catch (const Error& e) {
                throw Error("sweep spec: parameter \"" + p.name + "\" = " + v.dump() + ": " +
                            e.what());
            }
        }
    }
}

}  // namespace

std::string sweep_method_name(SweepMethod m) {
    switch (m) {
        case SweepMethod::Grid:
            return "grid";
        case SweepMethod::Random:
            return "random";
        case SweepMethod::Tpe:
            return "tpe";
    }
    return "?";
}

std::string canonical_parameter(const std::string& name) {
    if (name == "seed")
        throw Error("parameter \"seed\": replicate over seeds with the spec's \"seeds\" instead");
    if (name == "threads") throw Error("parameter \"threads\": the sweep divides the threads");
    if (name == "preset" || settings_keys().count(name)) return name;
    const auto bare = name.rfind("model.", 0) == 0 ? name.substr(6) : name;
    if (model_keys().count(bare)) return "model." + bare;
    throw Error("parameter \"" + name +
                "\": not a training setting or model key (docs/sweeps.md lists them)");
}

json trial_settings(const json& base, const json& point, std::int64_t vocab_size) {
    TrainSettings defaults;
    defaults.adam.lr = 2e-3;
    defaults.steps = 1;
    auto j = json::parse(defaults.to_json());
    for (const auto& [key, v] : base.items())
        if (key != "data" && key != "model") j[key] = v;
    if (!base.contains("steps") && base.contains("minutes")) j["steps"] = 0;
    std::string preset = base.value("preset", std::string("mini"));
    if (point.contains("preset")) preset = point["preset"].get<std::string>();
    j["preset"] = ModelConfig::canonical_preset(preset);
    // The architecture: the point's, else the base model's, else Itera-Lite.
    ModelVariant variant;
    if (base.contains("model") && base["model"].is_object() && base["model"].contains("arch") &&
        base["model"]["arch"].is_string())
        variant.arch = base["model"]["arch"].get<std::string>();
    if (point.contains("model.arch") && point["model.arch"].is_string())
        variant.arch = point["model.arch"].get<std::string>();
    // A run without a preset (its own model) gives every model key in "model".
    auto model = json::parse(
        ModelConfig::preset(preset.empty() ? "mini" : preset, vocab_size, variant).to_json());
    if (base.contains("model") && base["model"].is_object())
        for (const auto& [key, v] : base["model"].items()) model[key] = v;
    model["vocab_size"] = vocab_size;
    // Derived from other keys (which a point may change) unless the base gives them.
    for (const char* derived : {"moe_layers", "ssm_dt_rank"})
        if (!(base.contains("model") && base["model"].contains(derived))) model.erase(derived);
    for (const auto& [key, v] : point.items()) {
        if (key == "preset") continue;
        if (key.rfind("model.", 0) == 0)
            model[key.substr(6)] = v;
        else
            j[key] = v;
    }
    j["model"] = model;
    return j;
}

std::string SweepSpec::to_json() const {
    nlohmann::ordered_json j;
    j["name"] = name;
    j["base"] = base;
    auto& ps = j["parameters"] = nlohmann::ordered_json::object();
    for (const auto& p : parameters) {
        nlohmann::ordered_json o;
        if (p.is_range()) {
            o["range"] = {p.lo, p.hi};
            o["scale"] = p.log ? "log" : "linear";
            o["type"] = p.integer ? "int" : "float";
        } else {
            o["values"] = p.values;
        }
        ps[p.name] = o;
    }
    j["method"] = sweep_method_name(method);
    j["configurations"] = configurations;
    j["seeds"] = seeds;
    j["seed"] = seed;
    j["objective"] = {{"metric", metric}, {"goal", maximize ? "maximize" : "minimize"}};
    if (early_stopping())
        j["early_stopping"] = {{"method", "asha"}, {"rungs", rungs}, {"reduction", reduction}};
    else
        j["early_stopping"] = nullptr;
    j["budget"] = {{"minutes", total_minutes}};
    j["tpe"] = {{"startup", tpe_startup}, {"candidates", tpe_candidates}, {"gamma", tpe_gamma}};
    return j.dump(2);
}

SweepSpec SweepSpec::from_json(const std::string& text) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        throw Error("sweep spec: invalid JSON at byte " + std::to_string(e.byte));
    }
    check_keys(j, "the spec",
               {"name", "base", "parameters", "method", "configurations", "trials", "seeds", "seed",
                "objective", "early_stopping", "budget", "tpe"});
    SweepSpec s;
    if (j.contains("name")) s.name = json_string(j["name"], "sweep spec: name");
    if (j.contains("base")) {
        require(j["base"].is_object(), "\"base\" must be a JSON object (a training config)");
        s.base = j["base"];
    }
    json_at(j, "parameters", "sweep spec");
    // In the order written: tables and charts show them so.
    const auto ps = nlohmann::ordered_json::parse(text)["parameters"];
    require(ps.is_object() && !ps.empty() && ps.size() <= 32,
            "\"parameters\" must be an object of 1 to 32 parameters");
    for (const auto& [name, p] : ps.items()) s.parameters.push_back(parse_parameter(name, json(p)));
    for (std::size_t i = 0; i < s.parameters.size(); ++i)
        for (std::size_t k = 0; k < i; ++k)
            require(s.parameters[i].name != s.parameters[k].name,
                    "parameter \"" + s.parameters[i].name + "\" is given twice");

    const auto method = j.contains("method") ? json_string(j["method"], "sweep spec: method")
                                             : std::string("random");
    if (method == "grid")
        s.method = SweepMethod::Grid;
    else if (method == "random")
        s.method = SweepMethod::Random;
    else if (method == "tpe")
        s.method = SweepMethod::Tpe;
    else
        require(false, "method must be \"grid\", \"random\" or \"tpe\", got \"" + method + "\"");

    require(!(j.contains("configurations") && j.contains("trials")),
            "give \"configurations\" or its old name \"trials\", not both");
    const auto count_key = j.contains("trials") ? "trials" : "configurations";
    std::int64_t grid_size = 1;
    for (const auto& p : s.parameters) {
        if (s.method == SweepMethod::Grid)
            require(!p.is_range(),
                    "parameter \"" + p.name + "\": a grid needs \"values\", not a range");
        if (!p.is_range())
            grid_size = std::min<std::int64_t>(kMaxTrials + 1, grid_size * p.values.size());
    }
    if (j.contains(count_key))
        s.configurations =
            json_int(j[count_key], std::string("sweep spec: ") + count_key, 1, kMaxTrials);
    else if (s.method == SweepMethod::Grid)
        s.configurations = grid_size;
    else
        require(false, "give the number of configurations to sample: \"configurations\": N");
    if (s.method == SweepMethod::Grid) {
        require(grid_size <= kMaxTrials, "the grid has more than 10000 configurations");
        s.configurations = std::min(s.configurations, grid_size);
    }
    if (j.contains("seeds")) s.seeds = json_int(j["seeds"], "sweep spec: seeds", 1, 100);
    require(s.trial_count() <= kMaxTrials, "more than 10000 trials (configurations x seeds)");
    if (j.contains("seed"))
        s.seed = static_cast<std::uint64_t>(json_int(j["seed"], "sweep spec: seed", 0, INT64_MAX));

    if (j.contains("objective")) {
        const auto& o = j["objective"];
        check_keys(o, "objective", {"metric", "goal"});
        if (o.contains("metric"))
            s.metric = json_string(o["metric"], "sweep spec: objective.metric");
        require(s.metric == "val_bits_per_byte" || s.metric == "val_loss" ||
                    s.metric == "val_perplexity",
                "objective.metric must be val_bits_per_byte, val_loss or val_perplexity");
        const auto goal = o.contains("goal") ? json_string(o["goal"], "sweep spec: objective.goal")
                                             : std::string("minimize");
        require(goal == "minimize" || goal == "maximize",
                "objective.goal must be \"minimize\" or \"maximize\"");
        s.maximize = goal == "maximize";
    }
    if (j.contains("early_stopping") && !j["early_stopping"].is_null()) {
        const auto& e = j["early_stopping"];
        check_keys(e, "early_stopping", {"method", "rungs", "reduction"});
        if (e.contains("method"))
            require(e["method"] == "asha", "early_stopping.method must be \"asha\"");
        const auto& r = json_at(e, "rungs", "sweep spec: early_stopping");
        require(r.is_array() && !r.empty() && r.size() <= 20,
                "early_stopping.rungs must be a list of 1 to 20 step counts");
        for (const auto& x : r) {
            s.rungs.push_back(
                json_int(x, "sweep spec: early_stopping.rungs", 1, std::int64_t{1} << 40));
            require(s.rungs.size() == 1 || s.rungs.back() > s.rungs[s.rungs.size() - 2],
                    "early_stopping.rungs must increase");
        }
        if (e.contains("reduction"))
            s.reduction = json_int(e["reduction"], "sweep spec: early_stopping.reduction", 2, 100);
    }
    if (j.contains("budget")) {
        const auto& b = j["budget"];
        check_keys(b, "budget", {"minutes"});
        if (b.contains("minutes")) {
            s.total_minutes = json_number(b["minutes"], "sweep spec: budget.minutes");
            require(s.total_minutes >= 0 && s.total_minutes <= 525600,
                    "budget.minutes must be in 0..525600 (0: no limit)");
        }
    }
    if (j.contains("tpe")) {
        const auto& t = j["tpe"];
        check_keys(t, "tpe", {"startup", "candidates", "gamma"});
        if (t.contains("startup"))
            s.tpe_startup = json_int(t["startup"], "sweep spec: tpe.startup", 1, kMaxTrials);
        if (t.contains("candidates"))
            s.tpe_candidates = json_int(t["candidates"], "sweep spec: tpe.candidates", 1, 10000);
        if (t.contains("gamma")) {
            s.tpe_gamma = json_number(t["gamma"], "sweep spec: tpe.gamma");
            require(s.tpe_gamma > 0 && s.tpe_gamma < 1, "tpe.gamma must be in (0, 1)");
        }
    }

    if (s.base.contains("data")) {
        try {
            DataSpec::from_json(s.base["data"].dump());
        } catch (const Error& e) {
            throw Error(std::string("sweep spec: base.data: ") + e.what());
        }
    }
    json base;
    try {
        base = trial_settings(s.base, json::object(), 256);
        TrainSettings::from_json(base.dump());
    } catch (const Error& e) {
        throw Error(std::string("sweep spec: base: ") + e.what());
    } catch (const json::exception& e) {
        throw Error(std::string("sweep spec: base: ") + e.what());
    }
    const auto varies = [&](const char* name) {
        return std::any_of(s.parameters.begin(), s.parameters.end(),
                           [&](const auto& p) { return p.name == name; });
    };
    require(s.base.contains("steps") || s.base.contains("minutes") || varies("steps"),
            "give the trials a length: base \"steps\" (or \"minutes\"), or a \"steps\" parameter");
    const bool varies_length = varies("minutes");
    if (s.early_stopping())
        require(
            base.value("minutes", 0.0) == 0 && !varies_length,
            "early stopping measures trials in steps: give the base \"steps\", not \"minutes\"");
    check_against_base(s);
    return s;
}

}  // namespace itera
