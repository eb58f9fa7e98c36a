// Evaluation data and progress: a corpus tokenised with a checkpoint's own
// tokenizer, reused on the second call, empty splits named, and evaluation's
// progress callback and cancellation.

#include <gtest/gtest.h>

#include <fstream>

#include "eval/eval_data.h"
#include "eval/evaluate.h"
#include "temp_dir.h"
#include "util/error.h"

namespace itera {
namespace {

void write(const std::filesystem::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

TEST(EvalData, TokenisesTheSplitWithTheGivenTokenizerAndReusesIt) {
    testing::TempDir dir;
    write(dir.path() / "wiki.train.raw", " = One = \n first @-@ article .\n = Two = \n second .\n");
    write(dir.path() / "wiki.valid.raw", " = Three = \n held out .\n = Four = \n naïve .\n");
    auto tok = make_byte_tokenizer();
    CacheBuildOptions o;
    const auto cache = dir.path() / "cache";
    auto first = prepare_eval_data(Workspace::at(dir.path()), dir.path().string(),
                                   CorpusFormat::Auto, *tok, Split::Validation, o, cache);
    EXPECT_EQ(first.documents, 2u);
    EXPECT_FALSE(first.cache.reused);
    // Byte tokens: one per UTF-8 byte, plus an EOS after each document.
    EXPECT_EQ(first.stream->size(), first.bytes + first.documents);
    auto again = prepare_eval_data(Workspace::at(dir.path()), dir.path().string(),
                                   CorpusFormat::Auto, *tok, Split::Validation, o, cache);
    EXPECT_TRUE(again.cache.reused);
    EXPECT_EQ(again.stream->size(), first.stream->size());
}

TEST(EvalData, AnEmptySplitIsNamed) {
    testing::TempDir dir;
    write(dir.path() / "one.txt", "a single short document.");
    auto tok = make_byte_tokenizer();
    CacheBuildOptions o;
    o.split.validation_fraction = 0;
    try {
        prepare_eval_data(Workspace::at(dir.path()), (dir.path() / "one.txt").string(),
                          CorpusFormat::Text, *tok, Split::Validation, o, dir.path() / "cache");
        FAIL() << "an empty validation split was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("validation split is empty"), std::string::npos)
            << e.what();
    }
}

TEST(Evaluate, ReportsProgressAndCanBeCancelled) {
    testing::TempDir dir;
    std::string text;
    for (int i = 0; i < 60; ++i)
        text += "some words of a document number " + std::to_string(i) + ".\n\n";
    write(dir.path() / "wiki.train.raw", " = A = \n" + text);
    write(dir.path() / "wiki.valid.raw", " = B = \n" + text);
    auto tok = make_byte_tokenizer();
    auto data =
        prepare_eval_data(Workspace::at(dir.path()), dir.path().string(), CorpusFormat::Auto, *tok,
                          Split::Validation, CacheBuildOptions{}, dir.path() / "cache");
    IteraModel model(ModelConfig::preset("micro", 259));
    model->initialize(1);
    EvalOptions eo;
    eo.batch_size = 2;
    eo.seq_len = 64;
    std::vector<std::int64_t> seen;
    eo.progress = [&](std::int64_t done, std::int64_t total) {
        seen.push_back(done);
        EXPECT_EQ(total, static_cast<std::int64_t>(data.stream->size()));
    };
    auto r = evaluate(model, *data.stream, *tok, data.bytes, eo);
    ASSERT_GT(seen.size(), 2u);
    EXPECT_EQ(seen.back(), r.tokens);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    EXPECT_NEAR(r.perplexity, std::exp(r.loss), 1e-9 * r.perplexity);
    std::atomic<bool> cancel{true};
    eo.cancel = &cancel;
    EXPECT_THROW(evaluate(model, *data.stream, *tok, data.bytes, eo), Error);
}

}  // namespace
}  // namespace itera
