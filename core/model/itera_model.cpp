#include "model/itera_model.h"

#include <limits>

#include "model/ops.h"
#include "model/tensor_names.h"
#include "util/error.h"

namespace itera {

Block::Block(const ModelConfig& config, std::int64_t index) {
    if (config.is_transformer()) {
        attn = register_module("attn", Attention(config));
        ffn = register_module("ffn", std::make_shared<DenseFfn>(config));
        return;
    }
    mixer = register_module("mixer", Mixer(config));
    if (config.is_moe_layer(index))
        ffn = register_module("ffn", std::make_shared<MoeFfn>(config));
    else
        ffn = register_module("ffn", std::make_shared<DenseFfn>(config));
}

IteraModelImpl::IteraModelImpl(const ModelConfig& config) : config_(config.resolved()) {
    config_.validate();
    const auto V = config_.vocab_size, d = config_.hidden_size;
    embed = register_module("embed", Weights(std::vector<std::int64_t>{V, d}));
    auto list = register_module("layers", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < config_.num_layers; ++i) {
        layers.push_back(std::make_shared<Block>(config_, i));
        list->push_back(layers.back());
    }
    norm_f = register_module("norm_f",
                             Weights(std::vector<std::int64_t>{d}, std::vector<std::int64_t>{d}));
}

ModelOutput IteraModelImpl::forward(const torch::Tensor& tokens, DecodeState* state) {
    auto out = forward_hidden(tokens, state);
    out.logits = linear_map(out.hidden, embed->weight);  // tied head, (B, T, V)
    return out;
}

ModelOutput IteraModelImpl::forward_hidden(const torch::Tensor& tokens, DecodeState* state) {
    if (tokens.dim() != 2 || tokens.scalar_type() != torch::kLong)
        throw Error("model input must be int64 token ids of shape (batch, time)");
    if (tokens.size(1) == 0) throw Error("model input has no tokens");
    const auto V = config_.vocab_size;
    auto lo = tokens.min().item<std::int64_t>(), hi = tokens.max().item<std::int64_t>();
    if (lo < 0 || hi >= V)
        throw Error("token id " + std::to_string(lo < 0 ? lo : hi) +
                    " is outside the vocabulary 0.." + std::to_string(V - 1));
    if (state && static_cast<std::int64_t>(state->layers.size()) != config_.num_layers)
        throw Error("decode state has " + std::to_string(state->layers.size()) +
                    " layers, model has " + std::to_string(config_.num_layers));

    const double p = is_training() ? config_.dropout : 0.0;
    auto drop = [&](const torch::Tensor& t) { return p > 0 ? torch::dropout(t, p, true) : t; };
    ModelOutput out;
    out.aux_loss = torch::zeros({});
    auto x = torch::embedding(embed->weight, tokens);  // (B, T, d)
    for (std::size_t i = 0; i < layers.size(); ++i) {
        auto& block = *layers[i];
        auto* layer_state = state ? &state->layers[i] : nullptr;
        x = x + drop(block.attn ? block.attn->forward(x, layer_state, state ? state->position : 0)
                                : block.mixer->forward(x, layer_state));
        auto f = block.ffn->forward(x);
        x = x + drop(f.out);
        if (f.aux_loss.defined()) {
            out.aux_loss = out.aux_loss + f.aux_loss;
            out.expert_load.push_back(f.expert_load);
        }
    }
    out.hidden = layer_norm(x, norm_f, config_.norm_eps);  // (B, T, d)
    if (state) state->position += tokens.size(1);
    return out;
}

LossOutput IteraModelImpl::loss(const torch::Tensor& sequence, std::int64_t pad_id) {
    if (sequence.dim() != 2 || sequence.size(1) < 2)
        throw Error("a training sequence needs shape (batch, T+1) with T >= 1");
    const auto T = sequence.size(1) - 1;
    auto inputs = sequence.narrow(1, 0, T);
    auto targets = sequence.narrow(1, 1, T).reshape({-1});
    auto fwd = forward_hidden(inputs);
    LossOutput out;
    out.target_tokens =
        pad_id >= 0 ? (targets != pad_id).sum().item<std::int64_t>() : targets.numel();
    out.ce = tied_head_cross_entropy(
        fwd.hidden.reshape({-1, config_.hidden_size}), embed->weight, targets,
        pad_id >= 0 ? pad_id : std::numeric_limits<std::int64_t>::min());
    out.aux = fwd.aux_loss;
    out.loss = is_training() && config_.moe_aux_loss_weight > 0
                   ? out.ce + config_.moe_aux_loss_weight * out.aux
                   : out.ce;
    out.expert_load = std::move(fwd.expert_load);
    return out;
}

DecodeState IteraModelImpl::initial_state(std::int64_t batch) const {
    DecodeState s;
    for (const auto& block : layers)
        s.layers.push_back(block->attn ? block->attn->initial_state(batch)
                                       : block->mixer->initial_state(batch));
    return s;
}

torch::Tensor IteraModelImpl::step(const torch::Tensor& tokens, DecodeState& state) {
    if (tokens.dim() != 1) throw Error("step expects token ids of shape (batch)");
    return forward(tokens.unsqueeze(1), &state).logits.squeeze(1);
}

std::vector<std::pair<std::string, torch::Tensor>> IteraModelImpl::spec_parameters() const {
    auto named = named_parameters(true);
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& spec : spec_tensors(config_)) {
        auto* t = named.find(spec.name);
        if (!t) throw Error("internal: model has no parameter " + spec.name);
        out.emplace_back(spec.name, *t);
    }
    if (out.size() != named.size())
        throw Error("internal: model has parameters outside the spec's tensor table");
    return out;
}

}  // namespace itera
