#pragma once
// A dataset ready for training: a corpus, a tokenizer trained on its training
// split, and the token cache of both splits, all in one folder:
//
//   DIR/tokenizer.json          the tokenizer
//   DIR/tokenizer.source.json   the corpus text it was trained on (identity)
//   DIR/train.bin, validation.bin, manifest.json   the token cache
//
// Each part is reused when it still matches (same corpus text, same request).

#include <filesystem>
#include <memory>
#include <string>

#include "data/corpus.h"
#include "data/token_cache.h"
#include "tokenizer/tokenizer.h"
#include "util/workspace.h"

namespace itera {

struct DatasetRequest {
    std::string corpus;  ///< a path or a built-in name ("moby-dick")
    CorpusFormat format = CorpusFormat::Auto;
    TokenizerKind tokenizer = TokenizerKind::Bpe;
    std::int32_t vocab_size = 4096;  ///< ignored for the byte tokenizer
};

struct PreparedDataset {
    CorpusSource source;
    std::shared_ptr<const Tokenizer> tokenizer;
    TokenCacheInfo cache;
    std::string identity;          ///< corpus_identity() of the text
    double tokenizer_seconds = 0;  ///< 0 when the tokenizer was reused
    bool tokenizer_reused = false;
};

/// <workspace datasets dir>/<corpus>-<tokenizer><vocab>-<hash of the corpus
/// text's identity and the request>.
std::filesystem::path default_dataset_dir(const Workspace& ws, const DatasetRequest& request,
                                          const CacheBuildOptions& options);

PreparedDataset prepare_dataset(const Workspace& ws, const DatasetRequest& request,
                                const std::filesystem::path& dir, const CacheBuildOptions& options);

}  // namespace itera
