#pragma once
// Progress lines on stderr for long CLI operations.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace itera::cli {

/// "4m05s", "1h02m".
inline std::string duration_text(double s) {
    if (!(s >= 0)) return "?";
    const auto t = static_cast<long long>(s + 0.5);
    char buf[32];
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, t / 60 % 60);
    else
        std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
    return buf;
}

/// A callback for (bytes done, bytes total) that redraws "LABEL 42.0%  ETA 1m10s".
inline std::function<void(std::uint64_t, std::uint64_t)> byte_progress(const std::string& label) {
    const auto t0 = std::chrono::steady_clock::now();
    return [label, t0](std::uint64_t done, std::uint64_t total) {
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::string eta;
        if (done > 0 && total > done)
            eta = "  ETA " +
                  duration_text(s * static_cast<double>(total - done) / static_cast<double>(done));
        std::fprintf(stderr, "\r%s %5.1f%%%s   ", label.c_str(),
                     total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0,
                     eta.c_str());
    };
}

/// A (phase, fraction) callback that redraws "PHASE 42.0%" (fraction in
/// [0, 1]) or "PHASE ..." (fraction < 0: unknown).
inline void phase_progress(const std::string& phase, double fraction) {
    if (fraction >= 0)
        std::fprintf(stderr, "\r\033[K%s %5.1f%%", phase.c_str(), 100.0 * fraction);
    else
        std::fprintf(stderr, "\r\033[K%s ...", phase.c_str());
}

/// Clears a progress line.
inline void clear_progress() {
    std::fprintf(stderr, "\r%60s\r", "");
}

}  // namespace itera::cli
