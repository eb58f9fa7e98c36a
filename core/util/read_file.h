#pragma once
// Whole-file reads for small text files (configs, manifests, tokenizers).

#include <cstdint>
#include <filesystem>
#include <string>

namespace itera {

/// The file's bytes; throws itera::Error "PATH: cannot open" when it cannot be read.
std::string read_file(const std::filesystem::path& path);

/// As read_file, for a file whose size a reader does not control: refuses
/// anything but a regular file (a FIFO or /dev/zero would never end) and a
/// file of more than `max_bytes`, naming its size, before reading it, and
/// never reads more than `max_bytes` should the file grow meanwhile.
std::string read_small_file(const std::filesystem::path& path, std::uint64_t max_bytes);

}  // namespace itera
