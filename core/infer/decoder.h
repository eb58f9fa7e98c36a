#pragma once
// Recurrent decoding of a batch of independent sequences: per layer a conv
// tail (K-1, di) and a scan state h (N, di) per sequence, O(1) work per new
// token whatever the length so far; for a Transformer, per layer a cache of
// the keys and values of the last W tokens (O(min(t, W)) per token). Torch-free. A prompt is
// absorbed either here (absorb: the products batched over the prompt's tokens) or by the batched
// LibTorch forward (InferenceModel::prefill) and handed over.

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "infer/decode_model.h"

namespace itera {

class Decoder {
public:
    /// `threads` splits each matrix product's rows (1 = the calling thread only).
    Decoder(std::shared_ptr<const DecodeModel> model, std::int64_t batch, int threads = 1);

    std::int64_t batch() const { return batch_; }
    const DecodeModel& model() const { return *model_; }
    std::int64_t vocab_size() const { return model_->config.vocab_size; }

    /// Zeroes sequence b's state (an empty prefix).
    void reset(std::int64_t b);

    /// Sequence b's conv tail of `layer`: (K-1, di) floats, oldest row first.
    float* conv_tail(std::int64_t layer, std::int64_t b);
    /// Sequence b's scan state of `layer`: (N, di) floats (channel-last, unlike
    /// the model's (di, N), so the step vectorises over channels).
    float* scan_state(std::int64_t layer, std::int64_t b);
    /// Bytes of recurrent state sequence b holds now: the conv tails and scan
    /// states, or the cached keys and values.
    std::size_t state_bytes(std::int64_t b) const;

    /// Tokens absorbed by sequence b.
    std::int64_t position(std::int64_t b) const { return positions_[static_cast<std::size_t>(b)]; }
    void set_position(std::int64_t b, std::int64_t p) {
        positions_[static_cast<std::size_t>(b)] = p;
    }

    /// Feeds tokens[b] to every sequence b and returns the next-token logits,
    /// (batch, V) row-major, valid until the next call. Ids must be in [0, V).
    const float* step(const std::int32_t* tokens);

    /// Feeds tokens[i] to sequence seqs[i] for i < n (distinct sequences; the
    /// others keep their state) and returns logits (n, V), row i for seqs[i].
    const float* step_sequences(const std::int64_t* seqs, const std::int32_t* tokens,
                                std::int64_t n);

    /// Called by absorb with the logits of positions [first, first + count),
    /// (count, V) row-major, valid during the call.
    using LogitsSink = std::function<void(std::int64_t first, std::int64_t count, const float*)>;

    /// Feeds tokens[0..n) to sequence b in order, in chunks of up to
    /// kAbsorbChunk tokens: the matrix products run batched over a chunk's
    /// tokens (each weight block read once per chunk, not per token), the conv
    /// and scan step through them in order. The state and logits are bit for
    /// bit those of n step_sequences calls. Returns the last position's
    /// logits (V floats, valid until the next call); the tied head runs only
    /// for the last position unless `each` wants every position's.
    const float* absorb(std::int64_t b, const std::int32_t* tokens, std::int64_t n,
                        const LogitsSink& each = nullptr);

    static constexpr std::int64_t kAbsorbChunk = 64;

private:
    void check_tokens(const std::int32_t* tokens, std::int64_t n) const;
    void reserve_rows(std::int64_t rows);
    /// One step of `rows` rows; the head runs for rows [head_from, rows).
    void run(const std::int64_t* seqs, const std::int32_t* tokens, std::int64_t rows,
             std::int64_t head_from);
    void mixer_step(std::int64_t layer, const std::int64_t* seqs, std::int64_t rows);
    void attention_step(std::int64_t layer, const std::int64_t* seqs, std::int64_t rows);
    void rope_tables(const std::int64_t* seqs, std::int64_t rows);
    void feed_forward(const DecodeFfn& ffn, std::int64_t rows);
    std::vector<float>& keys(std::int64_t layer, std::int64_t b) {
        return keys_[static_cast<std::size_t>(layer * batch_ + b)];
    }
    std::vector<float>& values(std::int64_t layer, std::int64_t b) {
        return values_[static_cast<std::size_t>(layer * batch_ + b)];
    }

    std::shared_ptr<const DecodeModel> model_;
    std::int64_t batch_;
    std::int64_t capacity_ = 0;  // rows the activation buffers hold
    int threads_;
    std::vector<std::int64_t> positions_;
    std::vector<std::int64_t> all_;  // 0 .. batch-1
    std::vector<float> conv_, h_;    // (L, B, K-1, di), (L, B, N, di)
    // Activations, (B, ·) each.
    std::vector<float> x_, u_, xz_, xs_, dbc_, dtl_, dt_, y_, o_, a_, g_, logits_;
    std::vector<float> ue_, oe_;        // rows gathered for one expert
    std::vector<std::int64_t> chosen_;  // (B, k) experts per row
    std::vector<float> weight_;         // (B, k) their gate weights
    // Transformer: per (layer, sequence) the cached rotated keys and the values of
    // at least the last W-1 positions, oldest first: values as rows of d, keys
    // transposed (d rows of `capacity` positions, capacity = size / d), so a
    // head's scores vectorise over positions.
    std::vector<std::vector<float>> keys_, values_;
    std::vector<float> qkv_, att_;           // (B, 3d), (B, d)
    std::vector<float> cos_, sin_, scores_;  // (B, hd/2) twice; (threads, W) scratch
    std::vector<std::int64_t> row_key_;      // each row's own key in its cache
};

}  // namespace itera
