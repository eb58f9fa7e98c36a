#include "model/config.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "model/tensor_names.h"
#include "util/error.h"

namespace itera {
namespace {

using nlohmann::json;

void require(bool ok, const std::string& message) {
    if (!ok) throw Error("model config: " + message);
}

void require_positive(std::int64_t value, const char* key) {
    require(value > 0,
            std::string(key) + " must be a positive integer, got " + std::to_string(value));
}

// Sizes beyond this are typos, not models: they would need terabytes.
constexpr std::int64_t kMaxDim = 1 << 20;
constexpr double kMaxParams = 20e9;
constexpr std::int64_t kMaxLayers = 4096;
constexpr std::int64_t kMaxExpertsInModel = 16384;  // over all MoE layers

void require_dims(std::initializer_list<std::pair<const char*, std::int64_t>> dims) {
    for (auto [key, v] : dims) {
        require_positive(v, key);
        require(v <= kMaxDim, std::string(key) + " = " + std::to_string(v) +
                                  " is beyond any trainable model (max " + std::to_string(kMaxDim) +
                                  ")");
    }
}

void require_common(const ModelConfig& c) {
    require(std::isfinite(c.dropout) && c.dropout >= 0 && c.dropout < 1,
            "dropout must be in [0, 1), got " + number_text(c.dropout));
    require(std::isfinite(c.norm_eps) && c.norm_eps > 0 && c.norm_eps < 1,
            "norm_eps must be in (0, 1), got " + number_text(c.norm_eps));
}

void require_params(double params) {
    require(params <= kMaxParams, "the configuration has " + number_text(params / 1e9) +
                                      " billion parameters; the workbench trains models up to " +
                                      number_text(kMaxParams / 1e9) + " billion");
}

void validate_transformer(const ModelConfig& c) {
    require_dims({{"vocab_size", c.vocab_size},
                  {"hidden_size", c.hidden_size},
                  {"num_layers", c.num_layers},
                  {"num_heads", c.num_heads},
                  {"ffn_size", c.expert_size},
                  {"context_length", c.context_length}});
    require(c.num_layers <= kMaxLayers, "num_layers must be at most " + std::to_string(kMaxLayers));
    require(c.hidden_size % c.num_heads == 0, "num_heads (" + std::to_string(c.num_heads) +
                                                  ") must divide hidden_size (" +
                                                  std::to_string(c.hidden_size) + ")");
    require(c.head_size() % 2 == 0,
            "the head size hidden_size / num_heads must be even for the "
            "rotary embedding, got " +
                std::to_string(c.head_size()));
    require(std::isfinite(c.rope_theta) && c.rope_theta > 1 && c.rope_theta <= 1e12,
            "rope_theta must be in (1, 1e12], got " + number_text(c.rope_theta));
    require_common(c);
    const double d = static_cast<double>(c.hidden_size), F = static_cast<double>(c.expert_size);
    require_params(static_cast<double>(c.vocab_size) * d + 2 * d +
                   static_cast<double>(c.num_layers) * (4 * d * d + 4 * d + 2 * d * F));
}

}  // namespace

bool ModelConfig::is_moe_layer(std::int64_t layer) const {
    if (is_transformer()) return false;
    // As resolved() lists them, without its copy: callers ask for every layer, and a
    // copy per call made a 4,095-layer config take seconds (found by fuzz_model_config).
    if (moe_layers_default)
        return layer >= 1 && layer < std::min(num_layers, kMaxLayers) && layer % 2 == 1;
    return std::find(moe_layers.begin(), moe_layers.end(), layer) != moe_layers.end();
}

ModelConfig ModelConfig::resolved() const {
    ModelConfig c = *this;
    if (c.is_transformer()) {  // no SSM and no experts: the keys are not part of this arch
        c.moe_layers.clear();
        c.moe_layers_default = false;
        return c;
    }
    if (c.ssm_dt_rank == 0 && c.hidden_size > 0) c.ssm_dt_rank = (c.hidden_size + 15) / 16;
    if (c.moe_layers_default) {
        c.moe_layers.clear();
        // (bounded: an absurd num_layers is refused by validate(), not looped over)
        for (std::int64_t i = 1; i < std::min(c.num_layers, kMaxLayers); i += 2)
            c.moe_layers.push_back(i);
        c.moe_layers_default = false;
    }
    return c;
}

void ModelConfig::validate() const {
    require(arch == kIteraArch || arch == kTransformerArch,
            "arch must be \"itera-lite-v2\" or \"transformer\", got \"" + arch + "\"");
    if (is_transformer()) return validate_transformer(*this);
    auto c = resolved();
    require_positive(c.vocab_size, "vocab_size");
    require_positive(c.hidden_size, "hidden_size");
    require_positive(c.num_layers, "num_layers");
    require_positive(c.ssm_state_size, "ssm_state_size");
    require_positive(c.ssm_expand, "ssm_expand");
    require_positive(c.ssm_conv_kernel, "ssm_conv_kernel");
    require_positive(c.ssm_dt_rank, "ssm_dt_rank (0 = the default)");
    require_positive(c.expert_size, "expert_size");
    struct Dim {
        const char* key;
        std::int64_t v;
    };
    for (auto d : {Dim{"vocab_size", c.vocab_size}, Dim{"hidden_size", c.hidden_size},
                   Dim{"num_layers", c.num_layers}, Dim{"ssm_state_size", c.ssm_state_size},
                   Dim{"ssm_expand", c.ssm_expand}, Dim{"ssm_conv_kernel", c.ssm_conv_kernel},
                   Dim{"ssm_dt_rank", c.ssm_dt_rank}, Dim{"num_experts", c.num_experts},
                   Dim{"expert_size", c.expert_size}}) {
        require(d.v <= kMaxDim, std::string(d.key) + " = " + std::to_string(d.v) +
                                    " is beyond any trainable model (max " +
                                    std::to_string(kMaxDim) + ")");
    }
    std::set<std::int64_t> seen;
    for (auto layer : c.moe_layers) {
        require(layer >= 0 && layer < c.num_layers, "moe_layers entry " + std::to_string(layer) +
                                                        " is outside 0.." +
                                                        std::to_string(c.num_layers - 1));
        require(seen.insert(layer).second,
                "moe_layers lists layer " + std::to_string(layer) + " twice");
    }
    if (!c.moe_layers.empty()) {
        require_positive(c.num_experts, "num_experts");
        require(c.top_k_experts >= 1 && c.top_k_experts <= c.num_experts,
                "top_k_experts must be between 1 and num_experts (" +
                    std::to_string(c.num_experts) + "), got " + std::to_string(c.top_k_experts));
    }
    require(std::isfinite(c.moe_aux_loss_weight) && c.moe_aux_loss_weight >= 0,
            "moe_aux_loss_weight must be a finite number >= 0");
    require_common(c);
    // Analytic count in double: an absurd configuration must not overflow or
    // allocate a tensor table with millions of entries before being rejected.
    const double d = c.hidden_size, di = static_cast<double>(c.inner_size()), N = c.ssm_state_size;
    const double R = c.ssm_dt_rank, K = c.ssm_conv_kernel, F = c.expert_size;
    const double moe = static_cast<double>(c.moe_layers.size());
    const double dense = static_cast<double>(c.num_layers) - moe;
    const double mixer =
        2 * d + 2 * di * d + di * K + di + (R + 2 * N) * di + di * R + 2 * di + di * N + d * di;
    double params = c.vocab_size * d + 2 * d + c.num_layers * (mixer + 2 * d) + dense * 2 * F * d +
                    moe * (c.num_experts * d + c.num_experts * 2 * F * d);
    require(c.num_layers <= kMaxLayers, "num_layers must be at most " + std::to_string(kMaxLayers));
    require(c.num_experts <= 4096, "num_experts must be at most 4096");
    // Each expert is two tensors: bound the tensor table, not only the weights.
    require(moe * static_cast<double>(c.num_experts) <= kMaxExpertsInModel,
            "the configuration has " + std::to_string(c.moe_layers.size()) + " MoE layers of " +
                std::to_string(c.num_experts) + " experts; at most " +
                std::to_string(kMaxExpertsInModel) + " experts in all");
    require_params(params);
}

std::string ModelConfig::to_json() const {
    auto c = resolved();
    json j = json::object();
    j["arch"] = c.arch;
    if (c.is_transformer()) {
        j["vocab_size"] = c.vocab_size;
        j["hidden_size"] = c.hidden_size;
        j["num_layers"] = c.num_layers;
        j["num_heads"] = c.num_heads;
        j["ffn_size"] = c.expert_size;
        j["context_length"] = c.context_length;
        j["rope_theta"] = c.rope_theta;
        j["dropout"] = c.dropout;
        j["norm_eps"] = c.norm_eps;
        return j.dump();
    }
    j["vocab_size"] = c.vocab_size;
    j["hidden_size"] = c.hidden_size;
    j["num_layers"] = c.num_layers;
    j["ssm_state_size"] = c.ssm_state_size;
    j["ssm_expand"] = c.ssm_expand;
    j["ssm_conv_kernel"] = c.ssm_conv_kernel;
    j["ssm_dt_rank"] = c.ssm_dt_rank;
    j["num_experts"] = c.num_experts;
    j["top_k_experts"] = c.top_k_experts;
    j["expert_size"] = c.expert_size;
    j["moe_layers"] = c.moe_layers;
    j["moe_aux_loss_weight"] = c.moe_aux_loss_weight;
    j["dropout"] = c.dropout;
    j["norm_eps"] = c.norm_eps;
    return j.dump();
}

ModelConfig ModelConfig::from_json(const std::string& text) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        throw Error("model config: not valid JSON (error at byte " + std::to_string(e.byte) + ")");
    } catch (const json::exception&) {  // e.g. a number beyond a double's range (1e400)
        throw Error("model config: a number in it is out of range");
    }
    require(j.is_object(), "expected a JSON object");
    ModelConfig c;
    // An integer, or a float with an integral value; anything beyond 2^53 (no
    // dimension comes near it) is refused before it is converted.
    auto to_int = [&](const json& v, const std::string& what) -> std::int64_t {
        constexpr double kLimit = 9007199254740992.0;  // 2^53
        if (v.is_number_unsigned()) {
            require(v.get<std::uint64_t>() <= static_cast<std::uint64_t>(kLimit),
                    what + " is out of range");
            return static_cast<std::int64_t>(v.get<std::uint64_t>());
        }
        if (v.is_number_integer()) return v.get<std::int64_t>();
        require(v.is_number_float(), what + " must be an integer");
        const double d = v.get<double>();
        require(std::isfinite(d) && std::floor(d) == d, what + " must be an integer");
        require(std::fabs(d) <= kLimit, what + " is out of range");
        return static_cast<std::int64_t>(d);
    };
    auto get_int = [&](const char* key, std::int64_t& out) {
        if (!j.contains(key)) return;
        out = to_int(j[key], key);
    };
    auto get_float = [&](const char* key, double& out) {
        if (!j.contains(key)) return;
        require(j[key].is_number(), std::string(key) + " must be a number");
        out = j[key].get<double>();
    };
    if (j.contains("arch")) {
        require(j["arch"].is_string(), "arch must be a string");
        c.arch = j["arch"].get<std::string>();
        require(!config_keys(c.arch).empty(),
                "arch must be \"itera-lite-v2\" or \"transformer\", got \"" + c.arch + "\"");
    }
    const auto& keys = config_keys(c.arch);
    const auto& other = config_keys(c.is_transformer() ? kIteraArch : kTransformerArch);
    for (auto it = j.begin(); it != j.end(); ++it) {
        const bool known = std::find(keys.begin(), keys.end(), it.key()) != keys.end();
        const bool elsewhere = std::find(other.begin(), other.end(), it.key()) != other.end();
        require(known,
                "unknown key \"" + it.key() + "\"" +
                    (elsewhere ? " for arch \"" + c.arch + "\" (it is a key of arch \"" +
                                     (c.is_transformer() ? kIteraArch : kTransformerArch) + "\")"
                               : std::string()));
    }
    if (c.is_transformer()) {
        c.expert_size = 512;  // the Transformer's default FFN width: 4 · the default d
        get_int("num_heads", c.num_heads);
        get_int("ffn_size", c.expert_size);
        get_int("context_length", c.context_length);
        get_float("rope_theta", c.rope_theta);
    }
    require(j.contains("vocab_size"), "vocab_size is required");
    get_int("vocab_size", c.vocab_size);
    get_int("hidden_size", c.hidden_size);
    get_int("num_layers", c.num_layers);
    get_int("ssm_state_size", c.ssm_state_size);
    get_int("ssm_expand", c.ssm_expand);
    get_int("ssm_conv_kernel", c.ssm_conv_kernel);
    get_int("ssm_dt_rank", c.ssm_dt_rank);
    get_int("num_experts", c.num_experts);
    get_int("top_k_experts", c.top_k_experts);
    get_int("expert_size", c.expert_size);
    if (j.contains("moe_layers")) {
        require(j["moe_layers"].is_array(), "moe_layers must be an array of layer indices");
        c.moe_layers.clear();
        require(j["moe_layers"].size() <= static_cast<std::size_t>(kMaxLayers),
                "moe_layers lists more layers than a model has");
        for (const auto& v : j["moe_layers"]) c.moe_layers.push_back(to_int(v, "moe_layers entry"));
        // The list is a set of layers: its canonical form is sorted.
        std::sort(c.moe_layers.begin(), c.moe_layers.end());
        c.moe_layers_default = false;
    }
    get_float("moe_aux_loss_weight", c.moe_aux_loss_weight);
    get_float("dropout", c.dropout);
    get_float("norm_eps", c.norm_eps);
    c.validate();
    return c.resolved();
}

