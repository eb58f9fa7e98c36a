#pragma once
// Which text a compression is measured (or calibrated) on, and a fine-tune of
// a stored model validated on. Internal to core (compress, serve): it pulls in
// the run launcher's headers.

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "eval/eval_data.h"
#include "train/run_launch.h"

namespace itera {

/// `eval_data` when given, else the corpus of the checkpoint's run (its
/// `run_id` metadata, looked up in the store at `db`), else the default.
DataSpec compression_data_spec(const std::map<std::string, std::string>& metadata,
                               const std::optional<std::string>& eval_data,
                               const std::filesystem::path& db);

/// One split of `spec`'s corpus tokenised with `tokenizer` (cached like any
/// evaluation text).
EvalData compression_text(const DataSpec& spec, const Tokenizer& tokenizer, Split split,
                          int threads, const std::atomic<bool>* cancel);

}  // namespace itera
