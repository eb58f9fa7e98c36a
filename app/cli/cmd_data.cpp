// `itera data inspect`.

#include <chrono>
#include <cstdio>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "data/builtin.h"
#include "data/documents.h"
#include "util/error.h"

namespace itera::cli {
namespace {

constexpr const char* kDataUsage = R"(usage:
  itera data inspect --data PATH|moby-dick|sotu [--format auto|text|tinystories-txt|tinystories-json|wikitext]
                     [--validation-fraction 0.05] [--seed S] [--replace-invalid-utf8]
  itera data corpora

Reads a corpus the way training will and prints its format, files, and the
documents and bytes of each split. A folder of .txt files is one document per
file; a single .txt file is split at blank lines into blocks of at least 8 KB.
Corpora with their own validation file (WikiText, TinyStories) use it; others
are split by document, deterministically from the seed.

Examples:
  itera data inspect --data moby-dick
  itera data inspect --data ~/datasets/wikitext-103-raw --format wikitext
)";

int inspect(Args& a) {
    const auto spec = a.required("data");
    const auto format = parse_corpus_format(a.text_or("format", "auto"));
    SplitSettings split;
    if (auto f = a.text("validation-fraction")) {
        try {
            split.validation_fraction = std::stod(*f);
        } catch (...) {
            throw Error("--validation-fraction expects a number, got \"" + *f + "\"");
        }
    }
    split.seed = static_cast<std::uint64_t>(a.integer_or("seed", 0, 0, INT64_MAX));
    ReadOptions options;
    options.replace_invalid_utf8 = a.flag("replace-invalid-utf8");
    a.finish();

    const auto t0 = std::chrono::steady_clock::now();
    auto source = open_corpus(resolve_corpus(spec), format);
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

int list_corpora() {
    for (const auto& c : builtin_corpora()) {
        std::string where;
        try {
            where = builtin_corpus_path(c.name).string();
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
    if (args[0] == "corpora") {
        a.finish();
        return list_corpora();
    }
    throw Error("unknown data subcommand \"" + args[0] + "\" (expected inspect or corpora)");
}

}  // namespace itera::cli
