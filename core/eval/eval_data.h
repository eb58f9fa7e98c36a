#pragma once
// The text a checkpoint is evaluated on: one split of a corpus, tokenised with
// the checkpoint's own tokenizer (which may differ from any prepared dataset's)
// and cached under the user data folder, keyed by the corpus text's identity
// and the tokenizer's fingerprint, so a second evaluation starts at once.

#include <filesystem>
#include <memory>

#include "data/dataset.h"
#include "data/token_cache.h"
#include "tokenizer/tokenizer.h"
#include "util/workspace.h"

namespace itera {

struct EvalData {
    std::shared_ptr<const TokenStream> stream;
    std::uint64_t bytes = 0;  ///< UTF-8 bytes of the split's text
    std::uint64_t documents = 0;
    TokenCacheInfo cache;
};

/// <workspace datasets dir>/eval-<corpus>-<tokenizer fingerprint>-<hash>.
std::filesystem::path default_eval_cache_dir(const Workspace& ws, const std::string& corpus,
                                             const CorpusSource& source, const Tokenizer& tokenizer,
                                             const CacheBuildOptions& options);

/// Tokenises (or reuses) `corpus` with `tokenizer` in `dir` (empty = the
/// default) and maps `split`. An empty split is an error naming it.
EvalData prepare_eval_data(const Workspace& ws, const std::string& corpus, CorpusFormat format,
                           const Tokenizer& tokenizer, Split split,
                           const CacheBuildOptions& options, std::filesystem::path dir = {});

}  // namespace itera
