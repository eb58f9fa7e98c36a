#pragma once
// Internal: constructors of the concrete tokenizers from their JSON form.

#include <nlohmann/json.hpp>

#include <memory>

#include "tokenizer/tokenizer.h"

namespace itera::detail {

std::shared_ptr<const Tokenizer> word_tokenizer_from_json(const nlohmann::json& j);
std::shared_ptr<const Tokenizer> sentencepiece_from_json(const nlohmann::json& j);

}  // namespace itera::detail
