#pragma once
// Adaptive fine-tuning from served feedback: well-rated answers (and, when
// asked, prompts with a corrected answer) become a small training set, tokenised
// with the checkpoint's own tokenizer; a short low-rate fine-tune runs as a run
// in the store linked to the checkpoint, validated on the checkpoint run's
// held-out text before (step 0) and after, so a regression is visible.

#include <cstdint>
#include <filesystem>
#include <functional>

#include "eval/eval_result.h"
#include "train/trainer.h"
#include "util/workspace.h"

namespace itera {

struct AdaptOptions {
    int min_rating = 4;
    bool corrections = false;  ///< also prompt + corrected answer (a text `correctness`)
    std::int64_t steps = 100;
    double lr = 2e-4;  ///< peak; a tenth warm-up, cosine to a tenth
    std::int64_t batch_size = 8;
    std::int64_t seq_len = 64;
    std::uint64_t seed = 0;
    int threads = 0;
    TrainControl* control = nullptr;
    std::function<void(const TrainProgress&)> progress;
};

struct AdaptResult {
    std::int64_t run_id = 0;
    std::int64_t documents = 0, tokens = 0;
    EvalResult before, after;  ///< the source run's validation text, step 0 and the end
    TrainResult train;
    std::filesystem::path out;
};

/// Throws naming what is missing: a compressed checkpoint (training needs
/// FP32), no feedback at that rating, too little text for one sequence.
AdaptResult adapt_from_feedback(const Workspace& ws, const std::filesystem::path& checkpoint,
                                const AdaptOptions& o, const std::filesystem::path& out);

}  // namespace itera
