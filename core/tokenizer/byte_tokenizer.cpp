// Bytes as tokens: no training, nothing unknown, 3 specials after the 256 bytes.

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace itera {
namespace {

class ByteTokenizer final : public Tokenizer {
public:
    TokenizerKind kind() const override { return TokenizerKind::Byte; }
    std::int32_t vocab_size() const override { return 259; }
    std::int32_t pad_id() const override { return 256; }
    std::int32_t bos_id() const override { return 257; }
    std::int32_t eos_id() const override { return 258; }
    std::vector<std::int32_t> encode(std::string_view text) const override {
        std::vector<std::int32_t> ids(text.size());
        for (std::size_t i = 0; i < text.size(); ++i) ids[i] = static_cast<unsigned char>(text[i]);
        return ids;
    }
    std::string decode(const std::vector<std::int32_t>& ids) const override {
        std::string out;
        out.reserve(ids.size());
        for (auto id : ids)
            if (id >= 0 && id < 256) out += static_cast<char>(id);
        return out;
    }
    std::string serialize() const override {
        return nlohmann::json{{"type", "byte"}, {"vocab_size", 259}}.dump();
    }
};

}  // namespace

std::shared_ptr<const Tokenizer> make_byte_tokenizer() {
    static const auto instance = std::make_shared<const ByteTokenizer>();
    return instance;
}

}  // namespace itera
