// The token cache: contents equal direct encoding, reuse when nothing
// changed, rebuild when the source or tokenizer changed or files are damaged.

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "data/dataset.h"
#include "data/token_cache.h"
#include "temp_dir.h"
#include "util/error.h"

namespace itera {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

struct Corpus {
    testing::TempDir dir;
    Corpus() {
        write(dir.path() / "wiki.train.raw",
              " = One = \n first @-@ article .\n = Two = \n second article .\n");
        write(dir.path() / "wiki.valid.raw", " = Three = \n held out .\n");
    }
};

std::vector<std::uint32_t> stream_ids(const fs::path& dir, Split s) {
    auto t = TokenStream::open(dir, s);
    std::vector<std::uint32_t> out;
    for (std::uint64_t i = 0; i < t->size(); ++i) out.push_back((*t)[i]);
    return out;
}

std::vector<std::uint32_t> expected_ids(const std::vector<std::string>& docs,
                                        const Tokenizer& tok) {
    std::vector<std::uint32_t> out;
    for (const auto& d : docs) {
        for (auto id : tok.encode(d)) out.push_back(static_cast<std::uint32_t>(id));
        out.push_back(static_cast<std::uint32_t>(tok.eos_id()));
    }
    return out;
}

TEST(TokenCache, ContentsEqualDirectEncodingAndAreReused) {
    Corpus c;
    testing::TempDir out;
    auto src = open_corpus(c.dir.path());
    auto tok = make_byte_tokenizer();
    CacheBuildOptions o;
    o.chunk_bytes = 8;  // many small parallel batches
    std::uint64_t last_progress = 0;
    o.progress = [&](std::uint64_t done, std::uint64_t) { last_progress = done; };
    auto info = prepare_token_cache(src, *tok, out.path(), o);
    EXPECT_FALSE(info.reused);
    EXPECT_EQ(info.bytes_per_token, 2);
    EXPECT_EQ(info.train.documents, 2u);
    EXPECT_EQ(info.validation.documents, 1u);
    EXPECT_EQ(last_progress, info.train.bytes + info.validation.bytes);
    EXPECT_EQ(stream_ids(out.path(), Split::Train),
              expected_ids({"= One =\nfirst-article .", "= Two =\nsecond article ."}, *tok));
    EXPECT_EQ(stream_ids(out.path(), Split::Validation),
              expected_ids({"= Three =\nheld out ."}, *tok));
    EXPECT_EQ(fs::file_size(out.path() / "train.bin"), info.train.tokens * 2);

    auto again = prepare_token_cache(src, *tok, out.path(), o);
    EXPECT_TRUE(again.reused);
    EXPECT_EQ(again.train.tokens, info.train.tokens);

    std::vector<std::int64_t> batch(5);
    TokenStream::open(out.path(), Split::Train)->copy(2, 5, batch.data());
    EXPECT_EQ(batch[0], 'O');
}

TEST(TokenCache, RebuildsWhenSourceTokenizerOrFilesChange) {
    Corpus c;
    testing::TempDir out;
    auto byte = make_byte_tokenizer();
    auto prepare = [&](const Tokenizer& t) {
        return prepare_token_cache(open_corpus(c.dir.path()), t, out.path(), {});
    };
    prepare(*byte);
    EXPECT_TRUE(prepare(*byte).reused);

    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    write(c.dir.path() / "wiki.train.raw", " = One = \n changed text .\n");
    auto changed = prepare(*byte);
    EXPECT_FALSE(changed.reused);
    EXPECT_EQ(changed.train.documents, 1u);

    auto word = train_word_tokenizer({"changed text held out"}, 10);
    EXPECT_FALSE(prepare(*word).reused);
    EXPECT_TRUE(prepare(*word).reused);

    // A truncated stream is refused when opened, and rebuilt by prepare.
    fs::resize_file(out.path() / "train.bin", 1);
    EXPECT_THROW(TokenStream::open(out.path(), Split::Train), Error);
    EXPECT_FALSE(prepare(*word).reused);
    write(out.path() / "manifest.json", "{ damaged");
    EXPECT_THROW(TokenStream::open(out.path(), Split::Validation), Error);
    EXPECT_FALSE(prepare(*word).reused);
    EXPECT_TRUE(prepare(*word).reused);
}

TEST(TokenCache, CancelLeavesNoCache) {
    Corpus c;
    testing::TempDir out;
    std::atomic<bool> cancel{true};
    CacheBuildOptions o;
    o.cancel = &cancel;
    EXPECT_THROW(
        prepare_token_cache(open_corpus(c.dir.path()), *make_byte_tokenizer(), out.path(), o),
        Error);
    EXPECT_FALSE(fs::exists(out.path() / "manifest.json"));
    EXPECT_FALSE(fs::exists(out.path() / "train.bin.tmp"));
}

TEST(TokenCache, TwoFirstPreparationsOfOneDatasetBothSucceed) {
    // Two programs (here threads) preparing the same new dataset at once take
    // turns: one trains the tokenizer and builds the cache, the other waits
    // and reuses them. Neither dies on the other's temporary files.
    Corpus c;
    std::string text;
    for (int i = 0; i < 400; ++i) text += "article number " + std::to_string(i) + " of many .\n";
    write(c.dir.path() / "wiki.train.raw", " = One = \n" + text);
    const auto dir = c.dir.path() / "dataset";
    const DatasetRequest request{c.dir.path().string(), CorpusFormat::Auto, TokenizerKind::Bpe,
                                 300};
    std::vector<std::string> fingerprints(2), errors(2);
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t)
        threads.emplace_back([&, t] {
            try {
                fingerprints[t] = prepare_dataset(Workspace::at(c.dir.path()), request, dir, {})
                                      .tokenizer->fingerprint();
            } catch (const std::exception& e) {
                errors[t] = e.what();
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(errors[0], "");
    EXPECT_EQ(errors[1], "");
    EXPECT_EQ(fingerprints[0], fingerprints[1]);
    EXPECT_GT(TokenStream::open(dir, Split::Train)->size(), 0u);
}

}  // namespace
}  // namespace itera
