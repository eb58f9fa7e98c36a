#pragma once
// FP32 checkpoints of the spec (docs/spec/checkpoint.md): one .safetensors file whose __metadata__
// holds format, format_version, config, tokenizer and quantization. Loading demands exactly the
// spec's tensor set with the spec's shapes — a missing, extra or mis-shaped tensor is an error,
// never a silently skipped weight.

#include <filesystem>
#include <map>
#include <string>

#include "model/itera_model.h"
#include "tokenizer/tokenizer.h"

namespace itera {

/// The tokenizer metadata written when no tokenizer is attached yet.
std::string no_tokenizer_metadata(std::int64_t vocab_size);

/// Writes `model` atomically (temp file + rename). `tokenizer` is the
/// serialized tokenizer; `extra` adds metadata keys (e.g. run id, step).
void save_checkpoint(const IteraModel& model, const std::string& tokenizer,
                     const std::filesystem::path& path,
                     const std::map<std::string, std::string>& extra = {});

struct LoadedCheckpoint {
    IteraModel model{nullptr};
    std::string tokenizer;
    std::map<std::string, std::string> metadata;
};

/// Reads and validates an FP32 (or F16/BF16, widened to FP32) checkpoint.
LoadedCheckpoint load_checkpoint(const std::filesystem::path& path);

/// The tokenizer of a checkpoint read from `path`: its `tokenizer` metadata is
/// the serialized tokenizer or (as the spec allows) a path relative to the
/// checkpoint. Null when none is attached (`itera model init`); errors name the file.
std::shared_ptr<const Tokenizer> checkpoint_tokenizer(const LoadedCheckpoint& checkpoint,
                                                      const std::filesystem::path& path);

}  // namespace itera
