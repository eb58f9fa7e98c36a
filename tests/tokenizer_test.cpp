// Tokenizers: golden ids for the fixed ones, exact round trips, and the
// serialised form (what a checkpoint stores) giving back the same tokenizer.

#include <gtest/gtest.h>

#include <random>

#include "tokenizer/tokenizer.h"
#include "util/base64.h"
#include "util/error.h"

namespace itera {
namespace {

// Sentences of pseudo-words built from syllables: enough distinct substrings
// for a 400-piece vocabulary, with a skewed (learnable) word frequency.
std::vector<std::string> synthetic_corpus(int docs, std::uint32_t seed) {
    const std::vector<std::string> syllables = {"ka", "lo", "mi", "ta", "re", "shi", "on",
                                                "ve", "du", "pa", "go", "ne", "ri",  "su",
                                                "ba", "el", "ix", "um", "zo", "fa"};
    std::mt19937 rng(seed);
    std::vector<std::string> words;
    for (int i = 0; i < 600; ++i) {
        std::string w;
        for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k)
            w += syllables[rng() % syllables.size()];
        words.push_back(w);
    }
    std::vector<std::string> out;
    for (int d = 0; d < docs; ++d) {
        std::string doc;
        for (int s = 0; s < 20; ++s) {
            for (int w = 0; w < 12; ++w) {
                const auto r = rng() % words.size();
                doc += (w ? " " : "") + words[r * r / words.size()];  // low indices more frequent
            }
            doc += s % 5 == 4 ? ".\n" : ". ";
        }
        out.push_back(doc);
    }
    return out;
}

#if defined(__SANITIZE_ADDRESS__)
#define SKIP_WITHOUT_SENTENCEPIECE() \
    GTEST_SKIP() << "SentencePiece needs RTLD_DEEPBIND, unsupported by ASan"
#else
#define SKIP_WITHOUT_SENTENCEPIECE() (void)0
#endif

TEST(Base64, RoundTripAndErrors) {
    for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba",
                                                         "foobar", std::string("\0\xff\x80", 3)})
        EXPECT_EQ(base64_decode(base64_encode(s)), s);
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_THROW(base64_decode("abc"), Error);
    EXPECT_THROW(base64_decode("ab!d"), Error);
    EXPECT_THROW(base64_decode("a=bc"), Error);
}

TEST(Tokenizer, ByteGolden) {
    auto t = make_byte_tokenizer();
    EXPECT_EQ(t->encode("Hi \xC3\xA9"), (std::vector<std::int32_t>{72, 105, 32, 195, 169}));
    EXPECT_EQ(t->decode({72, 105, 257, 258, 256, 33}), "Hi!");
    EXPECT_EQ(t->vocab_size(), 259);
    auto back = Tokenizer::deserialize(t->serialize());
    EXPECT_EQ(back->kind(), TokenizerKind::Byte);
    EXPECT_EQ(back->fingerprint(), t->fingerprint());
}

TEST(Tokenizer, WordGoldenLikeTheOriginalProject) {
    auto t = train_word_tokenizer({"The cat sat. the cat", "A cat ran"}, 7);
    // Counts: cat 3, the 2, then a / ran / sat. (1 each) by alphabet: "a".
    EXPECT_EQ(t->vocab_size(), 7);
    EXPECT_EQ(t->encode("THE cat  a dog"), (std::vector<std::int32_t>{5, 4, 6, 1}));
    EXPECT_EQ(t->decode({2, 5, 4, 1, 3}), "the cat <unk>");
    EXPECT_EQ(t->pad_id(), 0);
    EXPECT_EQ(t->bos_id(), 2);
    EXPECT_EQ(t->eos_id(), 3);
    auto back = Tokenizer::deserialize(t->serialize());
    EXPECT_EQ(back->encode("the cat a"), t->encode("the cat a"));
    EXPECT_THROW(train_word_tokenizer({"x"}, 4), Error);
}

TEST(Tokenizer, SentencePieceRoundTripsExactly) {
    SKIP_WITHOUT_SENTENCEPIECE();
    auto corpus = synthetic_corpus(200, 1);
    const std::string sample = corpus[0].substr(0, 200);
    for (auto kind : {TokenizerKind::Bpe, TokenizerKind::Unigram}) {
        auto t = train_sentencepiece(kind, corpus, 400, 2);
        EXPECT_EQ(t->vocab_size(), 400) << tokenizer_kind_name(kind);
        EXPECT_EQ(t->pad_id(), 0);
        EXPECT_EQ(t->bos_id(), 2);
        EXPECT_EQ(t->eos_id(), 3);
        for (const std::string& text : std::vector<std::string>{
                 "the whale sailed across the sea", "  two  spaces\nand a newline\n",
                 "unseen: Queequeg \xE2\x80\x94 caf\xC3\xA9 \xF0\x9F\x90\x8B", ""}) {
            auto ids = t->encode(text);
            for (auto id : ids) EXPECT_NE(id, 1) << "no UNK with byte fallback";
            EXPECT_EQ(t->decode(ids), text) << tokenizer_kind_name(kind);
        }
        EXPECT_EQ(t->decode(t->encode(sample)), sample);
        EXPECT_LT(t->encode(sample).size(), sample.size() / 2)
            << "pieces longer than 2 bytes were learned";
        auto back = Tokenizer::deserialize(t->serialize());
        EXPECT_EQ(back->kind(), kind);
        EXPECT_EQ(back->encode(sample), t->encode(sample));
        EXPECT_EQ(back->fingerprint(), t->fingerprint());
    }
}

TEST(Tokenizer, SentencePieceBadRequests) {
    SKIP_WITHOUT_SENTENCEPIECE();
    EXPECT_THROW(train_sentencepiece(TokenizerKind::Bpe, synthetic_corpus(2, 2), 100), Error);
    EXPECT_THROW(train_sentencepiece(TokenizerKind::Bpe, {}, 400), Error);
    try {
        train_sentencepiece(TokenizerKind::Unigram, {"tiny text only"}, 5000);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("vocab"), std::string::npos) << e.what();
    }
    // Too little text for the vocabulary: our words and SentencePiece's figure, not its source.
    std::string message;
    try {
        train_sentencepiece(TokenizerKind::Bpe, {"Call me Ishmael. Some years ago."}, 4096, 1);
    } catch (const Error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("too small for a 4096-token vocabulary"), std::string::npos) << message;
    EXPECT_NE(message.find("at most "), std::string::npos) << message;
    EXPECT_EQ(message.find(".cc"), std::string::npos) << message;
    EXPECT_THROW(Tokenizer::deserialize(R"({"type": "bpe", "model": "AAAA"})"), Error);
}

TEST(Tokenizer, BadRequestsAreClearErrors) {
    EXPECT_THROW(parse_tokenizer_kind("wordpiece"), Error);
    EXPECT_THROW(train_word_tokenizer({}, 100), Error);
    EXPECT_THROW(Tokenizer::deserialize("{"), Error);
    EXPECT_THROW(Tokenizer::deserialize(R"({"type": "bpe", "model": "!!!!"})"), Error);
    EXPECT_THROW(Tokenizer::deserialize(R"({"type": "none", "vocab_size": 10})"), Error);
}

}  // namespace
}  // namespace itera
