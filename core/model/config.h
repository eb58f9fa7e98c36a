#pragma once
// The model configuration of docs/spec/model.md: every key, its default,
// the named presets, validation and the JSON form stored in checkpoints.

#include <cstdint>
#include <string>
#include <vector>

namespace itera {

/// The architectures: Itera-Lite v2 (docs/spec/model.md) and the Transformer
/// baseline (docs/spec/transformer.md).
inline constexpr const char* kIteraArch = "itera-lite-v2";
inline constexpr const char* kTransformerArch = "transformer";

/// How a preset is varied: the architecture and Itera-Lite's ablations.
struct ModelVariant {
    std::string arch = kIteraArch;
    bool moe = true;                  ///< false: every feed-forward sublayer dense (Itera-Lite)
    std::int64_t ssm_state_size = 0;  ///< 0: the preset's (Itera-Lite)
    bool operator==(const ModelVariant& o) const {
        return arch == o.arch && moe == o.moe && ssm_state_size == o.ssm_state_size;
    }
};

/// Configuration of a model. Field names are the spec's JSON keys, except that
/// a Transformer's FFN width (`ffn_size`) is held in `expert_size`.
struct ModelConfig {
    std::string arch = kIteraArch;
    std::int64_t vocab_size = 0;
    std::int64_t hidden_size = 128;
    std::int64_t num_layers = 4;
    std::int64_t ssm_state_size = 8;
    std::int64_t ssm_expand = 2;
    std::int64_t ssm_conv_kernel = 4;
    std::int64_t ssm_dt_rank = 0;  ///< 0 means ceil(hidden_size / 16); resolved by `resolved()`
    std::int64_t num_experts = 4;
    std::int64_t top_k_experts = 2;
    std::int64_t expert_size = 256;
    std::vector<std::int64_t> moe_layers;  ///< empty + `moe_layers_default` means odd indices
    bool moe_layers_default = true;        ///< true until moe_layers is set explicitly
    double moe_aux_loss_weight = 0.01;
    double dropout = 0.0;
    double norm_eps = 1e-5;
    // Transformer only (docs/spec/transformer.md).
    std::int64_t num_heads = 4;
    std::int64_t context_length = 2048;  ///< attention window W: a token sees the last W
    double rope_theta = 10000.0;

    bool is_transformer() const { return arch == kTransformerArch; }
    std::int64_t head_size() const { return hidden_size / num_heads; }

    std::int64_t inner_size() const { return ssm_expand * hidden_size; }  ///< di
    bool is_moe_layer(std::int64_t layer) const;

    /// A copy with derived defaults (dt rank, MoE layer list) filled in.
    ModelConfig resolved() const;

    /// Throws itera::Error naming the first invalid field and what was expected.
    void validate() const;

    /// The spec's JSON object with every key explicit (resolved defaults).
    std::string to_json() const;

    /// Parses the spec's JSON; missing keys take defaults, unknown keys are an
    /// error (a typo must not silently become a default). Validates.
    static ModelConfig from_json(const std::string& text);

    /// One of `micro`, `mini`, `small`, `medium` (named by size, smallest first)
    /// with the given vocabulary; the old name `quality` is accepted for `mini`.
    /// A Transformer variant has the Itera-Lite preset's width and depth and the
    /// FFN width that matches its parameter count (docs/spec/transformer.md).
    static ModelConfig preset(const std::string& name, std::int64_t vocab_size,
                              const ModelVariant& variant = {});

    /// The variant a configuration was made with, relative to `preset` of the
    /// same name (the inverse of preset()).
    ModelVariant variant() const;

    /// The presets' names, smallest first (old names not included).
    static std::vector<std::string> preset_names();

    /// A preset's name as it is now ("quality" → "mini"); a name that is not a
    /// preset (or empty) comes back as it is.
    static std::string canonical_preset(const std::string& name);
};

bool operator==(const ModelConfig& a, const ModelConfig& b);

/// The JSON keys a configuration of `arch` may have (docs/spec/model.md and
/// docs/spec/transformer.md); empty for an unknown arch.
const std::vector<std::string>& config_keys(const std::string& arch);

}  // namespace itera
