#pragma once
// What a training run will hold in memory, before it starts: the weights,
// their gradients and AdamW's two moments (16 bytes per parameter), and the
// activations one micro-batch keeps for its backward pass, counted from the
// tensors the model's operations save (docs/training.md#memory).

#include <cstdint>

#include "model/config.h"

namespace itera {

struct TrainingMemory {
    std::uint64_t parameters = 0;   ///< weights + gradients + AdamW moments
    std::uint64_t activations = 0;  ///< one micro-batch of batch_size × seq_len tokens
    std::uint64_t total() const { return parameters + activations; }
};

/// FP32 figures (BF16 products save a little less); the model's resolved config.
TrainingMemory training_memory(const ModelConfig& config, std::int64_t batch_size,
                               std::int64_t seq_len);

/// Floats saved per token of a micro-batch for the backward pass.
double activation_floats_per_token(const ModelConfig& config, std::int64_t seq_len);

}  // namespace itera
