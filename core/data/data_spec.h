#pragma once
// The data a run trains on, as stored with the run (JSON), and turning it
// into token streams: the tokenizer and token cache are trained or reused,
// then both splits are mapped.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "data/dataset.h"
#include "data/token_cache.h"
#include "tokenizer/tokenizer.h"
#include "util/workspace.h"

namespace itera {

struct DataSpec {
    DatasetRequest request;
    SplitSettings split;
    ReadOptions read;
    std::filesystem::path dir;  ///< where tokenizer and cache live; empty = default_dataset_dir

    std::string to_json() const;
    /// Missing keys take the defaults: moby-dick, auto format, BPE 4096, 5 % validation.
    static DataSpec from_json(const std::string& text);
};

/// The token streams a run trains and validates on.
struct TrainData {
    std::shared_ptr<const TokenStream> train, validation;
    std::shared_ptr<const Tokenizer> tokenizer;
    std::uint64_t validation_bytes = 0;  ///< UTF-8 bytes of the whole validation split
};

struct ReadyData {
    PreparedDataset prepared;
    TrainData data;
    std::filesystem::path dir;
};

/// Trains or reuses the tokenizer and token cache, then maps both splits.
ReadyData prepare_train_data(const Workspace& ws, const DataSpec& spec,
                             const CacheBuildOptions& options);

}  // namespace itera
