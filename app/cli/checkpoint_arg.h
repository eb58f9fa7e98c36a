#pragma once
// A checkpoint named on the command line: a .safetensors path, or `run:ID`
// for a stored run's best checkpoint (its newest one when it has no best yet).

#include <filesystem>
#include <optional>
#include <string>

#include "store/run_store.h"
#include "train/run_checkpoints.h"
#include "util/error.h"

namespace itera::cli {

inline std::filesystem::path resolve_checkpoint(const std::string& arg,
                                                const std::optional<std::string>& db) {
    if (arg.rfind("run:", 0) != 0) return arg;
    std::int64_t id = 0;
    try {
        std::size_t used = 0;
        id = std::stoll(arg.substr(4), &used);
        if (used != arg.size() - 4 || id < 1) throw std::invalid_argument("id");
    } catch (const std::exception&) {
        throw Error("\"" + arg + "\": expected run:ID with a positive run id");
    }
    RunStore store(db ? std::filesystem::path(*db) : RunStore::default_path());
    if (!store.find_run(id))
        throw Error("no run " + std::to_string(id) + " in " + store.path().string());
    const auto dir = store.run_dir(id);
    if (std::filesystem::exists(dir / "best.safetensors")) return dir / "best.safetensors";
    auto pairs = list_checkpoint_pairs(dir);
    if (pairs.empty())
        throw Error("run " + std::to_string(id) + " has no checkpoint yet in " + dir.string());
    return pairs.front().model;  // newest first
}

}  // namespace itera::cli
