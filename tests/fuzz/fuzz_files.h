#pragma once
// Shared by the fuzz targets that hand their input to a reader of files.
//
// Speed matters: the input is written once per execution. On ext4, truncating
// and rewriting an existing file makes close() flush it (auto_da_alloc), which
// cut executions/s by 15x; the file is therefore removed and created afresh,
// preferably on a tmpfs (/dev/shm) when there is one.

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fuzz {

/// A new per-process folder for scratch files: in /dev/shm when writable,
/// else in the system's temporary folder. Removed at exit; the folders left
/// by crashed processes are removed by the next one.
inline std::filesystem::path scratch_dir(const std::string& name) {
    static std::vector<std::filesystem::path> dirs;
    std::error_code ec;
    std::filesystem::path base = "/dev/shm";
    if (!std::filesystem::is_directory(base, ec) || ::access(base.c_str(), W_OK) != 0)
        base = std::filesystem::temp_directory_path();
    // A crash skips atexit: sweep the folders of processes that are gone.
    const std::string prefix = "itera-fuzz-" + name + "-";
    for (const auto& e : std::filesystem::directory_iterator(base, ec)) {
        const auto file = e.path().filename().string();
        if (file.rfind(prefix, 0) != 0) continue;
        const long pid = std::strtol(file.c_str() + prefix.size(), nullptr, 10);
        if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
            std::filesystem::remove_all(e.path(), ec);
    }
    auto dir = base / (prefix + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    if (dirs.empty())
        std::atexit([] {
            std::error_code e;
            for (const auto& d : dirs) std::filesystem::remove_all(d, e);
        });
    dirs.push_back(dir);
    return dir;
}

/// Replaces `path` with `size` bytes (a new file, not a truncated one).
inline void write_file(const std::filesystem::path& path, const std::uint8_t* data,
                       std::size_t size) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.close();
    if (!out) {
        std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
        std::abort();
    }
}

}  // namespace fuzz
