#pragma once
// docs/spec/transformer.md's forward pass written as literally as possible in
// double precision: per position, per head, per key loops. Slow and obvious on
// purpose; the fast model and both decoders are checked against it.

#include <torch/torch.h>

#include "model/config.h"
#include "reference_model.h"

namespace itera::testing {

/// The rotary embedding of one head vector x (hd) at position p, in double.
std::vector<double> reference_rotate(const std::vector<double>& x, std::int64_t p, double theta);

/// Logits (B, T, V) of the Transformer's forward for `tokens` (B, T) starting
/// at position 0, every query seeing the last `context_length` positions.
torch::Tensor reference_transformer_logits(const ModelConfig& config, const ParamMap& p,
                                           const torch::Tensor& tokens);

}  // namespace itera::testing
