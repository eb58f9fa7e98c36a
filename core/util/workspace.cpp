#include "util/workspace.h"

#include <cstdlib>

namespace fs = std::filesystem;

namespace itera {

fs::path standard_data_dir() {
    if (const char* d = std::getenv("ITERA_DATA_DIR"); d && *d) return d;
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x)
        return fs::path(x) / "itera-workbench";
    if (const char* h = std::getenv("HOME"); h && *h)
        return fs::path(h) / ".local/share/itera-workbench";
    return fs::temp_directory_path() / "itera-workbench";
}

Workspace Workspace::standard() {
    return at(standard_data_dir());
}

Workspace Workspace::at(const fs::path& data_dir, const fs::path& db_path) {
    Workspace w;
    w.data_dir = data_dir;
    w.db_path = db_path.empty() ? data_dir / "runs.sqlite" : db_path;
    return w;
}

Workspace Workspace::with_db(const fs::path& db_path) const {
    Workspace w = *this;
    if (!db_path.empty()) w.db_path = db_path;
    return w;
}

}  // namespace itera
