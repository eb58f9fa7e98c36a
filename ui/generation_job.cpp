#include "generation_job.h"

#include <chrono>

namespace itera::ui {

std::shared_ptr<const InferenceModel> ModelCache::get(const std::filesystem::path& path) {
    {
        std::lock_guard lock(m_mutex);
        auto it = m_models.find(path);
        if (it != m_models.end()) return it->second;
    }
    auto model = InferenceModel::load(path);  // outside the lock: another pane may load too
    std::lock_guard lock(m_mutex);
    return m_models.emplace(path, std::move(model)).first->second;
}

GenerateResult runGeneration(ModelCache& cache, const std::filesystem::path& model,
                             const std::string& prompt, const GenerateSettings& settings,
                             JobMailbox<GenerationUpdates>& box, const JobContext& context) {
    const auto start = std::chrono::steady_clock::now();
    bool first = true;
    const auto m = cache.get(model);
    return generate(*m, prompt, settings, [&](const TokenEvent& e) {
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        box.post([&](GenerationUpdates& u) {
            if (first) u.firstTokenSeconds = seconds;
            u.events.push_back(e);
        });
        first = false;
        return !context.cancelled();
    });
}

}  // namespace itera::ui
