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

void runGeneration(ModelCache& cache, const std::filesystem::path& model, const std::string& prompt,
                   const GenerateSettings& settings, GenerationMailbox& box) {
    const auto start = std::chrono::steady_clock::now();
    try {
        const auto m = cache.get(model);
        auto result = generate(*m, prompt, settings, [&](const TokenEvent& e) {
            std::lock_guard lock(box.mutex);
            if (box.firstTokenSeconds < 0)
                box.firstTokenSeconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            box.events.push_back(e);
            return !box.cancel.load();
        });
        std::lock_guard lock(box.mutex);
        box.result = std::move(result);
    } catch (const std::exception& e) {
        std::lock_guard lock(box.mutex);
        box.error = QString::fromStdString(e.what());
    }
    std::lock_guard lock(box.mutex);
    box.done = true;
}

}  // namespace itera::ui
