#include "serve/server.h"

#include <httplib.h>
#include <sys/socket.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>

#include "infer/inference_model.h"
#include "serve/engine.h"
#include "store/run_store.h"
#include "util/error.h"
#include "util/log.h"

namespace itera {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

void send_json(httplib::Response& res, int status, const Json& j) {
    res.status = status;
    res.set_content(j.dump(), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message,
                const std::string& field = {}) {
    Json e = {{"message", message}, {"status", status}};
    e["field"] = field.empty() ? Json() : Json(field);
    send_json(res, status, {{"error", e}});
}

struct Variant {
    std::string name;
    std::filesystem::path path;
    std::unique_ptr<GenerationEngine> engine;
    std::optional<std::int64_t> run_id;
};

// Tokens of a streamed answer on their way from the engine to the client.
struct Channel {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<std::string> events;
    std::atomic<bool> client_gone{false};

    void push(std::string e) {
        {
            std::lock_guard lock(mutex);
            events.push_back(std::move(e));
        }
        ready.notify_one();
    }
    bool next(std::string& out) {
        std::unique_lock lock(mutex);
        ready.wait_for(lock, std::chrono::milliseconds(20), [&] { return !events.empty(); });
        if (events.empty()) return false;
        out = std::move(events.front());
        events.pop_front();
        return true;
    }
};

std::string sse(const Json& j) {
    return "data: " + j.dump() + "\n\n";
}

// Per-client token buckets.
class RateLimiter {
public:
    explicit RateLimiter(double per_s) : rate_(per_s), burst_(std::max(1.0, 2 * per_s)) {}
    /// 0 when allowed, else the seconds until a request would be.
    double wait(const std::string& client) {
        if (rate_ <= 0) return 0;
        std::lock_guard lock(mutex_);
        const auto now = Clock::now();
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
        if (buckets_.size() > 100000) buckets_.clear();  // bounded memory under a flood
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

class Metrics {
public:
    void request(const std::string& endpoint, int status) {
        std::lock_guard lock(mutex_);
        ++total_;
        ++by_endpoint_[endpoint];
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
    Json to_json() const {
        std::lock_guard lock(mutex_);
        std::vector<double> l(latencies_.begin(), latencies_.end());
        std::sort(l.begin(), l.end());
        auto pct = [&](double q) -> Json {
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
                  {"max", l.empty() ? Json() : Json(l.back())}}}};
    }

private:
    mutable std::mutex mutex_;
    Clock::time_point start_ = Clock::now();
    std::int64_t total_ = 0, answered_ = 0, client_errors_ = 0, server_errors_ = 0,
                 rate_limited_ = 0, tokens_ = 0;
    std::map<std::string, std::int64_t> by_endpoint_;
    std::deque<double> latencies_;
};

std::string finish_reason(const GenerateResult& r) {
    return r.stop_reason == "max_tokens" ? "length" : "stop";  // OpenAI's names
}

// httplib 0.11 listens with a backlog of 5 (compiled into Debian's library):
// 32 clients connecting at once overflow it and wait a second for the SYN
// retry. Listening again on the bound socket widens the queue.
class HttpServer : public httplib::Server {
public:
    void widen_backlog(int n) { ::listen(svr_sock_.load(), n); }
};

}  // namespace

struct Server::Impl {
    ServerOptions options;
    std::vector<Variant> variants;
    HttpServer http;
    std::mutex store_mutex;
    std::unique_ptr<RunStore> store;
    RateLimiter limiter;
    Metrics metrics;
    int port = 0;
    std::atomic<bool> stopping{false};
    std::mutex reload_mutex;

    explicit Impl(ServerOptions o) : options(std::move(o)), limiter(options.rate_limit) {}

    Variant& variant(const std::string& name, const std::string& field) {
        if (name.empty() || name == "default") return variants.front();
        for (auto& v : variants)
            if (v.name == name) return v;
        std::string known;
        for (const auto& v : variants) known += (known.empty() ? "" : ", ") + v.name;
        throw RequestError(field,
                           "unknown " + field + " \"" + name + "\"; this server has: " + known);
    }

    std::optional<std::int64_t> record(const Variant& v, const std::string& endpoint,
                                       const InferRequest& r, const GenerateResult& g,
                                       double latency_ms) {
        ServedRecord rec;
        rec.run_id = v.run_id;
        rec.model_path = v.path.string();
        rec.variant = v.name;
        rec.endpoint = endpoint;
        rec.prompt = r.prompt;
        const auto& s = r.settings.sampling;
        rec.settings = Json{{"max_tokens", r.settings.max_tokens},
                            {"temperature", s.temperature},
                            {"top_k", s.top_k},
                            {"top_p", s.top_p},
                            {"min_p", s.min_p},
                            {"repeat_penalty", s.repeat_penalty},
                            {"seed", s.seed},
                            {"stop", r.settings.stop},
                            {"stream", r.stream},
                            {"stop_reason", g.stop_reason}}
                           .dump();
        rec.output = g.text;
        rec.tokens = static_cast<std::int64_t>(g.ids.size());
        rec.latency_ms = latency_ms;
        try {
            std::lock_guard lock(store_mutex);
            return store->add_served(rec);
        } catch (const std::exception& e) {
            log_line("warning", std::string("serve: could not record an answer: ") + e.what());
            return std::nullopt;
        }
    }

    Json answer(const std::string& endpoint, const Variant& v, const InferRequest& r,
                const GenerateResult& g, double latency_ms, std::optional<std::int64_t> id) {
        if (endpoint == "infer")
            return {{"output_text", g.text},
                    {"input_text", r.prompt},
                    {"tokens_generated", g.ids.size()},
                    {"latency_ms", latency_ms},
                    {"model_variant", v.name},
                    {"feedback_id", id ? Json(*id) : Json()},
                    {"stop_reason", g.stop_reason}};
        const auto prompt_tokens = g.prompt_ids.size();
        return {{"id", "cmpl-" + (id ? std::to_string(*id) : std::string("unrecorded"))},
                {"object", "text_completion"},
                {"created", std::time(nullptr)},
                {"model", v.name},
                {"choices", Json::array({{{"text", g.text},
                                          {"index", 0},
                                          {"logprobs", nullptr},
                                          {"finish_reason", finish_reason(g)}}})},
                {"usage",
                 {{"prompt_tokens", prompt_tokens},
                  {"completion_tokens", g.ids.size()},
                  {"total_tokens", prompt_tokens + g.ids.size()}}},
                {"feedback_id", id ? Json(*id) : Json()}};
    }

    void generate(const httplib::Request& req, httplib::Response& res,
                  const std::string& endpoint) {
        const auto t0 = Clock::now();
        auto r = endpoint == "infer" ? parse_infer(req.body, options.limits)
                                     : parse_completion(req.body, options.limits);
        auto& v = variant(r.variant, endpoint == "infer" ? "model_variant" : "model");
        if (!r.stream) {
            auto g = v.engine->submit(r.prompt, r.settings).get();
            const double latency = ms_since(t0);
            const auto id = record(v, endpoint, r, g, latency);
            metrics.answered(latency, static_cast<std::int64_t>(g.ids.size()));
            send_json(res, 200, answer(endpoint, v, r, g, latency, id));
            return;
        }
        auto channel = std::make_shared<Channel>();
        const bool openai = endpoint != "infer";
        const std::string created = std::to_string(std::time(nullptr));
        auto future =
            v.engine
                ->submit(r.prompt, r.settings,
                         [channel, openai, name = v.name](const TokenEvent& ev) {
                             if (channel->client_gone) return false;
                             if (ev.piece.empty()) return true;
                             if (openai)
                                 channel->push(sse(
                                     {{"object", "text_completion"},
                                      {"model", name},
                                      {"choices", Json::array({{{"text", ev.piece},
                                                                {"index", 0},
                                                                {"logprobs", nullptr},
                                                                {"finish_reason", nullptr}}})}}));
                             else
                                 channel->push(sse(
                                     {{"token", ev.piece}, {"index", ev.index}, {"id", ev.id}}));
                             return true;
                         })
                .share();
        res.set_header("Cache-Control", "no-cache");
        res.set_chunked_content_provider(
            "text/event-stream",
            [this, channel, future, endpoint, r, t0, &v](std::size_t, httplib::DataSink& sink) {
                std::string event;
                if (channel->next(event)) {
                    if (!sink.write(event.data(), event.size())) {
                        channel->client_gone = true;
                        return false;
                    }
                    return true;
                }
                if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
                    return true;             // called again
                if (channel->next(event)) {  // a last token pushed just before the end
                    sink.write(event.data(), event.size());
                    return true;
                }
                const auto& g = future.get();
                const double latency = ms_since(t0);
                const auto id = record(v, endpoint, r, g, latency);
                metrics.answered(latency, static_cast<std::int64_t>(g.ids.size()));
                auto last = answer(endpoint, v, r, g, latency, id);
                std::string tail = endpoint == "infer" ? "event: done\n" + sse(last)
                                                       : sse(last) + "data: [DONE]\n\n";
                sink.write(tail.data(), tail.size());
                sink.done();
                return true;
            },
            [channel](bool success) {
                if (!success) channel->client_gone = true;
            });
    }

    void feedback(const httplib::Request& req, httplib::Response& res) {
        const auto f = parse_feedback(req.body);
        FeedbackRecord rec;
        rec.served_id = f.feedback_id;
        rec.rating = f.user_rating;
        rec.correctness = f.correctness;
        rec.comments = f.comments;
        std::int64_t id = 0;
        {
            std::lock_guard lock(store_mutex);
            if (!store->find_served(f.feedback_id))
                throw RequestError("feedback_id",
                                   "no answer with feedback_id " + std::to_string(f.feedback_id),
                                   404);
            id = store->add_feedback(rec);
        }
        send_json(res, 200, {{"status", "stored"}, {"id", id}, {"feedback_id", f.feedback_id}});
    }

    Json models_json() {
        Json list = Json::array();
        for (const auto& v : variants) {
            const auto model = v.engine->model();
            std::error_code ec;
            const auto bytes = std::filesystem::file_size(v.path, ec);
            auto q = model->metadata().count("quantization") ? model->metadata().at("quantization")
                                                             : std::string("none");
            list.push_back({{"variant", v.name},
                            {"path", v.path.string()},
                            {"bytes", ec ? Json() : Json(bytes)},
                            {"quantized", q != "none"},
                            {"run_id", v.run_id ? Json(*v.run_id) : Json()},
                            {"config", Json::parse(model->config().to_json())}});
        }
        return {{"default", variants.front().name}, {"models", list}};
    }

    // Wraps a handler: errors become JSON answers naming the field at fault.
    template <class F>
    httplib::Server::Handler guarded(const std::string& endpoint, F f) {
        return [this, endpoint, f](const httplib::Request& req, httplib::Response& res) {
            try {
                if (stopping) {
                    send_error(res, 503, "the server is shutting down");
                } else {
                    f(req, res);
                }
            } catch (const RequestError& e) {
                send_error(res, e.status(), e.what(), e.field());
            } catch (const Error& e) {  // e.g. an engine shutting down
                send_error(res, 503, e.what());
            } catch (const std::exception& e) {
                log_line("error", "serve: " + endpoint + ": " + e.what());
                send_error(res, 500, std::string("internal error: ") + e.what());
            }
            metrics.request(endpoint, res.status);
        };
    }

    void routes() {
        http.Post("/infer",
                  guarded("infer", [this](const auto& q, auto& s) { generate(q, s, "infer"); }));
        http.Post("/v1/completions", guarded("completions", [this](const auto& q, auto& s) {
                      generate(q, s, "completions");
                  }));
        http.Post("/feedback",
                  guarded("feedback", [this](const auto& q, auto& s) { feedback(q, s); }));
        http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
            send_json(res, stopping ? 503 : 200,
                      {{"status", stopping ? "stopping" : "ok"}, {"models", variants.size()}});
            metrics.request("health", res.status);
        });
        http.Get("/models", guarded("models", [this](const auto&, auto& s) {
                     send_json(s, 200, models_json());
                 }));
        http.Get("/metrics", guarded("metrics", [this](const auto&, auto& s) {
                     auto j = metrics.to_json();
                     Json engines = Json::object();
                     double busy = 0;
                     std::int64_t tokens = 0;
                     for (const auto& v : variants) {
                         const auto st = v.engine->stats();
                         engines[v.name] = {{"active", st.active},
                                            {"queued", st.queued},
                                            {"completed", st.completed},
                                            {"tokens", st.generated_tokens},
                                            {"busy_s", st.busy_seconds}};
                         busy += st.busy_seconds;
                         tokens += st.generated_tokens;
                     }
                     j["engines"] = engines;
                     j["tokens_per_s_busy"] = busy > 0 ? double(tokens) / busy : 0.0;
                     j["models"] = models_json()["models"];
                     send_json(s, 200, j);
                 }));
        http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
            const double wait = limiter.wait(req.remote_addr);
            if (wait <= 0) return httplib::Server::HandlerResponse::Unhandled;
            res.set_header("Retry-After", std::to_string(static_cast<int>(std::ceil(wait))));
            send_error(res, 429,
                       "too many requests from " + req.remote_addr + "; the limit is " +
                           std::to_string(options.rate_limit) + " per second");
            metrics.request("rate_limited", 429);
            return httplib::Server::HandlerResponse::Handled;
        });
        http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) return;
            if (res.status == 413)
                send_error(
                    res, 413,
                    "the body is larger than " + std::to_string(options.max_body_bytes) + " bytes");
            else if (res.status == 404)
                send_error(res, 404, "no endpoint " + req.method + " " + req.path);
            else
                send_error(res, res.status, "bad request");
        });
    }
};

