// Corpus readers, UTF-8 checks, format detection, splits and built-in corpora,
// on small files written into a fresh temporary directory.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "data/builtin.h"
#include "data/corpus.h"
#include "data/documents.h"
#include "data/utf8.h"
#include "error_of.h"
#include "temp_dir.h"
#include "util/error.h"

namespace itera {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}

std::vector<std::string> docs_of(const fs::path& p, CorpusFormat f = CorpusFormat::Auto,
                                 ReadOptions o = {}) {
    std::vector<std::string> out;
    read_documents(p, f, o, [&](std::string&& d) { out.push_back(d); });
    return out;
}

using testing::error_of;

TEST(Utf8, FindsTheFirstInvalidByte) {
    EXPECT_FALSE(first_invalid_utf8("plain ascii"));
    EXPECT_FALSE(first_invalid_utf8("caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x90\x8B"));  // é — 🐋
    EXPECT_EQ(first_invalid_utf8("ab\xC0\x80"), 2u);                                // overlong NUL
    EXPECT_EQ(first_invalid_utf8("abc\xED\xA0\x80"), 3u);                           // surrogate
    EXPECT_EQ(first_invalid_utf8("\xF5\x80\x80\x80"), 0u);  // above U+10FFFF
    EXPECT_EQ(first_invalid_utf8("ok\xE2\x80"), 2u);        // truncated
    EXPECT_EQ(first_invalid_utf8("x\x80y"), 1u);            // lone continuation
    EXPECT_EQ(replace_invalid_utf8("a\xFFz"), "a\xEF\xBF\xBDz");
    EXPECT_TRUE(looks_binary(std::string("PK\x03\x04\0\0", 6)));
    EXPECT_FALSE(looks_binary("Call me Ishmael.\n\tSome years ago"));
}

TEST(Corpus, WikiTextDocumentsAndRestoration) {
    EXPECT_EQ(restore_wikitext("the 1 @,@ 000 @-@ ton ship , 3 @.@ 5 m"),
              "the 1,000-ton ship , 3.5 m");
    testing::TempDir dir;
    write(dir.path() / "wiki.train.raw",
          " \n = Valkyria = \n \n Senjo no @-@ Valkyria 3 .\n \n = = Gameplay = = \n Battles .\n "
          "\n = Tower Building = \n"
          " Built in 1 @,@ 800 .\n");
    write(dir.path() / "wiki.valid.raw", " = Robert = \n A man .\n");
    auto src = open_corpus(dir.path());
    EXPECT_EQ(src.format, CorpusFormat::WikiText);
    ASSERT_EQ(src.validation_files.size(), 1u);
    auto docs = docs_of(dir.path() / "wiki.train.raw");
    ASSERT_EQ(docs.size(), 2u);
    EXPECT_EQ(docs[0], "= Valkyria =\n\nSenjo no-Valkyria 3 .\n\n= = Gameplay = =\nBattles .");
    EXPECT_EQ(docs[1], "= Tower Building =\nBuilt in 1,800 .");
    auto counts = count_documents(src, {}, {});
    EXPECT_EQ(counts.train.documents, 2u);
    EXPECT_EQ(counts.validation.documents, 1u);  // the dataset's own validation file
}

TEST(Corpus, TinyStoriesTextAndJson) {
    testing::TempDir dir;
    write(dir.path() / "TinyStories-train.txt",
          "Once upon a time.\nThe end.\n<|endoftext|>\nTom ran.\r\n<|endoftext|>\n\n");
    write(dir.path() / "TinyStories-valid.txt", "Lily sang.\n<|endoftext|>\n");
    EXPECT_EQ(detect_file_format(dir.path() / "TinyStories-train.txt"),
              CorpusFormat::TinyStoriesText);
    EXPECT_EQ(docs_of(dir.path() / "TinyStories-train.txt"),
              (std::vector<std::string>{"Once upon a time.\nThe end.", "Tom ran."}));
    auto src = open_corpus(dir.path());
    EXPECT_EQ(src.format, CorpusFormat::TinyStoriesText);
    EXPECT_EQ(src.train_files.size(), 1u);
    EXPECT_EQ(src.validation_files.size(), 1u);

    testing::TempDir jdir;
    write(
        jdir.path() / "data00.json",
        R"([{"story": "A cat \u00e9 sat.", "summary": "x", "words": ["a", 1]}, {"instruction": {"k": 1}, "story": "B"}])");
    EXPECT_EQ(docs_of(jdir.path() / "data00.json"),
              (std::vector<std::string>{"A cat \xC3\xA9 sat.", "B"}));
    EXPECT_EQ(open_corpus(jdir.path()).format, CorpusFormat::TinyStoriesJson);
    write(jdir.path() / "bad.json", R"([{"story": "ok"}, {"text": "no story"}])");
    EXPECT_NE(
        error_of([&] { docs_of(jdir.path() / "bad.json"); }).find("object #1 has no \"story\""),
        std::string::npos);
    write(jdir.path() / "bad2.json", R"([{"story": 5}])");
    EXPECT_NE(error_of([&] { docs_of(jdir.path() / "bad2.json"); }).find("not a string"),
              std::string::npos);
    write(jdir.path() / "bad3.json", R"([{"story": "cut)");
    EXPECT_NE(error_of([&] { docs_of(jdir.path() / "bad3.json"); }).find("malformed JSON"),
              std::string::npos);
}

