#pragma once
// The tokenizer a model file carries in its `tokenizer` metadata: the
// serialized tokenizer itself, or (as the format allows) a path relative to
// the file (docs/spec/checkpoint.md).

#include <filesystem>
#include <memory>
#include <string>

#include "tokenizer/tokenizer.h"

namespace itera {

/// The tokenizer of the model file at `file` whose `tokenizer` metadata is
/// `value`; null when none is attached (`{"type":"none"}`, from `itera model
/// init`). Errors name the file.
std::shared_ptr<const Tokenizer> stored_tokenizer(const std::string& value,
                                                  const std::filesystem::path& file);

}  // namespace itera
