#pragma once
// The model's weights laid out for recurrent decoding: every matrix behind the
// Matrix interface (so compressed formats plug in), the small per-channel
// vectors as plain floats with the per-token work precomputed (A = -exp(A_log))
// and laid out channel-last so the step vectorises over channels. Immutable once built; shared by
// any number of decoders and threads.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "infer/matrix.h"
#include "model/config.h"

namespace itera {

struct DecodeMixer {
    std::vector<float> norm_w, norm_b;  ///< (d)
    std::unique_ptr<Matrix> in_proj;    ///< (2·di, d)
    std::vector<float> conv_w, conv_b;  ///< (K, di) transposed, (di)
    std::unique_ptr<Matrix> x_proj;     ///< (R + 2N, di)
    std::unique_ptr<Matrix> dt_proj;    ///< (di, R)
    std::vector<float> dt_bias;         ///< (di)
    std::vector<float> A;               ///< (N, di) = -exp(A_log), transposed
    std::vector<float> D;               ///< (di)
    std::unique_ptr<Matrix> out_proj;   ///< (d, di)
};

/// A Transformer layer's attention (docs/spec/transformer.md).
struct DecodeAttention {
    std::vector<float> norm_w, norm_b;  ///< (d)
    std::unique_ptr<Matrix> qkv_proj;   ///< (3d, d): queries, keys, values
    std::unique_ptr<Matrix> out_proj;   ///< (d, d)
};

struct DecodeExpert {
    std::unique_ptr<Matrix> w1;  ///< (F, d)
    std::unique_ptr<Matrix> w2;  ///< (d, F)
};

struct DecodeFfn {
    std::vector<float> norm_w, norm_b;
    std::unique_ptr<Matrix> router;     ///< (E, d); null on a dense layer
    std::vector<DecodeExpert> experts;  ///< one on a dense layer
};

/// One layer: `mixer` for Itera-Lite, `attn` for a Transformer (the other
/// one's matrices are null).
struct DecodeLayer {
    DecodeMixer mixer;
    DecodeAttention attn;
    DecodeFfn ffn;
};

struct DecodeModel {
    ModelConfig config;             ///< resolved
    std::unique_ptr<Matrix> embed;  ///< (V, d): the lookup and the tied head
    std::vector<DecodeLayer> layers;
    std::vector<float> norm_f_w, norm_f_b;
    std::vector<double> rope_inv_freq;  ///< (hd/2) theta^(-2j/hd); Transformer only

    /// Bytes of weights a decoded token reads (embedding row aside): the head,
    /// every mixer and dense FFN, and top_k of each MoE layer's experts.
    std::size_t active_weight_bytes() const;
    /// Bytes of all weights held.
    std::size_t weight_bytes() const;
};

/// Where the builder gets its tensors, by spec name: `matrix(name, rows, cols)`
/// returns the matrix in whatever format the checkpoint stores it;
/// `vector(name, n)` returns n FP32 values. Both throw on a missing tensor.
struct DecodeTensorSource {
    std::function<std::unique_ptr<Matrix>(const std::string&, std::int64_t, std::int64_t)> matrix;
    std::function<std::vector<float>(const std::string&, std::int64_t)> vector;
};

/// Lays out a model of `config` for decoding.
std::shared_ptr<const DecodeModel> build_decode_model(const ModelConfig& config,
                                                      const DecodeTensorSource& source);

}  // namespace itera
