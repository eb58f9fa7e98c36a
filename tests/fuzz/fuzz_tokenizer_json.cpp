// Fuzz target: the tokenizer JSON a model file carries (`tokenizer` metadata):
// Tokenizer::deserialize and stored_tokenizer, for every kind (byte, word, and
// SentencePiece bpe/unigram, whose base64 model proto goes to SentencePiece).
//
// Contract checked: each call returns or throws itera::Error; anything else
// escapes to libFuzzer (reported as a crash), as do ASan/UBSan reports and
// leaks. A tokenizer that loads must encode fixed strings and the input bytes
// to ids inside its vocabulary, decode any ids (also out-of-range ones) without
// crashing, and survive serialize() -> deserialize() unchanged. Encoding or
// decoding may refuse with itera::Error (SentencePiece reports a failed status
// that way) but must not crash.
//
// SentencePiece: tests/fuzz/support/spm_linked.cpp links the shim directly
// (no dlopen), so SentencePiece models are fuzzed too.
//
// stored_tokenizer: its path branch (a value not starting with '{' names a
// file beside the model) reads files. The harness passes a model path inside a
// per-process sandbox directory holding one valid tokenizer file
// ("tokenizer.json"), and only values without '/' or NUL take that branch, so
// the fuzzer cannot make it read /dev/zero or the rest of the disk.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_files.h"
#include "tokenizer/stored_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace {

std::filesystem::path g_sandbox;

const char* const kFixedTexts[] = {
    "",
    "Call me Ishmael.",
    "  Some years ago - never mind how long precisely -\n\thaving little money  ",
    "ünïcödé — 日本語 🐋",
    "\xff\xfe\xc0\x80 invalid \xed\xa0\x80",  // not UTF-8: bad bytes, overlong, surrogate
    "<unk> <s> </s> <pad> \xe2\x96\x81",      // SentencePiece's special pieces and ▁
};

// Ids to decode: every id the tokenizer produced, its specials and the edges.
std::vector<std::int32_t> edge_ids(const itera::Tokenizer& tok) {
    const std::int32_t v = tok.vocab_size();
    std::vector<std::int32_t> ids = {0, 1, 2, 3, 255, 256, 257, 258, -1, INT32_MIN, INT32_MAX};
    for (auto id : {v - 1, v, v + 1, tok.pad_id(), tok.bos_id(), tok.eos_id()}) ids.push_back(id);
    return ids;
}

void exercise(const itera::Tokenizer& tok, std::string_view input) {
    const std::int32_t vocab = tok.vocab_size();
    FUZZ_CHECK(vocab >= 0, "vocab_size %d", vocab);
    auto check_ids = [&](const std::vector<std::int32_t>& ids, std::string_view text) {
        for (auto id : ids)
            FUZZ_CHECK(id >= 0 && id < vocab, "encode gave id %d outside 0..%d for %zu bytes", id,
                       vocab - 1, text.size());
    };
    auto round = [&](std::string_view text) {
        try {
            const auto ids = tok.encode(text);
            check_ids(ids, text);
            const auto back = tok.decode(ids);
            if (tok.kind() == itera::TokenizerKind::Byte)
                FUZZ_CHECK(back == text, "the byte tokenizer does not round-trip");
        } catch (const itera::Error&) {
            // SentencePiece may refuse a text or a damaged model's ids.
        }
    };
    for (const char* t : kFixedTexts) round(t);
    round(std::string_view("nul \0 inside", 12));
    round(input);

    // Arbitrary ids from the input bytes, then the edge ids.
    std::vector<std::int32_t> ids;
    for (std::size_t i = 0; i + 4 <= input.size() && ids.size() < 256; i += 4) {
        std::uint32_t u = 0;
        for (int b = 0; b < 4; ++b)
            u |= static_cast<std::uint32_t>(static_cast<unsigned char>(input[i + b])) << (8 * b);
        ids.push_back(static_cast<std::int32_t>(u));
    }
    try {
        (void)tok.decode(ids);
        (void)tok.decode(edge_ids(tok));
    } catch (const itera::Error&) {
    }

    // The serialised form must load again as the same tokenizer.
    const std::string json = tok.serialize();
    std::shared_ptr<const itera::Tokenizer> again;
    try {
        again = itera::Tokenizer::deserialize(json);
    } catch (const itera::Error& e) {
        FUZZ_CHECK(false, "serialize() output is refused: %s", e.what());
    }
    FUZZ_CHECK(again != nullptr, "deserialize(serialize()) returned null");
    FUZZ_CHECK(again->serialize() == json, "serialize() is not stable across a round trip");
    FUZZ_CHECK(again->kind() == tok.kind() && again->vocab_size() == vocab &&
                   again->pad_id() == tok.pad_id() && again->bos_id() == tok.bos_id() &&
                   again->eos_id() == tok.eos_id(),
               "the reloaded tokenizer has other ids");
    FUZZ_CHECK(again->fingerprint() == tok.fingerprint(), "fingerprint changed");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    g_sandbox = fuzz::scratch_dir("tokenizer");
    const std::string word = R"({"type":"word","vocab_size":7,"words":["call","me","ishmael."]})";
    fuzz::write_file(g_sandbox / "tokenizer.json",
                     reinterpret_cast<const std::uint8_t*>(word.data()), word.size());
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);

    std::shared_ptr<const itera::Tokenizer> tok;
    try {
        tok = itera::Tokenizer::deserialize(text);
        FUZZ_CHECK(tok != nullptr, "deserialize returned null");
    } catch (const itera::Error&) {
        // The documented failure.
    }
    if (tok) exercise(*tok, text);

    // stored_tokenizer: inline JSON, {"type":"none"} (null), or a file beside the model.
    const auto first = text.find_first_not_of(" \t\r\n");
    const bool inline_json = first != std::string::npos && text[first] == '{';
    if (inline_json || text.find_first_of(std::string("/\0", 2)) == std::string::npos) {
        std::shared_ptr<const itera::Tokenizer> stored;
        try {
            stored = itera::stored_tokenizer(text, g_sandbox / "model.safetensors");
        } catch (const itera::Error&) {
        }
        if (stored && !inline_json) exercise(*stored, text);  // inline: exercised above
    }
    return 0;
}