Server::Server(std::vector<ServedModel> models, ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
    auto& o = impl_->options;
    if (models.empty()) throw Error("serve: no model to serve");
    if (o.max_batch < 1 || o.max_batch > 1024)
        throw Error("--max-batch must be in 1..1024, got " + std::to_string(o.max_batch));
    if (o.threads < 1 || o.threads > 256) throw Error("--threads must be in 1..256");
    if (!(o.rate_limit >= 0)) throw Error("--rate-limit must be >= 0 (0 = off)");
    impl_->store = std::make_unique<RunStore>(o.db.empty() ? RunStore::default_path() : o.db);
    for (const auto& m : models) {
        for (const auto& v : impl_->variants)
            if (v.name == m.variant)
                throw Error("serve: two models are named \"" + m.variant + "\"");
        Variant v;
        v.name = m.variant;
        v.path = std::filesystem::absolute(m.path);
        auto model = InferenceModel::load(m.path);
        model->require_tokenizer();
        if (auto it = model->metadata().find("run_id"); it != model->metadata().end()) {
            try {
                const auto id = std::stoll(it->second);
                if (impl_->store->find_run(id)) v.run_id = id;
            } catch (const std::exception&) {  // not a number: no run
            }
        }
        v.engine = std::make_unique<GenerationEngine>(model, o.max_batch, o.threads);
        impl_->variants.push_back(std::move(v));
    }
    auto& http = impl_->http;
    const int pool = std::max(4, o.http_threads);
    http.new_task_queue = [pool] {
        return new httplib::ThreadPool(static_cast<std::size_t>(pool));
    };
    http.set_payload_max_length(o.max_body_bytes);
    http.set_read_timeout(o.io_timeout_s, 0);
    http.set_write_timeout(o.io_timeout_s, 0);
    http.set_keep_alive_timeout(5);
    http.set_tcp_nodelay(true);  // small answers on a kept-alive connection: no Nagle delay
    http.set_keep_alive_max_count(10000);  // httplib's default closes every 5th request
    impl_->routes();
}

