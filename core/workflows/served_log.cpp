#include "workflows/served_log.h"

#include "workflows/model_source.h"

namespace itera {

ServedLog::ServedLog(const std::filesystem::path& db) : store_(std::make_unique<RunStore>(db)) {}

std::optional<std::int64_t> ServedLog::model_run(
    const std::map<std::string, std::string>& metadata) {
    std::lock_guard lock(mutex_);
    return source_run_id(*store_, metadata);
}

std::int64_t ServedLog::add_served(const ServedRecord& record) {
    std::lock_guard lock(mutex_);
    return store_->add_served(record);
}

std::int64_t ServedLog::add_feedback(const FeedbackRecord& record) {
    std::lock_guard lock(mutex_);
    return store_->add_feedback(record);
}

bool ServedLog::has_served(std::int64_t id) {
    std::lock_guard lock(mutex_);
    return store_->find_served(id).has_value();
}

}  // namespace itera
