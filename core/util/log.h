#pragma once
// A small rotating log file in the data directory (logs/<program>.log, kept
// under 1 MB with three older files), for bug reports: what ran, with which
// arguments, what failed. Thread-safe; logging never throws (a log that
// cannot be written is silently skipped: it must not break the program).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace itera {

struct LogOptions {
    std::int64_t max_bytes = 1 << 20;  ///< rotate when the file would grow past this
    int keep = 3;                      ///< older files kept: <name>.log.1 .. .log.<keep>
};

/// Starts logging to `dir`/<program>.log (the directory is created). Until
/// called, log_line does nothing.
void open_log(const std::filesystem::path& dir, const std::string& program,
              const LogOptions& options = {});

/// Stops logging (log_line does nothing until the next open_log).
void close_log();

/// Appends "2026-11-27T03:30:16Z [level] message" (one line; newlines in
/// `message` are escaped; messages are cut at 4,000 bytes).
void log_line(const std::string& level, const std::string& message);

/// The open log file's path (empty when none is open).
std::filesystem::path log_path();

/// The last `count` lines of the open log (fewer when it is shorter).
std::vector<std::string> log_tail(std::size_t count);

}  // namespace itera
