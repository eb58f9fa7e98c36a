// `itera serve`: the HTTP inference server; `itera bench serve`: its load test
// against a server started in the same process.

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "args.h"
#include "checkpoint_arg.h"
#include "commands.h"
#include "serve/serve_bench.h"
#include "serve/server.h"
#include "train_progress.h"
#include "util/error.h"
#include "util/threads.h"
#include "workflows/adapt.h"

namespace itera::cli {
namespace {

constexpr const char* kServeUsage =
    R"(usage: itera serve CHECKPOINT [--host 127.0.0.1] [--port 8000] [--threads N]
                   [--max-batch B] [--model NAME=CHECKPOINT]... [options]

Serves a checkpoint (FP32 or any compressed file; run:ID for a stored run's
best) over HTTP/1.1. Concurrent requests decode together (continuous
batching); a request's text depends only on its prompt, settings and seed.

  POST /infer           {"input_text": "...", "max_length": 100, "temperature": 0.8, "top_k": 40,
                         "top_p", "min_p", "repeat_penalty", "seed", "stop", "stream", "model_variant"}
                        -> output_text, input_text, tokens_generated, latency_ms, model_variant,
                           feedback_id (stream: server-sent events, one per token, then "done")
  POST /v1/completions  OpenAI's completions: prompt (text or token ids), max_tokens,
                        temperature, top_p, presence/frequency_penalty, seed, stop, stream,
                        stream_options.include_usage, logprobs (top-N per token), echo, model
  POST /v1/chat/completions
                        OpenAI's chat: messages joined by a plain template (docs/serving.md;
                        the model is a base model, not tuned for chat), logprobs, top_logprobs
  POST /feedback        {"feedback_id": 12, "user_rating": 1..5, "correctness", "comments"}
  GET  /health, /metrics (requests, errors, connections, tokens/s, latency percentiles),
       /models, /v1/models

Every answer is kept in the run store with its prompt, settings and model;
feedback is kept with it (`itera adapt` learns from it). SIGTERM or Ctrl-C
stops accepting and finishes the requests in flight; SIGHUP reloads every
model's file without dropping a request.

  --name NAME            the checkpoint's variant name (default: its file name without .safetensors)
  --model NAME=CKPT      serve another checkpoint as variant NAME (repeatable; same tokenizer
                         not required)
  --host H  --port P     (127.0.0.1, 8000; port 0 picks a free one and prints it)
  --threads N            decoder threads per model (1)
  --max-batch B          sequences decoded together per model (8)
  --max-body BYTES       larger request bodies get 413 (1048576)
  --max-tokens N         cap on max_length / max_tokens (2048)
  --rate-limit R         requests per second per client address, burst 2R (50; 0 = off)
  --http-threads N       threads serving connections (64)
  --max-connections N    connections admitted at once (default: three quarters of
                         --http-threads); more get 503 at once, /health still answers
  --max-connections-per-client N
                         connections admitted at once from one client address (16)
  --request-timeout S    seconds a client has to send a whole request, headers and
                         body (10); a slower one gets 408
  --db PATH

Examples:
  itera serve run:3
  itera serve m-int8.safetensors --port 8080 --max-batch 16
  itera serve run:3 --name fp32 --model int8=m-int8.safetensors
  curl -s localhost:8000/infer -d '{"input_text": "Call me Ishmael.", "max_length": 40}'
)";

constexpr const char* kBenchServeUsage =
    R"(usage: itera bench serve CHECKPOINT [--clients 1,8,32] [--seconds 20] [--max-tokens 32]
                         [--max-batch 32] [--threads 1] [--soak-minutes M] [--json]

Starts the server on 127.0.0.1 (a free port, a throw-away run store, no rate
limit) in this process and loads it: for each client count, that many clients
send /infer requests back to back for --seconds (each its own seed). Prints
requests/s, generated tokens/s, p50/p99/max latency, errors and this process's
resident memory. --soak-minutes M then runs 8 clients for M minutes, printing
the resident memory each minute.

