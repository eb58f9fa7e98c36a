// Run folders and who owns them: each run's folder carries a marker naming
// its store and run, so a second store in the same folder, or a database
// replaced by a new one, never adopts or deletes files that are not its own.

#include <nlohmann/json.hpp>

#include "store/run_store.h"
#include "store/statement.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/read_file.h"

namespace itera {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMarker = "run.json";

struct Owner {
    std::string store_id;
    std::int64_t run_id = 0;
};

// The folder's marker; nullopt when there is none (or it is unreadable).
std::optional<Owner> read_marker(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir / kMarker, ec)) return std::nullopt;
    try {
        const auto j = nlohmann::json::parse(read_file(dir / kMarker));
        return Owner{j.at("store_id").get<std::string>(), j.at("run_id").get<std::int64_t>()};
    } catch (const std::exception&) {
        return Owner{"(unreadable marker)", 0};
    }
}

void write_marker(const fs::path& dir, const std::string& store_id, std::int64_t run_id,
                  const fs::path& db) {
    write_file_atomically(dir / kMarker, nlohmann::json{{"store_id", store_id},
                                                        {"run_id", run_id},
                                                        {"database", fs::absolute(db).string()}}
                                             .dump(2));
}

bool empty_dir(const fs::path& dir) {
    std::error_code ec;
    return fs::is_empty(dir, ec) && !ec;
}

std::string describe(const Owner& o) {
    return "run " + std::to_string(o.run_id) + " of run store " + o.store_id;
}

}  // namespace

fs::path RunStore::run_dir(std::int64_t id) const {
    sql::Statement s(db_, "SELECT dir FROM runs WHERE id = ?1");
    s.bind(1, id);
    if (s.step() && !s.text(0).empty()) return path_.parent_path() / s.text(0);
    return path_.parent_path() / "runs" / store_id_.substr(0, 8) / std::to_string(id);
}

fs::path RunStore::claim_run_dir(std::int64_t id) {
    const auto dir = run_dir(id);
    std::error_code ec;
    if (!fs::exists(dir, ec) || empty_dir(dir)) {
        fs::create_directories(dir, ec);
        if (ec)
            throw Error("cannot create the folder of run " + std::to_string(id) + ": " +
                        dir.string() + ": " + ec.message());
        write_marker(dir, store_id_, id, path_);
        return dir;
    }
    const auto owner = read_marker(dir);
    if (!owner)
        throw Error("the folder " + dir.string() + " of run " + std::to_string(id) +
                    " holds files but no marker saying whose they are (" + kMarker +
                    "); it was not made by this run store (" + path_.string() +
                    "), so it is not used. Move it away to let run " + std::to_string(id) +
                    " write there");
    if (owner->store_id != store_id_ || owner->run_id != id)
        throw Error("the folder " + dir.string() + " belongs to " + describe(*owner) +
                    ", not to run " + std::to_string(id) + " of this run store (" + path_.string() +
                    ", " + store_id_ + "); it is not used or changed");
    return dir;
}

std::string RunStore::delete_run(std::int64_t id) {
    const auto r = run(id);
    if (r.status == RunStatus::Running || r.status == RunStatus::Paused)
        throw Error("run " + std::to_string(id) + " is " + run_status_name(r.status) +
                    "; stop it before deleting it");
    const auto dir = run_dir(id);
    sql::Statement s(db_, "DELETE FROM runs WHERE id = ?1");
    s.bind(1, id).run();
    std::error_code ec;
    if (!fs::exists(dir, ec)) return {};
    const auto owner = read_marker(dir);
    if (!owner && !empty_dir(dir))
        return "its folder " + dir.string() +
               " was left in place: it has no marker saying it is this run's";
    if (owner && (owner->store_id != store_id_ || owner->run_id != id))
        return "its folder " + dir.string() + " was left in place: it belongs to " +
               describe(*owner);
    fs::remove_all(dir, ec);
    if (ec)
        throw Error("run " + std::to_string(id) + " deleted, but its folder " + dir.string() +
                    " could not be removed: " + ec.message());
    return {};
}

void RunStore::adopt_legacy_run_dirs() {
    // Before store ids, runs/<id> beside the database was this store's by
    // convention: the store that migrates first marks the folders of its runs.
    std::vector<std::int64_t> ids;
    {
        sql::Statement s(db_, "SELECT id FROM runs ORDER BY id");
        while (s.step()) ids.push_back(s.integer(0));
    }
    for (auto id : ids) {
        const auto dir = run_dir(id);
        std::error_code ec;
        if (fs::is_directory(dir, ec) && !read_marker(dir)) {
            try {
                write_marker(dir, store_id_, id, path_);
            } catch (const Error&) {  // a read-only folder stays unmarked; claim_run_dir says so
            }
        }
    }
}

}  // namespace itera
