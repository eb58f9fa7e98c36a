#pragma once
// Files are never half-written: bytes go to a temporary file beside the target,
// are flushed to disk, and only then renamed over it (rename is atomic on POSIX).

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string_view>

namespace itera {

/// Writes a file atomically. `write` receives a callback that appends bytes; if
/// `write` throws, the target is left untouched and the temporary file removed.
void write_file_atomically(
    const std::filesystem::path& target,
    const std::function<void(const std::function<void(const void*, std::size_t)>&)>& write);

/// Convenience for a file whose whole content is already in memory.
void write_file_atomically(const std::filesystem::path& target, std::string_view content);

}  // namespace itera
