#pragma once
// One generation of the playground, run as a job (jobs/job_runner.h): loads
// the model (shared through a cache, loaded once), generates, and leaves its
// tokens in a mailbox the pane drains on each delivery. Cancelled through the
// job's token.

#include <QString>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "infer/generate.h"
#include "jobs/job_runner.h"

namespace itera::ui {

/// Loaded models by path, shared by the panes (a model is safe to share across threads).
/// What the playground says about a model's context: a Transformer's attention
/// window and the length the model trained on (0 when not recorded).
struct ContextReach {
    std::string arch;
    std::int64_t window = 0;  ///< 0: no window (Itera-Lite's state carries everything)
    std::int64_t trained = 0;
};

class ModelCache {
public:
    /// Loads `path` (FP32 or compressed) once; throws itera::Error naming what is wrong.
    std::shared_ptr<const InferenceModel> get(const std::filesystem::path& path);

private:
    std::mutex m_mutex;
    std::map<std::filesystem::path, std::shared_ptr<const InferenceModel>> m_models;
};

/// What a generation reports between two deliveries.
struct GenerationUpdates {
    std::vector<TokenEvent> events;
    double firstTokenSeconds = -1;  ///< from the start (load included) to the first token
    /// Set with the first delivery: how far the model's context reaches.
    std::optional<ContextReach> reach;
};

/// Runs on the calling thread (a job): load, generate, report tokens into
/// `box`; stops early when the job is cancelled. Errors are thrown.
GenerateResult runGeneration(ModelCache& cache, const std::filesystem::path& model,
                             const std::string& prompt, const GenerateSettings& settings,
                             JobMailbox<GenerationUpdates>& box, const JobContext& context);

}  // namespace itera::ui

Q_DECLARE_METATYPE(itera::GenerateResult)
