#include "model/mixer.h"

#include "model/ops.h"

namespace itera {

MixerImpl::MixerImpl(const ModelConfig& cfg) : config(cfg.resolved()) {
    const auto d = config.hidden_size, di = config.inner_size(), N = config.ssm_state_size;
    const auto R = config.ssm_dt_rank, K = config.ssm_conv_kernel;
    norm = register_module("norm",
                           Weights(std::vector<std::int64_t>{d}, std::vector<std::int64_t>{d}));
    in_proj = register_module("in_proj", Weights(std::vector<std::int64_t>{2 * di, d}));
    conv1d = register_module(
        "conv1d", Weights(std::vector<std::int64_t>{di, 1, K}, std::vector<std::int64_t>{di}));
    x_proj = register_module("x_proj", Weights(std::vector<std::int64_t>{R + 2 * N, di}));
    dt_proj = register_module(
        "dt_proj", Weights(std::vector<std::int64_t>{di, R}, std::vector<std::int64_t>{di}));
    A_log = register_parameter("A_log", torch::zeros({di, N}));
    D = register_parameter("D", torch::zeros({di}));
    out_proj = register_module("out_proj", Weights(std::vector<std::int64_t>{d, di}));
}

torch::Tensor MixerImpl::forward(const torch::Tensor& x, LayerState* state, torch::Tensor* gated) {
    const auto di = config.inner_size(), N = config.ssm_state_size, R = config.ssm_dt_rank;
    auto u = layer_norm(x, norm, config.norm_eps);  // (B, T, d)
    // in_proj as two GEMMs over its row halves: the halves come out contiguous,
    // and the backward needs no (B, T, 2·di) concatenation.
    auto xs_in = linear_map(u, in_proj->weight.narrow(0, 0, di));  // (B, T, di)
    auto z = linear_map(u, in_proj->weight.narrow(0, di, di));     // (B, T, di)
    auto xs = state
                  ? causal_conv_silu_stateful(xs_in, conv1d->weight, conv1d->bias, state->conv_tail)
                  : causal_conv_silu(xs_in, conv1d->weight, conv1d->bias);  // (B, T, di)
    auto dbc = linear_map(xs, x_proj->weight);                              // (B, T, R + 2N)
    auto parts = split_last(dbc, {R, N, N});
    const auto& dt_low = parts[0];  // (B, T, R)
    const auto& Bm = parts[1];      // (B, T, N)
    const auto& Cm = parts[2];      // (B, T, N)
    auto dt_raw =
        linear_map(dt_low, dt_proj->weight);  // (B, T, di); bias + softplus inside the scan
    // y ⊙ silu(z) is computed inside the scan kernel.
    auto y = state
                 ? selective_scan_stateful(xs, dt_raw, dt_proj->bias, A_log, Bm, Cm, D, state->h, z)
                 : selective_scan(xs, dt_raw, dt_proj->bias, A_log, Bm, Cm, D, z);  // (B, T, di)
    if (gated) *gated = y;
    return linear_map(y, out_proj->weight);  // (B, T, d)
}

LayerState MixerImpl::initial_state(std::int64_t batch) const {
    const auto di = config.inner_size();
    LayerState s;
    s.conv_tail = torch::zeros({batch, config.ssm_conv_kernel - 1, di});
    s.h = torch::zeros({batch, di, config.ssm_state_size});
    return s;
}

}  // namespace itera
