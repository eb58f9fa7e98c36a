#pragma once
// Wall-time accounting of the hot kernels, so benchmarks can print where a
// training step goes (scan vs GEMMs vs the rest). Off by default: when
// disabled a scope costs one relaxed atomic load.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace itera {

enum class OpKind { Scan, Gemm, Conv, Attention, Count };

/// Accumulated nanoseconds per kind since the last reset.
struct OpTimes {
    std::array<std::int64_t, static_cast<int>(OpKind::Count)> ns{};
    double seconds(OpKind k) const { return ns[static_cast<int>(k)] * 1e-9; }
};

void op_timer_enable(bool on);
void op_timer_reset();
OpTimes op_timer_read();

namespace detail {
extern std::atomic<bool> g_op_timer_on;
void op_timer_add(OpKind kind, std::int64_t ns);
}  // namespace detail

/// Adds the lifetime of the scope to `kind` when timing is enabled.
class OpTimerScope {
public:
    explicit OpTimerScope(OpKind kind)
        : kind_(kind), on_(detail::g_op_timer_on.load(std::memory_order_relaxed)) {
        if (on_) start_ = std::chrono::steady_clock::now();
    }
    ~OpTimerScope() {
        if (on_) {
            auto d = std::chrono::steady_clock::now() - start_;
            detail::op_timer_add(kind_,
                                 std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
        }
    }
    OpTimerScope(const OpTimerScope&) = delete;
    OpTimerScope& operator=(const OpTimerScope&) = delete;

private:
    OpKind kind_;
    bool on_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace itera
