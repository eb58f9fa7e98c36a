#pragma once
// `itera serve`: an HTTP/1.1 inference server (cpp-httplib behind our own
// front door, serve/http_front.h) over the continuous-batching engine.
// Endpoints (docs/serving.md): POST /infer (the original project's request),
// POST /v1/completions and /v1/chat/completions (OpenAI's shapes), all
// optionally streamed as server-sent events; POST /feedback; GET /health,
// /metrics, /models, /v1/models. Every answer is recorded in the run store
// with its prompt, output, model and settings; its id is the answer's
// feedback_id. No request can end the process: every handler answers every
// failure as JSON (4xx for the client's, 500 for ours, logged).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "serve/requests.h"

namespace itera {

struct ServedModel {
    std::string variant;  ///< the name requests use in model_variant / model
    std::filesystem::path path;
};

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8000;                       ///< 0: any free port (see Server::port)
    int threads = 1;                       ///< decoder threads per model
    std::int64_t max_batch = 8;            ///< sequences decoded together per model
    std::size_t max_body_bytes = 1 << 20;  ///< larger bodies get 413
    RequestLimits limits;
    double rate_limit = 50;   ///< requests/s per client address (burst: twice that); 0 = off
    int http_threads = 64;    ///< connections served at once
    int max_connections = 0;  ///< admitted at once; 0 = three quarters of http_threads
    int max_connections_per_client = 16;  ///< admitted at once from one client address
    double request_timeout_s = 10;        ///< to send a whole request (headers and body), else 408
    int io_timeout_s = 10;  ///< a client that reads nothing of an answer this long is dropped
    double drain_timeout_s = 120;  ///< stop() waits this long for answers in flight to finish
    std::filesystem::path db;      ///< the run store that keeps answers and feedback (required)
};

class Server {
public:
    /// Loads every model (the first is the default variant); errors name the file.
    Server(std::vector<ServedModel> models, ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds the address; throws naming host:port when it cannot. Returns the port.
    int bind();
    int port() const;
    /// Serves until stop(); returns once in-flight requests have been answered.
    void run();
    /// Stops accepting; run() then finishes what is in flight. Thread-safe.
    void stop();
    /// Re-reads every model's file and swaps it in without dropping a request;
    /// returns one line per model (what was loaded, or why it was kept).
    std::string reload();

    /// The implementation (serve/server_impl.h), shared by the route files.
    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace itera
