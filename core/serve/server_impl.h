#pragma once
// The server's state, shared by server.cpp (lifecycle, small routes) and
// generation_route.cpp (the generating endpoints). Internal to serve/.

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "infer/generation_engine.h"
#include "serve/http_front.h"
#include "serve/requests.h"
#include "serve/server.h"
#include "serve/server_metrics.h"
#include "workflows/served_log.h"

namespace itera {

struct Variant {
    std::string name;
    std::filesystem::path path;
    std::unique_ptr<GenerationEngine> engine;
    std::optional<std::int64_t> run_id;
};

struct Server::Impl {
    ServerOptions options;
    std::vector<Variant> variants;
    HttpFront http;
    std::unique_ptr<ServedLog> log;
    serve_detail::RateLimiter limiter;
    serve_detail::Metrics metrics;
    int port = 0;
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> next_answer{1};
    std::mutex reload_mutex;

    Impl(ServerOptions o, const FrontLimits& limits)
        : options(std::move(o)), http(limits), limiter(options.rate_limit) {}

    /// The variant a request names (empty or "default": the first).
    Variant& variant(const std::string& name, const std::string& field);
    /// Keeps the answer in the run store; its id is the answer's feedback_id.
    std::optional<std::int64_t> record(const Variant& v, const std::string& endpoint,
                                       const InferRequest& r, const GenerateResult& g,
                                       double latency_ms);
    /// POST /infer, /v1/completions and /v1/chat/completions (generation_route.cpp).
    void generate(const httplib::Request& req, httplib::Response& res, Endpoint endpoint);
    void routes();
};

/// Writes `j` as the response body with `status`.
void send_json(httplib::Response& res, int status, const nlohmann::json& j);
/// The error answer: {"error": {"message", "type", "param", "field", "status"}}; `message`
/// is made printable (invalid UTF-8 replaced, long text cut).
void send_error(httplib::Response& res, int status, const std::string& message,
                const std::string& field = {});

}  // namespace itera
