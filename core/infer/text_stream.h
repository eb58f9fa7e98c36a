#pragma once
// Turns generated token ids into text as they arrive. Tokenizers decode whole
// sequences (SentencePiece drops the leading space of the first piece and
// merges byte-fallback pieces into characters), so each new token's text is
// the difference between decoding a short window with and without it. Text is
// released only when it ends on a complete UTF-8 character, and is always valid
// UTF-8.

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace itera {

class TextStream {
public:
    /// `context`: the tokens before the generated ones (the prompt), so the
    /// first generated token decodes as it would inside the text.
    TextStream(const Tokenizer& tokenizer, std::vector<std::int32_t> context);

    /// Adds a token; returns the text it completes (empty while a character is
    /// still incomplete).
    std::string push(std::int32_t id);

    /// Whatever is still held back (an incomplete character, as U+FFFD).
    std::string flush();

private:
    std::string decode_range(std::size_t begin, std::size_t end) const;

    const Tokenizer& tokenizer_;
    std::vector<std::int32_t> ids_;
    std::size_t emitted_;  // ids_[0, emitted_) have had their text released
};

/// The text `id` adds after `context` (its last few tokens are used), e.g.
/// " whale" with its leading space, where decode({id}) alone gives "whale".
/// May hold U+FFFD when the token is part of a multi-byte character.
std::string token_piece(const Tokenizer& tokenizer, const std::vector<std::int32_t>& context,
                        std::int32_t id);

/// One candidate next token, as shown in the playground and printed by the CLI.
struct Alternative {
    std::int32_t id = 0;
    float p = 0;        ///< probability under the model (temperature 1)
    float logprob = 0;  ///< its natural log
    std::string text;   ///< token_piece after the tokens before it
};

}  // namespace itera
