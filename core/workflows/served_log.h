#pragma once
// What the HTTP server keeps: every answer it gave (its id is the answer's
// feedback_id) and what users said of it, in the run store. One connection
// behind a mutex, shared by the server's HTTP workers.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "store/run_store.h"

namespace itera {

class ServedLog {
public:
    /// Opens (creating if needed) the run store at `db`.
    explicit ServedLog(const std::filesystem::path& db);

    /// The stored run a served model's file names in its metadata, if any.
    std::optional<std::int64_t> model_run(const std::map<std::string, std::string>& metadata);
    std::int64_t add_served(const ServedRecord& record);
    /// Throws itera::Error naming the id when no answer has it (and for a
    /// rating outside 1..5); returns the feedback's id.
    std::int64_t add_feedback(const FeedbackRecord& record);
    bool has_served(std::int64_t id);

private:
    std::mutex mutex_;
    std::unique_ptr<RunStore> store_;
};

}  // namespace itera
