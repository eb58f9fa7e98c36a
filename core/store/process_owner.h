#pragma once
// Which process owns a run or a sweep: its pid and host, and a heartbeat.
// Internal to the store.

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>

namespace itera::store_owner {

inline double now_unix() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

inline std::string host_name() {
    char buf[256] = {};
    gethostname(buf, sizeof buf - 1);
    return buf;
}

/// An owner process that is gone; or silent for an hour (a reused pid).
inline bool owner_is_dead(std::int64_t pid, const std::string& host, double heartbeat) {
    const double silent = now_unix() - heartbeat;
    if (host == host_name()) {
        if (pid == getpid()) return false;
        if (pid <= 0 || (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) return true;
        return silent > 3600;
    }
    return silent > 600;  // another machine sharing the file: only the heartbeat tells
}

}  // namespace itera::store_owner
