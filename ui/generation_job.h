#pragma once
// One generation of the playground on its own thread: loads the model (shared
// through a cache, loaded once), generates, and leaves its tokens in a
// mailbox the pane drains on a timer. Cancelled through an atomic flag.

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

namespace itera::ui {

/// Loaded models by path, shared by the panes (a model is safe to share across threads).
class ModelCache {
public:
    /// Loads `path` (FP32 or compressed) once; throws itera::Error naming what is wrong.
    std::shared_ptr<const InferenceModel> get(const std::filesystem::path& path);

private:
    std::mutex m_mutex;
    std::map<std::filesystem::path, std::shared_ptr<const InferenceModel>> m_models;
};

struct GenerationMailbox {
    std::atomic<bool> cancel{false};
    std::mutex mutex;  ///< guards what follows
    std::vector<TokenEvent> events;
    double firstTokenSeconds = -1;  ///< from the start (load included) to the first token
    std::optional<GenerateResult> result;
    QString error;
    bool done = false;
};

/// Runs on the calling thread: load, generate, report into `box`.
void runGeneration(ModelCache& cache, const std::filesystem::path& model, const std::string& prompt,
                   const GenerateSettings& settings, GenerationMailbox& box);

}  // namespace itera::ui
