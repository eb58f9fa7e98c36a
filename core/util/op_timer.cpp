#include "util/op_timer.h"

namespace itera {
namespace detail {
std::atomic<bool> g_op_timer_on{false};
namespace {
std::array<std::atomic<std::int64_t>, static_cast<int>(OpKind::Count)> g_ns{};
}
void op_timer_add(OpKind kind, std::int64_t ns) {
    g_ns[static_cast<int>(kind)].fetch_add(ns, std::memory_order_relaxed);
}
}  // namespace detail

void op_timer_enable(bool on) {
    detail::g_op_timer_on.store(on);
}

void op_timer_reset() {
    for (auto& v : detail::g_ns) v.store(0);
}

OpTimes op_timer_read() {
    OpTimes t;
    for (std::size_t i = 0; i < t.ns.size(); ++i) t.ns[i] = detail::g_ns[i].load();
    return t;
}

}  // namespace itera
