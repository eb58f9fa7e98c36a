#pragma once
// What the server counts for GET /metrics, and its per-client rate limit.
// Internal to serve/.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace itera::serve_detail {

using Clock = std::chrono::steady_clock;

/// Per-client token buckets.
class RateLimiter {
public:
    explicit RateLimiter(double per_s) : rate_(per_s), burst_(std::max(1.0, 2 * per_s)) {}
    /// 0 when allowed, else the seconds until a request would be.
    double wait(const std::string& client) {
        if (rate_ <= 0) return 0;
        std::lock_guard lock(mutex_);
        const auto now = Clock::now();
        if (buckets_.size() > 100000) buckets_.clear();  // bounded memory under a flood
        auto [it, fresh] = buckets_.try_emplace(client, Bucket{burst_, now});
        auto& b = it->second;
        if (!fresh) {
            b.tokens = std::min(
                burst_, b.tokens + rate_ * std::chrono::duration<double>(now - b.last).count());
            b.last = now;
        }
        if (b.tokens >= 1) {
            b.tokens -= 1;
            return 0;
        }
        return (1 - b.tokens) / rate_;
    }

private:
    struct Bucket {
        double tokens;
        Clock::time_point last;
    };
    double rate_, burst_;
    std::mutex mutex_;
    std::map<std::string, Bucket> buckets_;
};

/// Requests, answers, errors and latencies since the start.
class Metrics {
public:
    void request(const std::string& endpoint, int status) {
        std::lock_guard lock(mutex_);
        ++total_;
        if (by_endpoint_.size() < 64 || by_endpoint_.count(endpoint)) ++by_endpoint_[endpoint];
        if (status == 429) ++rate_limited_;
        if (status >= 400 && status < 500) ++client_errors_;
        if (status >= 500) ++server_errors_;
    }
    void answered(double latency_ms, std::int64_t tokens) {
        std::lock_guard lock(mutex_);
        latencies_.push_back(latency_ms);
        if (latencies_.size() > 4096) latencies_.pop_front();
        tokens_ += tokens;
        ++answered_;
    }
    nlohmann::json to_json() const {
        std::lock_guard lock(mutex_);
        std::vector<double> l(latencies_.begin(), latencies_.end());
        std::sort(l.begin(), l.end());
        auto pct = [&](double q) -> nlohmann::json {
            if (l.empty()) return nullptr;
            return l[std::min(l.size() - 1, static_cast<std::size_t>(q * double(l.size())))];
        };
        const double up = std::chrono::duration<double>(Clock::now() - start_).count();
        return {{"uptime_s", up},
                {"requests", {{"total", total_}, {"by_endpoint", by_endpoint_}}},
                {"answers", answered_},
                {"errors",
                 {{"client", client_errors_},
                  {"server", server_errors_},
                  {"rate_limited", rate_limited_}}},
                {"tokens_generated", tokens_},
                {"tokens_per_s_wall", up > 0 ? double(tokens_) / up : 0.0},
                {"latency_ms",
                 {{"window", l.size()},
                  {"p50", pct(0.5)},
                  {"p90", pct(0.9)},
                  {"p99", pct(0.99)},
                  {"max", l.empty() ? nlohmann::json() : nlohmann::json(l.back())}}}};
    }

private:
    mutable std::mutex mutex_;
    Clock::time_point start_ = Clock::now();
    std::int64_t total_ = 0, answered_ = 0, client_errors_ = 0, server_errors_ = 0,
                 rate_limited_ = 0, tokens_ = 0;
    std::map<std::string, std::int64_t> by_endpoint_;
    std::deque<double> latencies_;
};

}  // namespace itera::serve_detail
