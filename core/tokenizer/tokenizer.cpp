#include "tokenizer/tokenizer.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>

#include "tokenizer/tokenizer_impl.h"
#include "util/error.h"

namespace itera {
namespace {

struct KindName {
    TokenizerKind kind;
    const char* name;
};
constexpr std::array<KindName, 4> kKinds = {{{TokenizerKind::Byte, "byte"},
                                             {TokenizerKind::Word, "word"},
                                             {TokenizerKind::Bpe, "bpe"},
                                             {TokenizerKind::Unigram, "unigram"}}};

}  // namespace

std::string tokenizer_kind_name(TokenizerKind k) {
    for (const auto& x : kKinds)
        if (x.kind == k) return x.name;
    return "unknown";
}

TokenizerKind parse_tokenizer_kind(const std::string& name) {
    for (const auto& x : kKinds)
        if (name == x.name) return x.kind;
    throw Error("unknown tokenizer \"" + name + "\" (expected bpe, unigram, byte or word)");
}

std::string Tokenizer::fingerprint() const {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : serialize()) {
        h ^= c;
        h *= 1099511628211ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

std::shared_ptr<const Tokenizer> Tokenizer::deserialize(const std::string& text) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw Error("tokenizer: not valid JSON (error at byte " + std::to_string(e.byte) + ")");
    } catch (const nlohmann::json::exception&) {
        throw Error("tokenizer: a number in it is out of range");
    }
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
        throw Error("tokenizer: expected a JSON object with a \"type\" string");
    const auto type = j["type"].get<std::string>();
    if (type == "none")
        throw Error(
            "the checkpoint has no tokenizer attached (it was written by `itera model init`)");
    // The readers below index fields by name: a wrong type there is the file's fault.
    try {
        if (type == "byte") return make_byte_tokenizer();
        if (type == "word") return detail::word_tokenizer_from_json(j);
        if (type == "bpe" || type == "unigram") return detail::sentencepiece_from_json(j);
    } catch (const nlohmann::json::exception& e) {
        throw Error("tokenizer (" + type + "): a field is missing or has the wrong type (" +
                    std::string(e.what()).substr(0, 200) + ")");
    }
    throw Error("tokenizer: unknown type \"" + type.substr(0, 40) + "\"");
}

}  // namespace itera
