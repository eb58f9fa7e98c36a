#include "serve/serve_bench.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

namespace itera {

double resident_mb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return 0;
}

ServeLoadResult run_serve_load(const std::string& host, int port, const ServeLoad& load) {
    using Clock = std::chrono::steady_clock;
    const auto deadline =
        Clock::now() + std::chrono::milliseconds(static_cast<std::int64_t>(load.seconds * 1000));
    std::mutex mutex;
    std::vector<double> latencies;
    ServeLoadResult r;
    r.clients = load.clients;
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < load.clients; ++c)
        threads.emplace_back([&, c] {
            httplib::Client cli(host, port);
            cli.set_read_timeout(120, 0);
            cli.set_keep_alive(true);  // as HTTP client libraries do: one connection per client
            cli.set_tcp_nodelay(true);
            std::vector<double> mine;
            std::int64_t tokens = 0, errors = 0;
            std::string error;
            for (std::int64_t i = 0; Clock::now() < deadline; ++i) {
                nlohmann::json body = {{"input_text", load.prompt},
                                       {"max_length", load.max_tokens},
                                       {"seed", static_cast<std::int64_t>(c) * 1000000 + i}};
                const auto start = Clock::now();
                auto res = cli.Post("/infer", body.dump(), "application/json");
                const double ms =
                    std::chrono::duration<double, std::milli>(Clock::now() - start).count();
                if (!res || res->status != 200) {
                    ++errors;
                    if (error.empty())
                        error = res ? std::to_string(res->status) + " " + res->body
                                    : httplib::to_string(res.error());
                    continue;
                }
                mine.push_back(ms);
                tokens += nlohmann::json::parse(res->body)["tokens_generated"].get<std::int64_t>();
            }
            std::lock_guard lock(mutex);
            latencies.insert(latencies.end(), mine.begin(), mine.end());
            r.tokens += tokens;
            r.errors += errors;
            if (r.first_error.empty()) r.first_error = error;
        });
    for (auto& t : threads) t.join();
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    r.requests = static_cast<std::int64_t>(latencies.size());
    r.requests_per_s = double(r.requests) / r.seconds;
    r.tokens_per_s = double(r.tokens) / r.seconds;
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double q) {
        return latencies.empty()
                   ? 0.0
                   : latencies[std::min(latencies.size() - 1,
                                        static_cast<std::size_t>(q * double(latencies.size())))];
    };
    r.p50_ms = pct(0.5);
    r.p99_ms = pct(0.99);
    r.max_ms = latencies.empty() ? 0 : latencies.back();
    r.rss_mb = resident_mb();
    return r;
}

}  // namespace itera
