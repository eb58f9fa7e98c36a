#pragma once
// The model configuration of docs/spec/model.md: every key, its default,
// the named presets, validation and the JSON form stored in checkpoints.

#include <cstdint>
#include <string>
#include <vector>

namespace itera {

/// Configuration of an Itera-Lite v2 model. Field names are the spec's JSON keys.
struct ModelConfig {
    std::string arch = "itera-lite-v2";
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
    static ModelConfig preset(const std::string& name, std::int64_t vocab_size);

    /// The presets' names, smallest first (old names not included).
    static std::vector<std::string> preset_names();

    /// A preset's name as it is now ("quality" → "mini"); a name that is not a
    /// preset (or empty) comes back as it is.
    static std::string canonical_preset(const std::string& name);
};

bool operator==(const ModelConfig& a, const ModelConfig& b);

}  // namespace itera
