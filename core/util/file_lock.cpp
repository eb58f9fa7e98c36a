#include "util/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "util/error.h"

namespace itera {

FileLock::FileLock(const std::filesystem::path& path, const std::atomic<bool>* cancel) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw Error("cannot open the lock file " + path.string() + ": " + std::strerror(errno));
    // Each FileLock opens the file anew, so two in one process exclude each
    // other too (flock locks belong to the open file, not the process).
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            const std::string why = std::strerror(errno);
            ::close(fd_);
            throw Error("cannot lock " + path.string() + ": " + why);
        }
        if (cancel && cancel->load()) {
            ::close(fd_);
            throw Error("cancelled");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

FileLock::~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace itera
