// SentencePiece BPE and unigram tokenizers, trained in memory and stored as a
// base64 model proto inside the JSON form. SentencePiece runs inside
// libitera_spm (see spm/spm_api.h). Training settings favour exact round
// trips: identity normalisation, spaces kept, byte fallback for the rest.

#include <memory>

#include "tokenizer/spm_library.h"
#include "tokenizer/tokenizer_impl.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/threads.h"

namespace itera {
namespace {

// Frees a buffer allocated by libitera_spm when it goes out of scope.
struct SpmBuffer {
    void* p = nullptr;
    ~SpmBuffer() {
        if (p) SpmLibrary::get().free(p);
    }
};

[[noreturn]] void fail(const std::string& what, char* err) {
    std::string msg = err ? err : "unknown error";
    if (err) SpmLibrary::get().free(err);
    throw Error("tokenizer: " + what + ": " + msg);
}

// Feeds the non-empty lines of the documents to the trainer.
struct LineSource {
    const std::vector<std::string>& docs;
    std::size_t doc = 0, pos = 0;

    static int next(void* ctx, const char** data, std::size_t* len) {
        auto& s = *static_cast<LineSource*>(ctx);
        while (s.doc < s.docs.size()) {
            const auto& d = s.docs[s.doc];
            if (s.pos >= d.size()) {
                ++s.doc;
                s.pos = 0;
                continue;
            }
            auto end = d.find('\n', s.pos);
            if (end == std::string::npos) end = d.size();
            const auto start = s.pos;
            s.pos = end + 1;
            if (end > start) {
                *data = d.data() + start;
                *len = end - start;
                return 1;
            }
        }
        return 0;
    }
};

class SentencePieceTokenizer final : public Tokenizer {
public:
    SentencePieceTokenizer(TokenizerKind kind, std::string proto)
        : kind_(kind), proto_(std::move(proto)) {
        const auto& lib = SpmLibrary::get();
        char* err = nullptr;
        model_ = lib.load(proto_.data(), proto_.size(), &err);
        if (!model_) fail("cannot load SentencePiece model", err);
        int unk = 0;
        lib.info(model_, &vocab_, &pad_, &unk, &bos_, &eos_);
    }
    ~SentencePieceTokenizer() override { SpmLibrary::get().unload(model_); }
    SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
    SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

    TokenizerKind kind() const override { return kind_; }
    std::int32_t vocab_size() const override { return vocab_; }
    std::int32_t pad_id() const override { return pad_; }
    std::int32_t bos_id() const override { return bos_; }
    std::int32_t eos_id() const override { return eos_; }

    std::vector<std::int32_t> encode(std::string_view text) const override {
        SpmBuffer buf;
        std::size_t n = 0;
        char* err = nullptr;
        int* ids = nullptr;
        if (SpmLibrary::get().encode(model_, text.data(), text.size(), &ids, &n, &err) != 0)
            fail("encode failed", err);
        buf.p = ids;
        return {ids, ids + n};
    }

    std::string decode(const std::vector<std::int32_t>& ids) const override {
        std::vector<int> in;
        in.reserve(ids.size());
        for (auto id : ids)
            if (id >= 0 && id < vocab_ && id != pad_ && id != bos_ && id != eos_) in.push_back(id);
        SpmBuffer buf;
        char* text = nullptr;
        std::size_t len = 0;
        char* err = nullptr;
        if (SpmLibrary::get().decode(model_, in.data(), in.size(), &text, &len, &err) != 0)
            fail("decode failed", err);
        buf.p = text;
        return {text, len};
    }

    std::string serialize() const override {
        return nlohmann::json{{"type", tokenizer_kind_name(kind_)},
                              {"vocab_size", vocab_},
                              {"model", base64_encode(proto_)}}
            .dump();
    }

private:
    TokenizerKind kind_;
    std::string proto_;
    void* model_ = nullptr;
    int vocab_ = 0, pad_ = 0, bos_ = 0, eos_ = 0;
};

}  // namespace

std::shared_ptr<const Tokenizer> train_sentencepiece(TokenizerKind kind,
                                                     const std::vector<std::string>& documents,
                                                     std::int32_t vocab_size, int threads) {
    if (kind != TokenizerKind::Bpe && kind != TokenizerKind::Unigram)
        throw Error("train_sentencepiece: kind must be bpe or unigram");
    if (vocab_size < 300 || vocab_size > (1 << 20))
        throw Error("tokenizer: vocab size " + std::to_string(vocab_size) +
                    " is out of range (300..1048576; byte fallback alone needs 256 ids)");
    const std::vector<std::pair<std::string, std::string>> args = {
        {"model_type", kind == TokenizerKind::Bpe ? "bpe" : "unigram"},
        {"vocab_size", std::to_string(vocab_size)},
        {"byte_fallback", "true"},
        {"character_coverage", "0.9995"},
        {"normalization_rule_name", "identity"},
        {"remove_extra_whitespaces", "false"},
        {"pad_id", "0"},
        {"unk_id", "1"},
        {"bos_id", "2"},
        {"eos_id", "3"},
        {"input_sentence_size", "2000000"},
        {"shuffle_input_sentence", "true"},
        {"max_sentence_length", "16384"},
        {"num_threads", std::to_string(threads > 0 ? threads : default_thread_count())},
        {"minloglevel", "2"},
    };
    std::vector<const char*> keys, values;
    for (const auto& [k, v] : args) {
        keys.push_back(k.c_str());
        values.push_back(v.c_str());
    }
    LineSource source{documents};
    {
        LineSource probe{documents};
        const char* d;
        std::size_t n;
        if (!LineSource::next(&probe, &d, &n)) throw Error("tokenizer: the training text is empty");
    }
    const auto& lib = SpmLibrary::get();
    char* proto = nullptr;
    std::size_t proto_len = 0;
    char* err = nullptr;
    if (lib.train(keys.data(), values.data(), keys.size(), &LineSource::next, &source, &proto,
                  &proto_len, &err) != 0) {
        std::string msg = err ? err : "unknown error";
        if (err) lib.free(err);
        // SentencePiece says "Vocabulary size too high (4096). Please set it to a value <= 385."
        // after its source location: say it in our words, with its figure.
        if (msg.find("Vocabulary size") != std::string::npos) {
            const auto at = msg.find("<= ");
            const auto most = at == std::string::npos
                                  ? std::string()
                                  : msg.substr(at + 3, msg.find('.', at) - at - 3);
            throw Error("tokenizer: the text is too small for a " + std::to_string(vocab_size) +
                        "-token vocabulary" +
                        (most.empty()
                             ? std::string()
                             : ": SentencePiece can make at most " + most + " tokens of it") +
                        "; choose a smaller vocabulary (at least 300), the byte tokenizer, or "
                        "more text");
        }
        throw Error("tokenizer: SentencePiece training failed: " + msg);
    }
    std::string model(proto, proto_len);
    lib.free(proto);
    return std::make_shared<const SentencePieceTokenizer>(kind, std::move(model));
}

namespace detail {

std::shared_ptr<const Tokenizer> sentencepiece_from_json(const nlohmann::json& j) {
    if (!j.contains("model") || !j["model"].is_string())
        throw Error("tokenizer: SentencePiece tokenizer without a \"model\" string");
    auto kind = parse_tokenizer_kind(j["type"].get<std::string>());
    return std::make_shared<const SentencePieceTokenizer>(
        kind, base64_decode(j["model"].get<std::string>()));
}

}  // namespace detail
}  // namespace itera
