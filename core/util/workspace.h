#pragma once
// Where the workbench keeps its files: the data folder (built-in corpora,
// prepared datasets, logs) and the run store. Built once by each program (the
// CLI from its options, the workbench from its settings) and passed down, so
// no library code reads the process environment to find its files.

#include <filesystem>

namespace itera {

struct Workspace {
    std::filesystem::path data_dir;  ///< corpora/, datasets/, logs/
    std::filesystem::path db_path;   ///< the run store (SQLite)

    /// $ITERA_DATA_DIR, else $XDG_DATA_HOME/itera-workbench, else
    /// ~/.local/share/itera-workbench; the store is <data dir>/runs.sqlite.
    static Workspace standard();
    /// `data_dir`, with the store at `db_path` (empty = <data_dir>/runs.sqlite).
    static Workspace at(const std::filesystem::path& data_dir,
                        const std::filesystem::path& db_path = {});
    /// This workspace with its store at `db_path` (unchanged when empty).
    Workspace with_db(const std::filesystem::path& db_path) const;

    std::filesystem::path corpora_dir() const { return data_dir / "corpora"; }
    std::filesystem::path datasets_dir() const { return data_dir / "datasets"; }
    std::filesystem::path log_dir() const { return data_dir / "logs"; }
};

/// The data folder Workspace::standard() uses.
std::filesystem::path standard_data_dir();

}  // namespace itera
