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
    ContextReach reach;
    reach.arch = m->config().arch;
    reach.window = m->config().is_transformer() ? m->config().context_length : 0;
    if (auto it = m->metadata().find("train_seq_len"); it != m->metadata().end()) {
        try {
            reach.trained = std::stoll(it->second);
        } catch (const std::exception&) {
            reach.trained = 0;  // not a number: not shown
        }
    }
    box.post([&](GenerationUpdates& u) { u.reach = reach; });
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
