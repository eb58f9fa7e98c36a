#include "infer/text_stream.h"

#include <algorithm>

#include "data/utf8.h"

namespace itera {

namespace {
constexpr std::size_t kWindow = 8;   // tokens of left context re-decoded with each new one
constexpr std::size_t kMaxHeld = 4;  // a UTF-8 character spans at most 4 byte tokens

bool ends_incomplete(const std::string& s) {
    static const std::string replacement = "\xEF\xBF\xBD";  // what decoders make of stray bytes
    if (s.size() >= 3 && s.compare(s.size() - 3, 3, replacement) == 0) return true;
    // A lead byte near the end announcing more continuation bytes than follow it.
    std::size_t i = s.size(), continuation = 0;
    while (i > 0 && continuation < 3 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) {
        --i;
        ++continuation;
    }
    if (i == 0) return false;
    const auto lead = static_cast<unsigned char>(s[i - 1]);
    const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return lead < 0xF8 && length > continuation + 1;
}
}  // namespace

TextStream::TextStream(const Tokenizer& tokenizer, std::vector<std::int32_t> context)
    : tokenizer_(tokenizer), ids_(std::move(context)), emitted_(ids_.size()) {}

std::string TextStream::decode_range(std::size_t begin, std::size_t end) const {
    return tokenizer_.decode({ids_.begin() + static_cast<std::ptrdiff_t>(begin),
                              ids_.begin() + static_cast<std::ptrdiff_t>(end)});
}

std::string TextStream::push(std::int32_t id) {
    ids_.push_back(id);
    const std::size_t begin = emitted_ > kWindow ? emitted_ - kWindow : 0;
    const std::string base = decode_range(begin, emitted_);
    const std::string full = decode_range(begin, ids_.size());
    if (ends_incomplete(full) && ids_.size() - emitted_ < kMaxHeld) return {};
    std::string piece;
    if (full.compare(0, base.size(), base) == 0)
        piece = full.substr(base.size());
    else  // the window's decoding changed earlier text: fall back to the new tokens alone
        piece = decode_range(emitted_, ids_.size());
    emitted_ = ids_.size();
    return replace_invalid_utf8(piece);
}

std::string TextStream::flush() {
    if (emitted_ == ids_.size()) return {};
    const std::size_t begin = emitted_ > kWindow ? emitted_ - kWindow : 0;
    const std::string base = decode_range(begin, emitted_);
    const std::string full = decode_range(begin, ids_.size());
    emitted_ = ids_.size();
    return replace_invalid_utf8(full.compare(0, base.size(), base) == 0 ? full.substr(base.size())
                                                                        : full);
}

std::string token_piece(const Tokenizer& tokenizer, const std::vector<std::int32_t>& context,
                        std::int32_t id) {
    const std::size_t begin = context.size() > kWindow ? context.size() - kWindow : 0;
    std::vector<std::int32_t> ids(context.begin() + static_cast<std::ptrdiff_t>(begin),
                                  context.end());
    const std::string base = tokenizer.decode(ids);
    ids.push_back(id);
    const std::string full = tokenizer.decode(ids);
    if (full.compare(0, base.size(), base) == 0)
        return replace_invalid_utf8(full.substr(base.size()));
    return replace_invalid_utf8(tokenizer.decode({id}));
}

}  // namespace itera
