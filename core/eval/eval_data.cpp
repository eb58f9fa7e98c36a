#include "eval/eval_data.h"

#include <cctype>

#include "data/builtin.h"
#include "util/error.h"
#include "util/sha256.h"

namespace itera {

std::filesystem::path default_eval_cache_dir(const Workspace& ws, const std::string& corpus,
                                             const CorpusSource& source, const Tokenizer& tokenizer,
                                             const CacheBuildOptions& o) {
    std::string stem = std::filesystem::path(corpus).filename().string();
    if (stem.empty()) stem = std::filesystem::path(corpus).parent_path().filename().string();
    for (auto& c : stem)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
    const auto identity = corpus_identity(source, o.split, o.read);
    return ws.datasets_dir() / ("eval-" + stem + "-" + tokenizer.fingerprint() + "-" +
                                sha256_hex(identity).substr(0, 12));
}

EvalData prepare_eval_data(const Workspace& ws, const std::string& corpus, CorpusFormat format,
                           const Tokenizer& tokenizer, Split split,
                           const CacheBuildOptions& options, std::filesystem::path dir) {
    auto source = open_corpus(resolve_corpus(ws, corpus), format);
    if (dir.empty()) dir = default_eval_cache_dir(ws, corpus, source, tokenizer, options);
    EvalData d;
    d.cache = prepare_token_cache(source, tokenizer, dir, options);
    const auto& counts = split == Split::Train ? d.cache.train : d.cache.validation;
    const char* name = split == Split::Train ? "train" : "validation";
    if (counts.tokens == 0)
        throw Error(corpus + ": the " + name + " split is empty (" +
                    std::to_string(counts.documents) + " documents)");
    d.stream = TokenStream::open(dir, split);
    d.bytes = counts.bytes;
    d.documents = counts.documents;
    return d;
}

}  // namespace itera
