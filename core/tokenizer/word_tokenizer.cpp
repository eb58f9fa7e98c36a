// The original Itera-Lite word tokenizer, kept to compare against: lowercase,
// split on whitespace, words outside the vocabulary become UNK. Decoding joins
// words with single spaces (case and spacing are lost, as in the original).

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "tokenizer/tokenizer_impl.h"
#include "util/error.h"

namespace itera {
namespace {

constexpr std::int32_t kPad = 0, kUnk = 1, kBos = 2, kEos = 3, kSpecials = 4;

std::vector<std::string> words_of(std::string_view text) {
    std::vector<std::string> out;
    std::string cur;
    for (char ch : text) {
        if (std::isspace(static_cast<unsigned char>(ch))) {
            if (!cur.empty()) out.push_back(std::move(cur)), cur.clear();
        } else {
            cur += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
    }
    if (!cur.empty()) out.push_back(std::move(cur));
    return out;
}

class WordTokenizer final : public Tokenizer {
public:
    explicit WordTokenizer(std::vector<std::string> words) : words_(std::move(words)) {
        for (std::size_t i = 0; i < words_.size(); ++i)
            index_[words_[i]] = static_cast<std::int32_t>(i) + kSpecials;
    }
    TokenizerKind kind() const override { return TokenizerKind::Word; }
    std::int32_t vocab_size() const override {
        return static_cast<std::int32_t>(words_.size()) + kSpecials;
    }
    std::int32_t pad_id() const override { return kPad; }
    std::int32_t bos_id() const override { return kBos; }
    std::int32_t eos_id() const override { return kEos; }
    std::vector<std::int32_t> encode(std::string_view text) const override {
        std::vector<std::int32_t> ids;
        for (const auto& w : words_of(text)) {
            auto it = index_.find(w);
            ids.push_back(it == index_.end() ? kUnk : it->second);
        }
        return ids;
    }
    std::string decode(const std::vector<std::int32_t>& ids) const override {
        std::string out;
        for (auto id : ids) {
            std::string w =
                id == kUnk ? "<unk>"
                           : (id >= kSpecials && id < vocab_size() ? words_[id - kSpecials] : "");
            if (w.empty()) continue;
            if (!out.empty()) out += ' ';
            out += w;
        }
        return out;
    }
    std::string serialize() const override {
        return nlohmann::json{{"type", "word"}, {"vocab_size", vocab_size()}, {"words", words_}}
            .dump();
    }

private:
    std::vector<std::string> words_;
    std::unordered_map<std::string, std::int32_t> index_;
};

}  // namespace

std::shared_ptr<const Tokenizer> train_word_tokenizer(const std::vector<std::string>& documents,
                                                      std::int32_t vocab_size) {
    if (vocab_size <= kSpecials)
        throw Error("word tokenizer: vocab size must exceed the 4 special tokens");
    std::unordered_map<std::string, std::int64_t> counts;
    for (const auto& d : documents)
        for (auto& w : words_of(d)) ++counts[w];
    if (counts.empty()) throw Error("word tokenizer: the training text has no words");
    std::vector<std::pair<std::string, std::int64_t>> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    std::vector<std::string> words;
    for (const auto& [w, n] : sorted) {
        if (static_cast<std::int32_t>(words.size()) + kSpecials >= vocab_size) break;
        words.push_back(w);
    }
    return std::make_shared<const WordTokenizer>(std::move(words));
}

namespace detail {

std::shared_ptr<const Tokenizer> word_tokenizer_from_json(const nlohmann::json& j) {
    if (!j.contains("words") || !j["words"].is_array())
        throw Error("tokenizer: word tokenizer without a \"words\" array");
    std::vector<std::string> words;
    for (const auto& w : j["words"]) {
        if (!w.is_string()) throw Error("tokenizer: word tokenizer \"words\" must hold strings");
        words.push_back(w.get<std::string>());
    }
    return std::make_shared<const WordTokenizer>(std::move(words));
}

}  // namespace detail
}  // namespace itera
