#include "train/memory_estimate.h"

#include <algorithm>

#include "model/tensor_names.h"

namespace itera {

double activation_floats_per_token(const ModelConfig& config, std::int64_t seq_len) {
    const auto c = config.resolved();
    if (c.is_transformer()) {
        // Per layer (attention.cpp, attention_op.cpp): the norm's input and
        // statistics, the projection's input, q, k, v as rotated (the rotation
        // saves views of the projection's output, nothing new), each head's
        // row of attention weights (min(T, W) of them), the weighted sum, and
        // the dense FFN as below.
        const double d = static_cast<double>(c.hidden_size), F = static_cast<double>(c.expert_size);
        const double keys = static_cast<double>(std::min(seq_len, c.context_length));
        const double attention = (d + 2) + d + 3 * d + static_cast<double>(c.num_heads) * keys + d;
        const double dense = (d + 2) + d + 2 * F;
        return d + static_cast<double>(c.num_layers) * (attention + dense) + (d + 2) + d;
    }
    const double d = static_cast<double>(c.hidden_size), di = static_cast<double>(c.inner_size());
    const double N = static_cast<double>(c.ssm_state_size), R = static_cast<double>(c.ssm_dt_rank);
    const double F = static_cast<double>(c.expert_size), E = static_cast<double>(c.num_experts);
    const double k = static_cast<double>(c.top_k_experts);
    // Per sublayer, the tensors its operations save (see mixer.cpp and ffn.cpp):
    // the LayerNorm's input and statistics, each GEMM's input, the conv's input,
    // the scan's inputs (u, Δ, B, C, z), the gated output.
    const double mixer = (d + 2) + d + di + di + 2 * (R + 2 * N) + di + di + di;
    const double dense = (d + 2) + d + 2 * F;
    // Routed tokens are copied per expert: input, hidden pre- and post-activation,
    // the expert's output and its gate.
    const double moe = (d + 2) + d + 2 * E + 2 * k + k * (d + 2 * F + d + 1);
    double per_token = d;  // the embedding's output
    for (std::int64_t l = 0; l < c.num_layers; ++l)
        per_token += mixer + (c.is_moe_layer(l) ? moe : dense);
    per_token += (d + 2) + d;  // the final norm, and the head's input gradient
    return per_token;
}

TrainingMemory training_memory(const ModelConfig& config, std::int64_t batch_size,
                               std::int64_t seq_len) {
    TrainingMemory m;
    m.parameters = static_cast<std::uint64_t>(parameter_count(config)) * 16;
    // Per token, plus the tied head's weight gradient, which the fused head + loss
    // computes during the forward pass and holds until the backward.
    const auto c = config.resolved();
    m.activations = static_cast<std::uint64_t>(
        4 * (activation_floats_per_token(c, seq_len) * static_cast<double>(batch_size) *
                 static_cast<double>(seq_len) +
             static_cast<double>(c.vocab_size) * static_cast<double>(c.hidden_size)));
    return m;
}

}  // namespace itera
