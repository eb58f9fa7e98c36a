#pragma once
// From a model file to what it was made from: the stored run its `run_id`
// metadata names, that run's data (the text a compression is measured or
// calibrated on, a fine-tune trained on) and `run:ID` arguments. Written once
// here; every command and screen that starts from a checkpoint uses it.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "data/data_spec.h"
#include "eval/eval_data.h"
#include "store/run_store.h"

namespace itera {

/// The run named by a model file's `run_id` metadata, when `store` has it.
std::optional<std::int64_t> source_run_id(RunStore& store,
                                          const std::map<std::string, std::string>& metadata);

/// The DataSpec stored with run `run`.
DataSpec stored_data_spec(const RunRecord& run);

/// `eval_data` when given, else the corpus of the model's run (its `run_id`
/// metadata, looked up in `store`), else the default corpus.
DataSpec source_data_spec(RunStore& store, const std::map<std::string, std::string>& metadata,
                          const std::optional<std::string>& eval_data = std::nullopt);

/// As above with a connection of this thread to the workspace's store (no
/// store, or no such run: the default corpus).
DataSpec source_data_spec(const Workspace& ws, const std::map<std::string, std::string>& metadata,
                          const std::optional<std::string>& eval_data = std::nullopt);

/// One split of `spec`'s corpus tokenised with `tokenizer` (cached like any
/// evaluation text).
EvalData source_text(const Workspace& ws, const DataSpec& spec, const Tokenizer& tokenizer,
                     Split split, int threads, const std::atomic<bool>* cancel);

/// A checkpoint named on the command line or in a request: a path as given,
/// or `run:ID` for a stored run's best checkpoint (its newest one when it has
/// no best yet). Errors name the run and the store.
std::filesystem::path resolve_checkpoint(RunStore& store, const std::string& arg);

}  // namespace itera
