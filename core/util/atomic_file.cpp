#include "util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <random>

#include "util/error.h"

namespace itera {
namespace {

std::string errno_text() {
    return std::strerror(errno);
}

std::filesystem::path temp_path_for(const std::filesystem::path& target) {
    std::random_device rd;
    auto name = target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                std::to_string(rd() & 0xffffff);
    return target.parent_path() / name;
}

}  // namespace

void write_file_atomically(
    const std::filesystem::path& target,
    const std::function<void(const std::function<void(const void*, std::size_t)>&)>& write) {
    auto dir = target.parent_path();
    if (!dir.empty() && !std::filesystem::is_directory(dir)) {
        throw Error("cannot write " + target.string() + ": directory " + dir.string() +
                    " does not exist");
    }
    auto tmp = temp_path_for(target);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) throw Error("cannot create " + tmp.string() + ": " + errno_text());

    auto fail = [&](const std::string& what) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw Error("cannot write " + target.string() + ": " + what);
    };
    auto append = [&](const void* data, std::size_t size) {
        auto* p = static_cast<const char*>(data);
        while (size > 0) {
            ssize_t n = ::write(fd, p, size);
            if (n < 0) {
                if (errno == EINTR) continue;
                fail(errno_text());
            }
            p += n;
            size -= static_cast<std::size_t>(n);
        }
    };
    try {
        write(append);
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    if (::fsync(fd) != 0) fail(errno_text());
    if (::close(fd) != 0) {
        ::unlink(tmp.c_str());
        throw Error("cannot write " + target.string() + ": " + errno_text());
    }
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
        auto why = errno_text();
        ::unlink(tmp.c_str());
        throw Error("cannot rename " + tmp.string() + " to " + target.string() + ": " + why);
    }
}

void write_file_atomically(const std::filesystem::path& target, std::string_view content) {
    write_file_atomically(target,
                          [&](const auto& append) { append(content.data(), content.size()); });
}

}  // namespace itera
