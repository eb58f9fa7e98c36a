#pragma once
// An exclusive lock between processes (and threads) on a lock file, so two
// programs preparing the same dataset take turns: the first builds, the
// second waits and then reuses what the first built.

#include <atomic>
#include <filesystem>

namespace itera {

class FileLock {
public:
    /// Waits for the lock on `path` (created when missing), checking
    /// `cancel` every 100 ms (throws itera::Error("cancelled") when set).
    explicit FileLock(const std::filesystem::path& path, const std::atomic<bool>* cancel = nullptr);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace itera