namespace {

struct Preset {
    const char* name;
    std::int64_t d, L, N, E, F, heads;
};
constexpr Preset kPresets[] = {{"micro", 64, 3, 8, 4, 128, 2},
                               {"mini", 128, 4, 8, 4, 256, 4},
                               {"small", 256, 6, 16, 8, 512, 4},
                               {"medium", 512, 8, 16, 8, 1024, 8}};

/// The Transformer of an Itera-Lite configuration's width and depth whose FFN
/// width F (a multiple of 16) brings its parameters nearest to it: the
/// embedding and final norm are the same, so F matches the layers' parameters.
ModelConfig matched_transformer(const ModelConfig& itera, std::int64_t heads) {
    ModelConfig t;
    t.arch = kTransformerArch;
    t.vocab_size = itera.vocab_size;
    t.hidden_size = itera.hidden_size;
    t.num_layers = itera.num_layers;
    t.num_heads = heads;
    t.dropout = itera.dropout;
    const double d = static_cast<double>(t.hidden_size), L = static_cast<double>(t.num_layers);
    const double layers = static_cast<double>(parameter_count(itera) -
                                              itera.vocab_size * t.hidden_size - 2 * t.hidden_size);
    const double F = (layers / L - 4 * d * d - 4 * d) / (2 * d);
    t.expert_size = std::max<std::int64_t>(16, std::llround(F / 16) * 16);
    return t;
}

}  // namespace

