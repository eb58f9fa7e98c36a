#pragma once
// Walking a corpus document by document, each assigned to the training or
// validation split: by the dataset's own validation files when it has them,
// else deterministically from a seed (a document never straddles the split).

#include <cstdint>
#include <functional>
#include <string>

#include "data/corpus.h"

namespace itera {

enum class Split { Train, Validation };

struct SplitSettings {
    double validation_fraction = 0.05;  ///< used when the corpus has no validation files
    std::uint64_t seed = 0;
};

/// The split of document number `index` (in corpus order) for a seed: the same
/// answer on every machine and every run.
Split split_of(std::uint64_t seed, std::uint64_t index, double validation_fraction);

/// Calls `visit(split, document)` for every document of `source`.
void for_each_document(const CorpusSource& source, const ReadOptions& options,
                       const SplitSettings& split,
                       const std::function<void(Split, std::string&&)>& visit);

struct SplitCounts {
    std::uint64_t documents = 0, bytes = 0;
};

struct CorpusCounts {
    SplitCounts train, validation;
};

/// Counts documents and UTF-8 bytes per split. Throws itera::Error if the
/// corpus has no document, or none lands in one of the splits.
CorpusCounts count_documents(const CorpusSource& source, const ReadOptions& options,
                             const SplitSettings& split);

}  // namespace itera
