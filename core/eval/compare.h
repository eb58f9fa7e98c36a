#pragma once
// Evaluation through the decoder, the engine that runs every weight format:
// one model's loss, perplexity and bits/byte, or two models side by side on
// the same positions with the mean KL divergence of their next-token
// distributions and how often their most likely token agrees. Same windows
// as evaluate(): consecutive windows of seq_len targets over [EOS] + stream,
// each from a fresh state, so its figures match evaluate()'s to float
// tolerance on an FP32 model.

#include "eval/evaluate.h"
#include "infer/inference_model.h"

namespace itera {

/// Both models at every predicted position, for statistics beyond the means
/// (eval/quality_stats.h).
struct TokenComparison {
    std::vector<float> nll_reference, nll_candidate;  ///< −log p(correct token)
    std::vector<float> kld;                           ///< KL(reference ‖ candidate)
    std::vector<float> p_reference, p_candidate;      ///< p(correct token)
    std::vector<std::uint8_t> same_top;               ///< 1 when the argmaxes agree
};

struct CompareResult {
    EvalResult reference;       ///< loss, perplexity, bits/byte of the first model
    EvalResult candidate;       ///< ... and of the second
    double kld = 0;             ///< mean KL(reference ‖ candidate), nats per token
    double top1_agreement = 0;  ///< fraction of positions with the same argmax
    TokenComparison per_token;  ///< filled when asked for
};

/// One model alone. `threads` splits the decoder's products.
EvalResult evaluate_decoder(const InferenceModel& model, const TokenStream& stream,
                            const Tokenizer& tokenizer, std::uint64_t stream_bytes,
                            const EvalOptions& options, int threads);

/// Two models with the same vocabulary on the same positions; with
/// `per_token`, every position's figures are kept too.
CompareResult compare_models(const InferenceModel& reference, const InferenceModel& candidate,
                             const TokenStream& stream, const Tokenizer& tokenizer,
                             std::uint64_t stream_bytes, const EvalOptions& options, int threads,
                             bool per_token = false);

}  // namespace itera
