#pragma once
// Whole-file reads for small text files (configs, manifests, tokenizers).

#include <filesystem>
#include <string>

namespace itera {

/// The file's bytes; throws itera::Error "PATH: cannot open" when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace itera
