#pragma once
// The Itera-Lite v2 model of docs/spec/model.md: embedding, L layers of
// (selective SSM mixer + dense or MoE feed-forward), final LayerNorm and a
// head tied to the embedding; or, with arch "transformer", the baseline of
// docs/spec/transformer.md (attention + GELU MLP layers, the same embedding,
// norm and head). Parameter names equal the specs' tensor names.

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "model/attention.h"
#include "model/config.h"
#include "model/ffn.h"
#include "model/mixer.h"

namespace itera {

/// Per-layer recurrent state for decoding; `position` counts tokens absorbed.
struct DecodeState {
    std::vector<LayerState> layers;
    std::int64_t position = 0;
};

struct ModelOutput {
    torch::Tensor logits;                    ///< (B, T, V); undefined from forward_hidden
    torch::Tensor hidden;                    ///< (B, T, d) final normalised hidden state
    torch::Tensor aux_loss;                  ///< scalar Σ over MoE layers (0 without MoE)
    std::vector<torch::Tensor> expert_load;  ///< per MoE layer, (E)
};

struct LossOutput {
    torch::Tensor loss;  ///< what to differentiate: ce + moe_aux_loss_weight · aux (training)
    torch::Tensor ce;    ///< mean cross-entropy over non-padding targets (what is reported)
    torch::Tensor aux;   ///< Σ_MoE aux, unweighted
    std::int64_t target_tokens = 0;
    std::vector<torch::Tensor> expert_load;
};

/// One layer: a token mixer (the SSM mixer of Itera-Lite, or attention for a
/// Transformer: exactly one of the two is set) and a feed-forward sublayer.
struct Block : torch::nn::Module {
    Block(const ModelConfig& config, std::int64_t index);
    Mixer mixer{nullptr};
    Attention attn{nullptr};
    std::shared_ptr<FfnBase> ffn;
};

class IteraModelImpl : public torch::nn::Module {
public:
    explicit IteraModelImpl(const ModelConfig& config);

    /// tokens: int64 (B, T) ids in [0, V). With `state` the sequence continues
    /// from it and the state is advanced (inference only, no autograd).
    ModelOutput forward(const torch::Tensor& tokens, DecodeState* state = nullptr);

    /// As `forward` without the head: only `hidden` is set (the loss applies
    /// the tied head itself, in chunks).
    ModelOutput forward_hidden(const torch::Tensor& tokens, DecodeState* state = nullptr);

    /// Language-model loss of `sequence` (B, T+1): inputs are [:, :T], targets
    /// [:, 1:] — the only place the shift happens. Targets equal to `pad_id`
    /// (when >= 0) are ignored.
    LossOutput loss(const torch::Tensor& sequence, std::int64_t pad_id = -1);

    /// Zero state for `batch` sequences.
    DecodeState initial_state(std::int64_t batch) const;

    /// One recurrent step: tokens (B) → logits (B, V); advances `state`.
    torch::Tensor step(const torch::Tensor& tokens, DecodeState& state);

    /// The spec's initialisation, deterministic in `seed`.
    void initialize(std::uint64_t seed);

    const ModelConfig& config() const { return config_; }

    /// Parameters by spec name, in the spec's table order.
    std::vector<std::pair<std::string, torch::Tensor>> spec_parameters() const;

    Weights embed{nullptr}, norm_f{nullptr};
    std::vector<std::shared_ptr<Block>> layers;

private:
    ModelConfig config_;
};
TORCH_MODULE(IteraModel);

}  // namespace itera