Examples:
  itera bench serve run:3
  itera bench serve m-int8.safetensors --clients 1,8,32 --seconds 30 --json
  itera bench serve run:3 --clients 8 --seconds 10 --soak-minutes 5
)";

constexpr const char* kAdaptUsage =
    R"(usage: itera adapt CHECKPOINT --from-feedback [--min-rating 4] [--corrections]
                   [--steps 100] [--lr 0.0002] --out FILE [options]

Fine-tunes an FP32 checkpoint on what users liked: every answer served by
`itera serve` and rated --min-rating or better (prompt followed by the answer,
one document each; with --corrections also prompt + corrected answer where the
feedback's correctness is a text). The fine-tune is a run in the store linked
to the checkpoint; validation perplexity and bits/byte on the checkpoint run's
held-out text are measured before (step 0) and after, so a regression shows.
Serve the result, or replace the served file and send the server SIGHUP.

  --from-feedback        the training set comes from the run store's feedback (required)
  --min-rating R         1..5 (4)
  --corrections          also learn corrected answers
  --steps N (100)  --lr LR (0.0002)  --batch-size 8  --seq-len 64  --seed 0
  --out FILE  --threads N  --db PATH  --json

Examples:
  itera adapt run:3 --from-feedback --min-rating 4 --steps 100 --out adapted.safetensors
  itera adapt best.safetensors --from-feedback --corrections --json --out adapted.safetensors
)";

std::atomic<int> g_stop{0}, g_reload{0};

extern "C" void serve_on_stop(int) {
    g_stop = 1;
}
extern "C" void serve_on_reload(int) {
    g_reload = 1;
}

ServedModel named(const std::string& spec, const std::optional<std::string>& db) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
        throw Error("--model \"" + spec + "\": expected NAME=CHECKPOINT");
    return {spec.substr(0, eq), resolve_checkpoint(spec.substr(eq + 1), db)};
}

std::vector<int> int_list(const std::string& text, const char* option) {
    std::vector<int> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        try {
            const int v = std::stoi(text.substr(start, end - start));
            if (v < 1 || v > 1024) throw std::out_of_range("range");
            out.push_back(v);
        } catch (const std::exception&) {
            throw Error(std::string(option) + " \"" + text +
                        "\": expected a comma-separated list of numbers 1..1024");
        }
        start = end + 1;
    }
    return out;
}

}  // namespace

int serve_command(const std::vector<std::string>& args) {
    Args a(args, {"help"}, {"model"});
    if (a.flag("help")) {
        std::cout << kServeUsage;
        return 0;
    }
    const auto db = a.text("db");
    ServerOptions o;
    o.host = a.text_or("host", o.host);
    o.port = static_cast<int>(a.integer_or("port", 8000, 0, 65535));
    o.threads = static_cast<int>(a.integer_or("threads", 1, 1, 256));
    o.max_batch = a.integer_or("max-batch", 8, 1, 1024);
    o.max_body_bytes =
        static_cast<std::size_t>(a.integer_or("max-body", 1 << 20, 256, std::int64_t{1} << 30));
    o.limits.max_tokens = a.integer_or("max-tokens", 2048, 1, 1'000'000);
    if (auto v = a.real("rate-limit", 0, 1e9)) o.rate_limit = *v;
    o.http_threads = static_cast<int>(a.integer_or("http-threads", 64, 4, 4096));
    o.max_connections = static_cast<int>(a.integer_or("max-connections", 0, 0, 4096));
    o.max_connections_per_client =
        static_cast<int>(a.integer_or("max-connections-per-client", 16, 1, 4096));
    if (auto v = a.real("request-timeout", 0.1, 3600)) o.request_timeout_s = *v;
    o.db = workspace_of(db).db_path;
    const auto name = a.text("name");
    const auto extra = a.texts("model");
    a.finish();
    if (a.positional().size() != 1) throw Error("itera serve takes one checkpoint (see --help)");
    const auto path = resolve_checkpoint(a.positional()[0], db);
    std::vector<ServedModel> models = {{name.value_or(path.stem().string()), path}};
    for (const auto& e : extra) models.push_back(named(e, db));
    set_thread_count(o.threads);

    Server server(models, o);
    const int port = server.bind();
    std::signal(SIGINT, serve_on_stop);
    std::signal(SIGTERM, serve_on_stop);
    std::signal(SIGHUP, serve_on_reload);
    std::signal(SIGPIPE, SIG_IGN);  // a client that leaves mid-answer is not our death
    std::printf("serving");
    for (const auto& m : models) std::printf(" %s (%s)", m.variant.c_str(), m.path.c_str());
    std::printf(" on http://%s:%d\n", o.host.c_str(), port);
    std::fflush(stdout);
    std::atomic<bool> done{false};
    std::thread watcher([&] {
        while (!done) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            if (g_reload.exchange(0)) {
                std::printf("%s", server.reload().c_str());
                std::fflush(stdout);
            }
            if (g_stop) {
                std::printf("stopping: finishing the requests in flight\n");
                std::fflush(stdout);
                server.stop();
                return;
            }
        }
    });
    server.run();
    done = true;
    watcher.join();
    std::printf("stopped\n");
    return 0;
}