Server::~Server() {
    stop();
    for (auto& v : impl_->variants) v.engine->shutdown();
}

int Server::bind() {
    auto& o = impl_->options;
    if (o.port == 0) {
        impl_->port = impl_->http.bind_to_any_port(o.host);
        if (impl_->port <= 0) throw Error("serve: cannot bind to " + o.host + " on any port");
    } else {
        if (o.port < 1 || o.port > 65535)
            throw Error("--port must be in 1..65535, got " + std::to_string(o.port));
        if (!impl_->http.bind_to_port(o.host, o.port))
            throw Error("serve: cannot listen on " + o.host + ":" + std::to_string(o.port) +
                        " (in use, or not an address of this machine)");
        impl_->port = o.port;
    }
    impl_->http.widen_backlog(1024);
    return impl_->port;
}

int Server::port() const {
    return impl_->port;
}

void Server::run() {
    impl_->http.listen_after_bind();  // returns after stop(), once in-flight requests are done
    for (auto& v : impl_->variants) v.engine->shutdown();
}

void Server::stop() {
    impl_->stopping = true;
    impl_->http.stop();
}

std::string Server::reload() {
    std::lock_guard lock(impl_->reload_mutex);
    std::string out;
    for (auto& v : impl_->variants) {
        try {
            v.engine->replace_model(InferenceModel::load(v.path));
            out += v.name + ": reloaded " + v.path.string() + "\n";
        } catch (const std::exception& e) {
            out += v.name + ": kept the running model (" + e.what() + ")\n";
        }
    }
    return out;
}

}  // namespace itera
