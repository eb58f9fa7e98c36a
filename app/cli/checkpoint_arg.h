#pragma once
// The workspace of a command (the standard data folder, and the run store
// --db names) and a checkpoint named on the command line: a .safetensors
// path, or `run:ID` for a stored run's best checkpoint.

#include <filesystem>
#include <optional>
#include <string>

#include "store/run_store.h"
#include "util/workspace.h"
#include "workflows/model_source.h"

namespace itera::cli {

/// The standard workspace, with its store at `db` when given.
inline Workspace workspace_of(const std::optional<std::string>& db) {
    return Workspace::standard().with_db(db ? std::filesystem::path(*db) : std::filesystem::path());
}

inline std::filesystem::path resolve_checkpoint(const std::string& arg,
                                                const std::optional<std::string>& db) {
    if (arg.rfind("run:", 0) != 0) return arg;
    RunStore store(workspace_of(db).db_path);
    return itera::resolve_checkpoint(store, arg);
}

}  // namespace itera::cli