int adapt_command(const std::vector<std::string>& args) {
    Args a(args, {"help", "json", "from-feedback", "corrections"});
    if (a.flag("help")) {
        std::cout << kAdaptUsage;
        return 0;
    }
    AdaptOptions o;
    const auto db = a.text("db");
    if (!a.flag("from-feedback"))
        throw Error("itera adapt learns from served feedback: give --from-feedback");
    o.min_rating = static_cast<int>(a.integer_or("min-rating", 4, 1, 5));
    o.corrections = a.flag("corrections");
    o.steps = a.integer_or("steps", 100, 1, 1 << 30);
    if (auto v = a.real("lr", 1e-12, 1)) o.lr = *v;
    o.batch_size = a.integer_or("batch-size", 8, 1, 65536);
    o.seq_len = a.integer_or("seq-len", 64, 8, 1 << 20);
    o.seed = static_cast<std::uint64_t>(a.integer_or("seed", 0, 0, INT64_MAX));
    o.threads = static_cast<int>(a.integer_or("threads", 0, 0, 4096));
    const std::filesystem::path out = a.required("out");
    const bool json_out = a.flag("json");
    a.finish();
    if (a.positional().size() != 1) throw Error("itera adapt takes one checkpoint (see --help)");
    const auto source = resolve_checkpoint(a.positional()[0], db);
    if (std::filesystem::exists(out) && std::filesystem::equivalent(out, source))
        throw Error("--out is the checkpoint itself; write the adapted model beside it");
    ProgressPrinter printer("adapt: ");
    if (!json_out) o.progress = std::ref(printer);
    const auto r = adapt_from_feedback(workspace_of(db), source, o, out);
    const double change = 100.0 * (r.after.perplexity / r.before.perplexity - 1.0);
    if (json_out) {
        std::cout << nlohmann::json{{"run_id", r.run_id},
                                    {"documents", r.documents},
                                    {"tokens", r.tokens},
                                    {"steps", r.train.steps},
                                    {"before",
                                     {{"loss", r.before.loss},
                                      {"perplexity", r.before.perplexity},
                                      {"bits_per_byte", r.before.bits_per_byte}}},
                                    {"after",
                                     {{"loss", r.after.loss},
                                      {"perplexity", r.after.perplexity},
                                      {"bits_per_byte", r.after.bits_per_byte}}},
                                    {"delta_ppl_pct", change},
                                    {"out", out.string()}}
                         .dump(2)
                  << "\n";
        return 0;
    }
    std::printf("adapted on %lld rated answers (%lld tokens), %lld steps: run %lld\n",
                (long long)r.documents, (long long)r.tokens, (long long)r.train.steps,
                (long long)r.run_id);
    std::printf(
        "held-out validation: perplexity %.3f -> %.3f (%+.2f%%), bits/byte %.4f -> %.4f%s\n",
        r.before.perplexity, r.after.perplexity, change, r.before.bits_per_byte,
        r.after.bits_per_byte, change > 1 ? "  (a regression on general text)" : "");
    std::printf("written %s\n", out.string().c_str());
    return 0;
}

