#include "serve/server.h"

#include <sys/socket.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "infer/inference_model.h"
#include "serve/openai_answers.h"
#include "serve/server_impl.h"
#include "util/error.h"
#include "util/log.h"

namespace itera {
namespace {

using Json = nlohmann::json;

const char* error_type(int status) {
    if (status == 429) return "rate_limit_exceeded";
    if (status >= 500) return "server_error";
    return "invalid_request_error";
}

std::int64_t file_time(const std::filesystem::path& path) {
    std::error_code ec;
    const auto t = std::filesystem::last_write_time(path, ec);
    if (ec) return 0;
    const auto since = t - std::filesystem::file_time_type::clock::now() +
                       std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration_cast<std::chrono::seconds>(since).count();
}

}  // namespace

void send_json(httplib::Response& res, int status, const Json& j) {
    res.status = status;
    res.set_content(json_text(j), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message,
                const std::string& field) {
    const auto f = field.empty() ? Json() : Json(quoted(field, 64));
    send_json(res, status,
              {{"error",
                {{"message", quoted(message, 600)},
                 {"type", error_type(status)},
                 {"param", f},
                 {"code", nullptr},
                 {"field", f},
                 {"status", status}}}});
}

Variant& Server::Impl::variant(const std::string& name, const std::string& field) {
    if (name.empty() || name == "default") return variants.front();
    for (auto& v : variants)
        if (v.name == name) return v;
    std::string known;
    for (const auto& v : variants) known += (known.empty() ? "" : ", ") + v.name;
    throw RequestError(
        field, "unknown " + field + " \"" + quoted(name, 64) + "\"; this server has: " + known);
}

std::optional<std::int64_t> Server::Impl::record(const Variant& v, const std::string& endpoint,
                                                 const InferRequest& r, const GenerateResult& g,
                                                 double latency_ms) {
    ServedRecord rec;
    rec.run_id = v.run_id;
    rec.model_path = v.path.string();
    rec.variant = v.name;
    rec.endpoint = endpoint;
    rec.prompt = r.prompt;
    const auto& s = r.settings.sampling;
    rec.settings = json_text({{"max_tokens", r.settings.max_tokens},
                              {"temperature", s.temperature},
                              {"top_k", s.top_k},
                              {"top_p", s.top_p},
                              {"min_p", s.min_p},
                              {"repeat_penalty", s.repeat_penalty},
                              {"presence_penalty", s.presence_penalty},
                              {"frequency_penalty", s.frequency_penalty},
                              {"seed", s.seed},
                              {"stop", r.settings.stop},
                              {"stream", r.stream},
                              {"echo", r.echo},
                              {"logprobs", r.logprobs},
                              {"stop_reason", g.stop_reason}});
    rec.output = g.text;
    rec.tokens = static_cast<std::int64_t>(g.ids.size());
    rec.latency_ms = latency_ms;
    try {
        return log->add_served(rec);
    } catch (const std::exception& e) {
        log_line("warning", std::string("serve: could not record an answer: ") + e.what());
        return std::nullopt;
    }
}

namespace {

// Wraps a handler: every failure becomes a JSON answer (the client's naming
// the field at fault; ours a logged 500). Nothing escapes to httplib.
template <class F>
httplib::Server::Handler guarded(Server::Impl* impl, const std::string& endpoint, F f) {
    return [impl, endpoint, f](const httplib::Request& req, httplib::Response& res) {
        try {
            if (impl->stopping) {
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
        } catch (...) {
            log_line("error", "serve: " + endpoint + ": an unknown exception");
            send_error(res, 500, "internal error");
        }
        impl->metrics.request(endpoint, res.status);
    };
}

Json models_json(Server::Impl& s) {
    Json list = Json::array();
    for (const auto& v : s.variants) {
        const auto model = v.engine->model();
        std::error_code ec;
        const auto bytes = std::filesystem::file_size(v.path, ec);
        const auto& meta = model->metadata();
        const auto q = meta.count("quantization") ? meta.at("quantization") : std::string("none");
        list.push_back({{"variant", v.name},
                        {"path", v.path.string()},
                        {"bytes", ec ? Json() : Json(bytes)},
                        {"quantized", q != "none"},
                        {"run_id", v.run_id ? Json(*v.run_id) : Json()},
                        {"config", Json::parse(model->config().to_json())}});
    }
    return {{"default", s.variants.front().name}, {"models", list}};
}

}  // namespace

void Server::Impl::routes() {
    http.Post("/infer", guarded(this, "infer", [this](const auto& q, auto& s) {
                  generate(q, s, Endpoint::Infer);
              }));
    http.Post("/v1/completions", guarded(this, "completions", [this](const auto& q, auto& s) {
                  generate(q, s, Endpoint::Completion);
              }));
    http.Post("/v1/chat/completions", guarded(this, "chat", [this](const auto& q, auto& s) {
                  generate(q, s, Endpoint::Chat);
              }));
    http.Post(
        "/feedback", guarded(this, "feedback", [this](const auto& q, auto& res) {
            const auto f = parse_feedback(q.body);
            if (!log->has_served(f.feedback_id))
                throw RequestError("feedback_id",
                                   "no answer with feedback_id " + std::to_string(f.feedback_id),
                                   404);
            FeedbackRecord rec;
            rec.served_id = f.feedback_id;
            rec.rating = f.user_rating;
            rec.correctness = f.correctness;
            rec.comments = f.comments;
            const auto id = log->add_feedback(rec);
            send_json(res, 200, {{"status", "stored"}, {"id", id}, {"feedback_id", f.feedback_id}});
        }));
    http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
        send_json(res, stopping ? 503 : 200,
                  {{"status", stopping ? "stopping" : "ok"}, {"models", variants.size()}});
        metrics.request("health", res.status);
    });
    http.Get("/models", guarded(this, "models", [this](const auto&, auto& s) {
                 send_json(s, 200, models_json(*this));
             }));
    http.Get("/v1/models", guarded(this, "models", [this](const auto&, auto& s) {
                 std::vector<std::pair<std::string, std::int64_t>> list;
                 for (const auto& v : variants) list.emplace_back(v.name, file_time(v.path));
                 send_json(s, 200, models_list(list));
             }));
    http.Get("/metrics", guarded(this, "metrics", [this](const auto&, auto& s) {
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
                 const auto front = http.stats();
                 j["connections"] = {{"open", front.open},
                                     {"admitted", front.admitted},
                                     {"over_capacity", front.over_capacity},
                                     {"dropped", front.dropped},
                                     {"timed_out", front.timed_out},
                                     {"refused", front.refused}};
                 j["engines"] = engines;
                 j["tokens_per_s_busy"] = busy > 0 ? double(tokens) / busy : 0.0;
                 j["models"] = models_json(*this)["models"];
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
    // Whatever httplib answers itself (no route, a body over the limit) is
    // JSON too; the path is quoted, never echoed raw.
    http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
        try {
            if (!res.body.empty()) return;
            if (res.status == 413)
                send_error(
                    res, 413,
                    "the body is larger than " + std::to_string(options.max_body_bytes) + " bytes");
            else if (res.status == 404)
                send_error(res, 404,
                           "no endpoint " + quoted(req.method, 16) + " " + quoted(req.path, 200));
            else
                send_error(res, res.status, "bad request");
            metrics.request("error", res.status);
        } catch (...) {
            res.body = front_error_json(res.status, "bad request");
        }
    });
    http.set_exception_handler(
        [this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "an unknown exception";
            try {
                if (ep) std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            log_line("error", "serve: an exception reached httplib: " + what);
            send_error(res, 500, "internal error: " + what);
            metrics.request("error", 500);
        });
    http.on_refused = [this](int status, const std::string&) { metrics.request("front", status); };
}

Server::Server(std::vector<ServedModel> models, ServerOptions options) {
    auto& o = options;
    if (models.empty()) throw Error("serve: no model to serve");
    if (o.max_batch < 1 || o.max_batch > 1024)
        throw Error("--max-batch must be in 1..1024, got " + std::to_string(o.max_batch));
    if (o.threads < 1 || o.threads > 256) throw Error("--threads must be in 1..256");
    if (!(o.rate_limit >= 0)) throw Error("--rate-limit must be >= 0 (0 = off)");
    if (!(o.request_timeout_s > 0 && o.request_timeout_s <= 3600))
        throw Error("--request-timeout must be in (0, 3600] seconds");
    if (o.max_connections_per_client < 1)
        throw Error("--max-connections-per-client must be at least 1");
    if (o.db.empty()) throw Error("serve: no run store to record answers in");
    FrontLimits limits;
    limits.workers = std::max(4, o.http_threads);
    limits.max_connections =
        o.max_connections > 0 ? o.max_connections : std::max(2, limits.workers * 3 / 4);
    limits.max_per_client = o.max_connections_per_client;
    limits.request_timeout_s = o.request_timeout_s;
    limits.write_timeout_s = o.io_timeout_s;
    limits.max_body_bytes = o.max_body_bytes;
    impl_ = std::make_unique<Impl>(std::move(options), limits);
    impl_->log = std::make_unique<ServedLog>(impl_->options.db);
    for (const auto& m : models) {
        for (const auto& v : impl_->variants)
            if (v.name == m.variant)
                throw Error("serve: two models are named \"" + m.variant + "\"");
        Variant v;
        v.name = m.variant;
        v.path = std::filesystem::absolute(m.path);
        auto model = InferenceModel::load(m.path);
        model->require_tokenizer();
        v.run_id = impl_->log->model_run(model->metadata());
        v.engine = std::make_unique<GenerationEngine>(model, impl_->options.max_batch,
                                                      impl_->options.threads);
        impl_->variants.push_back(std::move(v));
    }
    auto& http = impl_->http;
    http.set_keep_alive_timeout(5);
    http.set_tcp_nodelay(true);  // small answers on a kept-alive connection: no Nagle delay
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
    impl_->stopping = true;  // from here on the routes answer 503
    if (!impl_->http.drain(impl_->options.drain_timeout_s))
        log_line("warning", "serve: answers still in flight after " +
                                std::to_string(impl_->options.drain_timeout_s) +
                                " s are cut short");
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