TEST(Corpus, PlainTextFileAndFolder) {
    testing::TempDir dir;
    std::string para(3000, 'a');
    write(dir.path() / "book.txt", para + "\n\n" + para + "\n\n" + para + "\n\n" + para + "\n");
    auto docs = docs_of(dir.path() / "book.txt");
    ASSERT_EQ(docs.size(), 2u);  // blocks merged to >= 8 KB: 3 paragraphs, then the rest
    EXPECT_EQ(docs[1], para);

    testing::TempDir folder;
    write(folder.path() / "chapter_1.txt", "CHAPTER 1.\n\nCall me Ishmael.\n");
    write(folder.path() / "chapter_2.txt", "CHAPTER 2.\n\nThe Carpet-Bag.\n");
    write(folder.path() / "notes.md", "ignored");
    auto src = open_corpus(folder.path());
    EXPECT_TRUE(src.document_per_file);
    auto counts = count_documents(src, {}, {0.5, 1});
    EXPECT_EQ(counts.train.documents + counts.validation.documents, 2u);
}

TEST(Corpus, BadInputIsNamed) {
    testing::TempDir dir;
    EXPECT_NE(error_of([&] { open_corpus(dir.path() / "missing.txt"); }).find("no such file"),
              std::string::npos);
    EXPECT_NE(error_of([&] { open_corpus(dir.path()); }).find("no .txt or .json"),
              std::string::npos);
    write(dir.path() / "empty.txt", "");
    EXPECT_NE(error_of([&] { open_corpus(dir.path() / "empty.txt"); }).find("empty"),
              std::string::npos);
    write(dir.path() / "blob.txt", std::string("\x7f"
                                               "ELF\0\0\x01\x02",
                                               8));
    EXPECT_NE(error_of([&] { open_corpus(dir.path() / "blob.txt"); }).find("binary"),
              std::string::npos);
    write(dir.path() / "latin1.txt", "line one\ncaf\xE9 au lait\n");
    auto msg = error_of([&] { docs_of(dir.path() / "latin1.txt"); });
    EXPECT_NE(msg.find("invalid UTF-8 at byte offset 12"), std::string::npos) << msg;
    ReadOptions repair;
    repair.replace_invalid_utf8 = true;
    EXPECT_EQ(docs_of(dir.path() / "latin1.txt", CorpusFormat::Auto, repair)[0],
              "line one\ncaf\xEF\xBF\xBD au lait");
    EXPECT_THROW(parse_corpus_format("csv"), Error);
    EXPECT_EQ(parse_corpus_format("wikitext"), CorpusFormat::WikiText);
    // One document cannot fill both splits.
    write(dir.path() / "one.txt", "just one short document\n");
    EXPECT_NE(error_of([&] {
                  count_documents(open_corpus(dir.path() / "one.txt"), {}, {});
              }).find("validation split"),
              std::string::npos);
}

TEST(Split, DeterministicAndProportional) {
    int validation = 0;
    for (std::uint64_t i = 0; i < 20000; ++i) {
        auto s = split_of(42, i, 0.1);
        EXPECT_EQ(s, split_of(42, i, 0.1));
        validation += s == Split::Validation;
    }
    EXPECT_NEAR(validation / 20000.0, 0.1, 0.01);
    int differ = 0;
    for (std::uint64_t i = 0; i < 1000; ++i) differ += split_of(1, i, 0.5) != split_of(2, i, 0.5);
    EXPECT_GT(differ, 300);  // another seed, another split
}

TEST(Builtin, MissingCorpusSaysHowToGetIt) {
    testing::TempDir dir;
    ::setenv("ITERA_DATA_DIR", dir.path().c_str(), 1);
    EXPECT_EQ(standard_data_dir(), dir.path());
    EXPECT_EQ(Workspace::standard().db_path, dir.path() / "runs.sqlite");
    ::unsetenv("ITERA_DATA_DIR");
    const auto ws = Workspace::at(dir.path());
    auto msg = error_of([&] { builtin_corpus_path(ws, "moby-dick"); });
    EXPECT_NE(msg.find("fetch-corpora.sh"), std::string::npos) << msg;
    EXPECT_NE(msg.find("npm"), std::string::npos);
    EXPECT_NE(error_of([&] { builtin_corpus_path(ws, "tinystories"); }).find("not a built-in"),
              std::string::npos);
    fs::create_directories(dir.path() / "corpora/sotu");
    write(dir.path() / "corpora/sotu/1790_george_washington_n.txt", "Fellow-Citizens.\n");
    EXPECT_EQ(resolve_corpus(ws, "sotu"), dir.path() / "corpora/sotu");
    EXPECT_EQ(resolve_corpus(ws, "/some/file.txt"), fs::path("/some/file.txt"));
}

}  // namespace
}  // namespace itera
