// The spec's initialisation (docs/spec/model.md; the Transformer's in docs/spec/transformer.md)
// (so a fresh model trains well; not bit-checked):
// embedding and Linear weights N(0, 0.02²), out_proj and w2 scaled by
// 1/sqrt(2L), LayerNorm (1, 0), A_log = log(n + 1) (S4D-real), D = 1,
// dt_proj.bias = softplus⁻¹(dt) with dt log-uniform in [1e-3, 1e-1], and the
// conv as PyTorch's default (uniform ±1/sqrt(fan_in), fan_in = K).

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "model/itera_model.h"

namespace itera {

void IteraModelImpl::initialize(std::uint64_t seed) {
    torch::NoGradGuard no_grad;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const double std = 0.02;
    const double residual_scale = 1.0 / std::sqrt(2.0 * static_cast<double>(config_.num_layers));
    auto normal = [&](torch::Tensor& t, double scale) { t.normal_(0.0, std * scale, gen); };
    auto norm_init = [](Weights& w) {
        w->weight.fill_(1.0);
        w->bias.zero_();
    };

    normal(embed->weight, 1.0);
    for (auto& block : layers) {
        if (block->attn) {  // docs/spec/transformer.md: the same rules for its matrices
            norm_init(block->attn->norm);
            normal(block->attn->qkv_proj->weight, 1.0);
            normal(block->attn->out_proj->weight, residual_scale);
        } else {
            auto& m = *block->mixer;
            norm_init(m.norm);
            normal(m.in_proj->weight, 1.0);
            const double bound = 1.0 / std::sqrt(static_cast<double>(config_.ssm_conv_kernel));
            m.conv1d->weight.uniform_(-bound, bound, gen);
            m.conv1d->bias.uniform_(-bound, bound, gen);
            normal(m.x_proj->weight, 1.0);
            normal(m.dt_proj->weight, 1.0);
            // dt = exp(U(log 1e-3, log 1e-1)); bias = dt + log(-expm1(-dt)).
            auto dt = torch::empty_like(m.dt_proj->bias)
                          .uniform_(std::log(1e-3), std::log(1e-1), gen)
                          .exp();
            m.dt_proj->bias.copy_(dt + torch::log(-torch::expm1(-dt)));
            auto n = torch::arange(1, config_.ssm_state_size + 1, torch::kFloat)
                         .log();  // log(n + 1), n from 0
            m.A_log.copy_(n.unsqueeze(0).expand_as(m.A_log));
            m.D.fill_(1.0);
            normal(m.out_proj->weight, residual_scale);
        }
        if (auto* dense = dynamic_cast<DenseFfn*>(block->ffn.get())) {
            norm_init(dense->norm);
            normal(dense->w1->weight, 1.0);
            normal(dense->w2->weight, residual_scale);
        } else if (auto* moe = dynamic_cast<MoeFfn*>(block->ffn.get())) {
            norm_init(moe->norm);
            normal(moe->router->weight, 1.0);
            for (auto& e : moe->experts) {
                normal(e->w1->weight, 1.0);
                normal(e->w2->weight, residual_scale);
            }
        }
    }
    norm_init(norm_f);
}

}  // namespace itera
