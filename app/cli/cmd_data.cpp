// `itera data inspect`.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "args.h"
#include "commands.h"
#include "data/builtin.h"
#include "data/dataset.h"
#include "data/documents.h"
#include "data/token_cache.h"
#include "progress.h"
#include "tokenizer/tokenizer.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/threads.h"

namespace itera::cli {
namespace {

constexpr const char* kDataUsage = R"(usage:
  itera data inspect --data PATH|moby-dick|sotu [--format auto|text|tinystories-txt|tinystories-json|wikitext]
                     [--validation-fraction 0.05] [--seed S] [--replace-invalid-utf8]
  itera data prepare --data PATH|moby-dick|sotu [--tokenizer bpe|unigram|byte|word] [--vocab-size 4096]
                     --out DIR [--format F] [--validation-fraction 0.05] [--seed S] [--threads N]
  itera data corpora

Reads a corpus the way training will and prints its format, files, and the
documents and bytes of each split. A folder of .txt files is one document per
file; a single .txt file is split at blank lines into blocks of at least 8 KB.
Corpora with their own validation file (WikiText, TinyStories) use it; others
are split by document, deterministically from the seed.

`prepare` trains the tokenizer on the training split (BPE by default; byte needs
no training), writes DIR/tokenizer.json, and tokenises both splits into a token
cache in DIR (reused when neither the corpus nor the tokenizer changed).

Examples:
  itera data inspect --data moby-dick
  itera data prepare --data moby-dick --tokenizer bpe --vocab-size 4096 --out runs/moby-bpe
  itera data inspect --data ~/datasets/wikitext-103-raw --format wikitext
)";

// --validation-fraction and --seed, shared by inspect and prepare.
SplitSettings split_settings(Args& a) {
    SplitSettings split;
    split.validation_fraction =
        a.real("validation-fraction", 0, 1).value_or(split.validation_fraction);
    split.seed = static_cast<std::uint64_t>(a.integer_or("seed", 0, 0, INT64_MAX));
    return split;
}

int inspect(Args& a) {
    const auto spec = a.required("data");
    const auto format = parse_corpus_format(a.text_or("format", "auto"));
    const auto split = split_settings(a);
    ReadOptions options;
    options.replace_invalid_utf8 = a.flag("replace-invalid-utf8");
    a.finish();

    const auto t0 = std::chrono::steady_clock::now();
    auto source = open_corpus(resolve_corpus(Workspace::standard(), spec), format);
    auto counts = count_documents(source, options, split);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("corpus      %s\n", source.name.c_str());
    std::printf("format      %s%s\n", corpus_format_name(source.format).c_str(),
                source.document_per_file ? " (one document per file)" : "");
    std::printf("files       %zu training, %zu validation, %s bytes\n", source.train_files.size(),
                source.validation_files.size(),
                with_commas(static_cast<long long>(source.bytes)).c_str());
    std::printf("split       %s\n",
                source.validation_files.empty()
                    ? ("by document, fraction " + std::to_string(split.validation_fraction) +
                       ", seed " + std::to_string(split.seed))
                          .c_str()
                    : "the dataset's own validation files");
    std::printf("train       %s documents, %s bytes\n", with_commas(counts.train.documents).c_str(),
                with_commas(counts.train.bytes).c_str());
    std::printf("validation  %s documents, %s bytes\n",
                with_commas(counts.validation.documents).c_str(),
                with_commas(counts.validation.bytes).c_str());
    std::printf("read in     %.2f s\n", seconds);
    return 0;
}

int prepare(Args& a) {
    const auto spec = a.required("data");
    const auto format = parse_corpus_format(a.text_or("format", "auto"));
    const auto kind = parse_tokenizer_kind(a.text_or("tokenizer", "bpe"));
    const auto vocab = static_cast<std::int32_t>(a.integer_or("vocab-size", 4096, 5, 1 << 20));
    const std::filesystem::path out = a.required("out");
    CacheBuildOptions o;
    o.split = split_settings(a);
    o.threads = set_thread_count(static_cast<int>(a.integer_or("threads", 0, 0, 4096)));
    o.read.replace_invalid_utf8 = a.flag("replace-invalid-utf8");
    a.finish();

    const auto t0 = std::chrono::steady_clock::now();
    o.progress = byte_progress("tokenising");
    auto d = prepare_dataset(Workspace::standard(), {spec, format, kind, vocab}, out, o);
    clear_progress();
    const double total_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto& src = d.source;
    const auto& tok = d.tokenizer;
    const auto& info = d.cache;
    auto line = [](const char* name, const SplitTokens& s) {
        std::printf("%-11s %s documents, %s bytes, %s tokens, %.2f bytes/token\n", name,
                    with_commas(s.documents).c_str(), with_commas(s.bytes).c_str(),
                    with_commas(s.tokens).c_str(), s.tokens ? double(s.bytes) / s.tokens : 0.0);
    };
    std::printf("corpus      %s (%s)\n", src.name.c_str(), corpus_format_name(src.format).c_str());
    std::printf("tokenizer   %s, vocab %d, fingerprint %s (%.2f s)\n",
                tokenizer_kind_name(tok->kind()).c_str(), tok->vocab_size(),
                tok->fingerprint().c_str(), d.tokenizer_seconds);
    line("train", info.train);
    line("validation", info.validation);
    std::printf("cache       %s (%d bytes/token, %s)\n", out.string().c_str(), info.bytes_per_token,
                info.reused ? "reused" : "built");
    std::printf("time        %.2f s\n", total_s);
    return 0;
}

int list_corpora() {
    for (const auto& c : builtin_corpora()) {
        std::string where;
        try {
            where = builtin_corpus_path(Workspace::standard(), c.name).string();
        } catch (const Error&) {
            where = "not installed (scripts/fetch-corpora.sh)";
        }
        std::printf("%-10s %s\n           %s\n", c.name.c_str(), c.description.c_str(),
                    where.c_str());
    }
    return 0;
}

}  // namespace

int data_command(const std::vector<std::string>& args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::cout << kDataUsage;
        return args.empty() ? 2 : 0;
    }
    std::vector<std::string> rest(args.begin() + 1, args.end());
    Args a(rest, {"help", "replace-invalid-utf8"});
    if (a.flag("help")) {
        std::cout << kDataUsage;
        return 0;
    }
    if (args[0] == "inspect") return inspect(a);
    if (args[0] == "prepare") return prepare(a);
    if (args[0] == "corpora") {
        a.finish();
        return list_corpora();
    }
    throw Error("unknown data subcommand \"" + args[0] +
                "\" (expected inspect, prepare or corpora)");
}

}  // namespace itera::cli
