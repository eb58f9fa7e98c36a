#pragma once
// A load test of the HTTP server over 127.0.0.1: N clients, each sending
// /infer requests back to back for a while (a bounded client of our own,
// cpp-httplib), then requests/s, tokens/s, latency percentiles, errors, and
// the process's resident memory. `itera bench serve` runs it against a server
// started in the same process, so its RSS is the server's.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace itera {

struct ServeLoad {
    int clients = 1;
    double seconds = 20;
    std::int64_t max_tokens = 32;
    std::string prompt = "Call me Ishmael.";
};

struct ServeLoadResult {
    int clients = 0;
    double seconds = 0;
    std::int64_t requests = 0, errors = 0, tokens = 0;
    double requests_per_s = 0, tokens_per_s = 0;
    double p50_ms = 0, p99_ms = 0, max_ms = 0;
    double rss_mb = 0;  ///< this process, at the end
    std::string first_error;
};

/// Runs `load` against host:port; request i of client c uses seed c·1e6 + i.
ServeLoadResult run_serve_load(const std::string& host, int port, const ServeLoad& load);

/// This process's resident set size in MB (VmRSS), 0 when unknown.
double resident_mb();

}  // namespace itera