ModelConfig ModelConfig::preset(const std::string& name, std::int64_t vocab_size,
                                const ModelVariant& variant) {
    const auto wanted = canonical_preset(name);
    for (const auto& p : kPresets) {
        if (wanted != p.name) continue;
        ModelConfig c;
        c.vocab_size = vocab_size;
        c.hidden_size = p.d;
        c.num_layers = p.L;
        c.ssm_state_size = p.N;
        c.num_experts = p.E;
        c.expert_size = p.F;
        c.validate();
        if (variant.arch == kTransformerArch) {
            auto t = matched_transformer(c.resolved(), p.heads);
            t.validate();
            return t.resolved();
        }
        if (variant.arch != kIteraArch)
            throw Error("unknown architecture \"" + variant.arch +
                        "\" (expected itera-lite-v2 or transformer)");
        if (!variant.moe) {
            c.moe_layers.clear();
            c.moe_layers_default = false;
        }
        if (variant.ssm_state_size != 0) c.ssm_state_size = variant.ssm_state_size;
        c.validate();
        return c.resolved();
    }
    throw Error("unknown preset \"" + name + "\" (expected micro, mini, small or medium)");
}

ModelVariant ModelConfig::variant() const {
    ModelVariant v;
    v.arch = arch;
    if (is_transformer()) return v;
    v.moe = !resolved().moe_layers.empty();
    v.ssm_state_size = ssm_state_size;
    return v;
}

const std::vector<std::string>& config_keys(const std::string& arch) {
    static const std::vector<std::string> itera = {
        "arch",        "vocab_size",      "hidden_size",         "num_layers",  "ssm_state_size",
        "ssm_expand",  "ssm_conv_kernel", "ssm_dt_rank",         "num_experts", "top_k_experts",
        "expert_size", "moe_layers",      "moe_aux_loss_weight", "dropout",     "norm_eps"};
    static const std::vector<std::string> transformer = {
        "arch",     "vocab_size",     "hidden_size", "num_layers", "num_heads",
        "ffn_size", "context_length", "rope_theta",  "dropout",    "norm_eps"};
    static const std::vector<std::string> none;
    return arch == kIteraArch ? itera : arch == kTransformerArch ? transformer : none;
}

std::vector<std::string> ModelConfig::preset_names() {
    return {"micro", "mini", "small", "medium"};
}

std::string ModelConfig::canonical_preset(const std::string& name) {
    // "quality" was the mini preset's first name: a run store, a config or a
    // script may still say so.
    return name == "quality" ? "mini" : name;
}

bool operator==(const ModelConfig& a, const ModelConfig& b) {
    return a.to_json() == b.to_json();
}

}  // namespace itera
