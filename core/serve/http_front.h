#pragma once
// The server's front door: what happens to a connection before a route sees
// its request. cpp-httplib gives every connection a worker thread and times
// out each read separately, so a client trickling one byte a second holds a
// worker for ever, a missing Content-Length waits for the timeout, and
// pipelined requests after the first are lost. HttpFront replaces its
// connection loop:
//
// - Every request (headers and body) is read into a buffer under one deadline
//   before httplib parses it: a client that does not finish in time gets 408;
//   a POST without Content-Length 411, with an invalid one 400, with one over
//   the body limit 413; a header block over its limit 431 — each at once.
// - Connections are admitted by count: at most `max_connections` in all and
//   `max_per_client` per client address. A connection beyond the caps, or one
//   that finds every worker busy, is served by a small overflow lane that
//   answers GET /health and GET /metrics and 503 to anything else, at once.
// - Requests pipelined on one connection are answered in order.
//
// Used by serve/server.cpp only; the caller installs routes on it as on any
// httplib::Server.

#include <httplib.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace itera {

struct FrontLimits {
    int workers = 64;               ///< threads serving admitted connections
    int overflow_workers = 4;       ///< threads answering over-cap connections
    int max_connections = 48;       ///< admitted connections at once, all clients
    int max_per_client = 16;        ///< admitted connections at once, one client address
    double request_timeout_s = 10;  ///< to send a request's headers and body
    double keep_alive_s = 5;        ///< idle time between requests on one connection
    double write_timeout_s = 10;    ///< for each write of an answer
    std::size_t max_header_bytes = 16384;
    std::size_t max_body_bytes = 1 << 20;
    std::size_t keep_alive_max = 10000;  ///< requests per connection
};

/// Counts of connections the front turned away, for /metrics.
struct FrontStats {
    std::int64_t admitted = 0;
    std::int64_t over_capacity = 0;  ///< served by the overflow lane (503 or health)
    std::int64_t dropped = 0;        ///< closed at once: even the overflow lane was full
    std::int64_t timed_out = 0;      ///< 408
    std::int64_t refused = 0;        ///< 400 / 411 / 413 / 431 before routing
    int open = 0;                    ///< admitted connections now
};

class HttpFront : public httplib::Server {
public:
    explicit HttpFront(const FrontLimits& limits);

    /// httplib listens with a backlog of 5 (compiled into Debian's library);
    /// listening again on the bound socket widens the queue.
    void widen_backlog(int n);
    FrontStats stats() const;
    /// Waits until no admitted request is being answered (a stream included),
    /// at most `seconds`; true when none is. httplib's stop() cuts a chunked
    /// answer short, so a graceful stop drains first (new requests meanwhile
    /// get 503 from the routes).
    bool drain(double seconds);
    /// Called for each request the front answers itself (status, reason).
    std::function<void(int status, const std::string& reason)> on_refused;

private:
    struct Answering;
    bool process_and_close_socket(socket_t sock) override;
    void serve_admitted(socket_t sock, const std::string& client);
    void serve_overflow(socket_t sock);

    bool admit(const std::string& client);
    void release(const std::string& client);
    void refuse(socket_t sock, int status, const std::string& message);

    FrontLimits limits_;
    mutable std::mutex mutex_;  ///< guards the counts below
    std::map<std::string, int> per_client_;
    FrontStats stats_;
    int answering_ = 0;  ///< requests read and not yet answered in full (guarded by mutex_)
    std::condition_variable answered_;
};

/// The JSON error body every refusal carries:
/// {"error": {"message": ..., "status": ..., "field": null}}.
std::string front_error_json(int status, const std::string& message);

}  // namespace itera