int serve_bench_command(const std::vector<std::string>& args) {
    Args a(args, {"help", "json"});
    if (a.flag("help")) {
        std::cout << kBenchServeUsage;
        return 0;
    }
    const auto db = a.text("db");
    const auto clients = int_list(a.text_or("clients", "1,8,32"), "--clients");
    ServeLoad load;
    if (auto v = a.real("seconds", 0.5, 86400)) load.seconds = *v;
    load.max_tokens = a.integer_or("max-tokens", 32, 1, 4096);
    const double soak = a.real("soak-minutes", 0, 1440).value_or(0);
    ServerOptions o;
    o.port = 0;
    o.rate_limit = 0;
    o.threads = static_cast<int>(a.integer_or("threads", 1, 1, 256));
    o.max_batch = a.integer_or("max-batch", 32, 1, 1024);
    const bool json_out = a.flag("json");
    a.finish();
    if (a.positional().size() != 1)
        throw Error("itera bench serve takes one checkpoint (see --help)");
    const auto path = resolve_checkpoint(a.positional()[0], db);
    const auto tmp = std::filesystem::temp_directory_path() /
                     ("itera-bench-serve-" + std::to_string(::getpid()));
    std::filesystem::create_directories(tmp);
    o.db = tmp / "runs.sqlite";
    set_thread_count(o.threads);
    std::signal(SIGPIPE, SIG_IGN);

    nlohmann::json rows = nlohmann::json::array();
    {
        Server server({{path.stem().string(), path}}, o);
        const int port = server.bind();
        std::thread http([&] { server.run(); });
        const double rss_start = resident_mb();
        if (!json_out)
            std::printf(
                "%s on 127.0.0.1:%d, max batch %lld, %d decoder thread(s), %lld tokens "
                "per request\n%8s %8s %10s %10s %9s %9s %9s %7s %8s\n",
                path.filename().c_str(), port, (long long)o.max_batch, o.threads,
                (long long)load.max_tokens, "clients", "requests", "req/s", "tokens/s", "p50 ms",
                "p99 ms", "max ms", "errors", "RSS MB");
        auto run = [&](int n, double seconds) {
            load.clients = n;
            load.seconds = seconds;
            const auto r = run_serve_load("127.0.0.1", port, load);
            rows.push_back({{"clients", r.clients},
                            {"seconds", r.seconds},
                            {"requests", r.requests},
                            {"errors", r.errors},
                            {"requests_per_s", r.requests_per_s},
                            {"tokens_per_s", r.tokens_per_s},
                            {"p50_ms", r.p50_ms},
                            {"p99_ms", r.p99_ms},
                            {"max_ms", r.max_ms},
                            {"rss_mb", r.rss_mb},
                            {"first_error", r.first_error}});
            if (!json_out) {
                std::printf("%8d %8lld %10.1f %10.0f %9.1f %9.1f %9.1f %7lld %8.1f\n", r.clients,
                            (long long)r.requests, r.requests_per_s, r.tokens_per_s, r.p50_ms,
                            r.p99_ms, r.max_ms, (long long)r.errors, r.rss_mb);
                if (!r.first_error.empty())
                    std::printf("         first error: %s\n", r.first_error.c_str());
                std::fflush(stdout);
            }
        };
        for (int n : clients) run(n, load.seconds);
        for (int minute = 0; minute < static_cast<int>(std::ceil(soak)); ++minute)
            run(8, std::min(60.0, soak * 60 - minute * 60.0));
        if (!json_out) std::printf("RSS at start %.1f MB\n", rss_start);
        server.stop();
        http.join();
    }
    std::filesystem::remove_all(tmp);
    if (json_out)
        std::cout << nlohmann::json{{"checkpoint", path.string()}, {"runs", rows}}.dump(2) << "\n";
    return 0;
}

}  // namespace itera::cli
