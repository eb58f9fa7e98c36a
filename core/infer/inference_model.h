#pragma once
// A model loaded for inference: the checkpoint's tokenizer, the weights laid
// out for the recurrent step (DecodeModel) and the LibTorch model that absorbs
// prompts in one batched forward (prefill) and scores whole texts. Immutable
// after loading and safe to share across threads.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "infer/decode_model.h"
#include "infer/decoder.h"
#include "model/config.h"
#include "tokenizer/tokenizer.h"

namespace itera {

class SafetensorsFile;

class InferenceModel {
public:
    /// Loads and validates a checkpoint: FP32 (see load_checkpoint) or
    /// compressed (f16, bf16, int8 tensors, see compress/compress.h).
    static std::shared_ptr<const InferenceModel> load(const std::filesystem::path& path);

    /// True for a compressed checkpoint: it runs only through the decoder
    /// (its weights are never widened into an FP32 LibTorch model), so
    /// prefill and log_probs step token by token.
    bool compressed() const;

    /// A freshly initialised model of `config` (the spec's initialisation from
    /// `seed`) with no tokenizer: for benchmarks that need no trained weights.
    static std::shared_ptr<const InferenceModel> initialised(const ModelConfig& config,
                                                             std::uint64_t seed);

    ~InferenceModel();

    const ModelConfig& config() const;
    /// Null when the checkpoint carries no tokenizer.
    const std::shared_ptr<const Tokenizer>& tokenizer() const;
    /// The tokenizer, or an error naming the checkpoint when there is none.
    const Tokenizer& require_tokenizer() const;
    const std::shared_ptr<const DecodeModel>& decode_model() const;
    const std::map<std::string, std::string>& metadata() const;
    const std::filesystem::path& path() const;

    /// Absorbs `ids` into sequence b of `decoder`, continuing from its state,
    /// with the batched forward (LibTorch's threads); returns the next-token
    /// logits after the last id (V floats). Empty `ids` is an error.
    std::vector<float> prefill(Decoder& decoder, std::int64_t b,
                               const std::vector<std::int32_t>& ids) const;

    /// Log-probabilities of the next token at every position of `ids`, from a
    /// fresh state: (T, V) row-major, row t = log p(· | ids[0..t]).
    std::vector<float> log_probs(const std::vector<std::int32_t>& ids) const;

private:
    static std::shared_ptr<const InferenceModel> load_compressed(const SafetensorsFile& file,
                                                                 const std::filesystem::path& path);
    struct Impl;
    explicit InferenceModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace itera
