#include "data/dataset.h"

#include <cctype>
#include <chrono>
#include <optional>

#include "data/builtin.h"
#include "data/documents.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/file_lock.h"
#include "util/read_file.h"
#include "util/sha256.h"

namespace itera {
namespace {

std::string request_label(const DatasetRequest& r) {
    return tokenizer_kind_name(r.tokenizer) +
           (r.tokenizer == TokenizerKind::Byte ? "" : std::to_string(r.vocab_size));
}

}  // namespace

std::filesystem::path default_dataset_dir(const Workspace& ws, const DatasetRequest& r,
                                          const CacheBuildOptions& o) {
    auto src = open_corpus(resolve_corpus(ws, r.corpus), r.format);
    const auto identity = corpus_identity(src, o.split, o.read);
    std::string stem = std::filesystem::path(r.corpus).filename().string();
    if (stem.empty()) stem = std::filesystem::path(r.corpus).parent_path().filename().string();
    for (auto& c : stem)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
    return ws.datasets_dir() / (stem + "-" + request_label(r) + "-" +
                                sha256_hex(identity + "\n" + request_label(r)).substr(0, 12));
}

PreparedDataset prepare_dataset(const Workspace& ws, const DatasetRequest& r,
                                const std::filesystem::path& dir, const CacheBuildOptions& o) {
    PreparedDataset d;
    d.source = open_corpus(resolve_corpus(ws, r.corpus), r.format);
    d.identity = corpus_identity(d.source, o.split, o.read);

    // Reuse the tokenizer already trained in this folder for the same corpus
    // text and the same request (training is deterministic, but takes time).
    // One program trains it; another preparing the same folder waits for it.
    const auto path = dir / "tokenizer.json";
    const auto source_path = dir / "tokenizer.source.json";
    std::filesystem::create_directories(dir);
    std::optional<FileLock> lock(std::in_place, dir / ".tokenizer.lock", o.cancel);
    try {
        if (std::filesystem::exists(source_path) && read_file(source_path) == d.identity) {
            auto t = Tokenizer::deserialize(read_file(path));
            if (t->kind() == r.tokenizer &&
                (r.tokenizer == TokenizerKind::Byte || t->vocab_size() == r.vocab_size)) {
                d.tokenizer = t;
                d.tokenizer_reused = true;
            }
        }
    } catch (const Error&) {
        // missing or unreadable: train it again
    }
    if (!d.tokenizer) {
        const auto t0 = std::chrono::steady_clock::now();
        if (r.tokenizer == TokenizerKind::Byte) {
            d.tokenizer = make_byte_tokenizer();
        } else {
            std::vector<std::string> docs;  // training split only: validation text stays unseen
            for_each_document(d.source, o.read, o.split, [&](Split s, std::string&& doc) {
                if (s == Split::Train) docs.push_back(std::move(doc));
            });
            d.tokenizer = r.tokenizer == TokenizerKind::Word
                              ? train_word_tokenizer(docs, r.vocab_size)
                              : train_sentencepiece(r.tokenizer, docs, r.vocab_size, o.threads);
        }
        std::filesystem::create_directories(dir);
        write_file_atomically(path, d.tokenizer->serialize());
        write_file_atomically(source_path, d.identity);
        d.tokenizer_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    lock.reset();
    d.cache = prepare_token_cache(d.source, *d.tokenizer, dir, o);
    return d;
}

}  // namespace itera
