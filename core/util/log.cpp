#include "util/log.h"

#include <deque>
#include <fstream>
#include <mutex>

#include "util/time_text.h"

namespace fs = std::filesystem;

namespace itera {
namespace {

struct LogState {
    std::mutex mutex;
    fs::path path;
    LogOptions options;
};

LogState& state() {
    static LogState s;
    return s;
}

/// <name>.log → .log.1 → ... → .log.<keep> (the oldest dropped).
void rotate(const fs::path& path, int keep) {
    std::error_code ec;
    auto numbered = [&](int i) { return fs::path(path.string() + "." + std::to_string(i)); };
    fs::remove(numbered(keep), ec);
    for (int i = keep - 1; i >= 1; --i) fs::rename(numbered(i), numbered(i + 1), ec);
    if (keep >= 1)
        fs::rename(path, numbered(1), ec);
    else
        fs::remove(path, ec);
}

}  // namespace

void open_log(const fs::path& dir, const std::string& program, const LogOptions& options) {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    std::error_code ec;
    fs::create_directories(dir, ec);
    s.path = ec ? fs::path() : dir / (program + ".log");
    s.options = options;
}

void close_log() {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    s.path.clear();
}

void log_line(const std::string& level, const std::string& message) {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    if (s.path.empty()) return;
    std::string line = utc_now() + " [" + level + "] ";
    constexpr std::size_t kMaxMessage = 4000;
    for (char c : message.substr(0, kMaxMessage)) {
        if (c == '\n')
            line += "\\n";
        else if (c != '\r')
            line += c;
    }
    if (message.size() > kMaxMessage) line += " [...]";
    line += '\n';
    std::error_code ec;
    const auto size = fs::file_size(s.path, ec);
    if (!ec && static_cast<std::int64_t>(size + line.size()) > s.options.max_bytes)
        rotate(s.path, s.options.keep);
    std::ofstream out(s.path, std::ios::app | std::ios::binary);
    out << line;
}

fs::path log_path() {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    return s.path;
}

std::vector<std::string> log_tail(std::size_t count) {
    const auto path = log_path();
    std::deque<std::string> lines;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        lines.push_back(line);
        if (lines.size() > count) lines.pop_front();
    }
    return {lines.begin(), lines.end()};
}

}  // namespace itera
