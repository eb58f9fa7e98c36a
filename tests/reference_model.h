#pragma once
// The spec's forward pass (docs/spec/model.md) written as literally as possible in double
// precision: a per-time-step loop for the scan and a per-token loop for the
// MoE. Slow and obvious on purpose; the fast model is checked against it.

#include <torch/torch.h>

#include <map>
#include <string>

#include "model/config.h"

namespace itera::testing {

using ParamMap = std::map<std::string, torch::Tensor>;

/// Parameters of `model` by spec name, as double tensors.
template <class Model>
ParamMap double_params(const Model& model) {
    ParamMap out;
    for (const auto& [name, p] : model->spec_parameters())
        out[name] = p.detach().to(torch::kDouble).clone();
    return out;
}

/// The reference scan on one layer's inputs (all double):
/// u, dt (after softplus): (B, T, di); A: (di, N); Bm, Cm: (B, T, N); D: (di).
torch::Tensor reference_scan(const torch::Tensor& u, const torch::Tensor& dt,
                             const torch::Tensor& A, const torch::Tensor& Bm,
                             const torch::Tensor& Cm, const torch::Tensor& D);

/// Logits (B, T, V) of the reference forward.
torch::Tensor reference_logits(const ModelConfig& config, const ParamMap& p,
                               const torch::Tensor& tokens);

}  // namespace itera::testing
