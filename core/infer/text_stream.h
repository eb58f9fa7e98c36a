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

}  // namespace itera
