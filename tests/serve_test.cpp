// The server: the engine gives each request the text generate() gives it
// alone, whatever shares the batch; request bodies are checked field by field;
// every endpoint over real HTTP on 127.0.0.1, streaming equal to the plain
// answer, feedback stored, each bad-input class answered with its status and
// field, concurrent clients, a rate limit, and a shutdown that finishes the
// request in flight.

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <future>
#include <thread>

#include "infer/generation_engine.h"
#include "infer/inference_model.h"
#include "model/checkpoint.h"
#include "serve/server.h"
#include "store/run_store.h"
#include "temp_dir.h"
#include "util/error.h"

namespace itera {
namespace {

using Json = nlohmann::json;

std::filesystem::path write_model(const std::filesystem::path& dir, std::uint64_t seed,
                                  const std::string& name = "m.safetensors") {
    IteraModel m(ModelConfig::preset("micro", 259));
    m->initialize(seed);
    const auto path = dir / name;
    save_checkpoint(m, make_byte_tokenizer()->serialize(), path);
    return path;
}

GenerateSettings sampled(std::uint64_t seed, std::int64_t tokens) {
    GenerateSettings s;
    s.max_tokens = tokens;
    s.stop_at_eos = false;
    s.sampling.seed = seed;
    s.sampling.temperature = 1.0;
    return s;
}

TEST(Engine, ARequestGetsTheTextItGetsAloneWhateverSharesTheBatch) {
    testing::TempDir dir;
    auto model = InferenceModel::load(write_model(dir.path(), 1));
    const std::vector<std::string> prompts = {
        "Call me", "Ishmael", "", "Some years ago", "never mind", "how long", "precisely"};
    std::vector<GenerateResult> alone;
    for (std::size_t i = 0; i < prompts.size(); ++i)
        alone.push_back(generate(*model, prompts[i], sampled(10 + i, 20 + 7 * i)));
    GenerationEngine engine(model, 3, 1);  // fewer slots than requests: they join as others end
    std::vector<std::future<GenerateResult>> futures;
    for (std::size_t i = 0; i < prompts.size(); ++i)
        futures.push_back(engine.submit(prompts[i], sampled(10 + i, 20 + 7 * i)));
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        const auto r = futures[i].get();
        EXPECT_EQ(r.ids, alone[i].ids) << i;
        EXPECT_EQ(r.text, alone[i].text) << i;
        EXPECT_EQ(r.stop_reason, "max_tokens");
    }
    const auto st = engine.stats();
    EXPECT_EQ(st.completed, static_cast<std::int64_t>(prompts.size()));
    EXPECT_EQ(st.active, 0);
}

TEST(Engine, CancelsOnRequestAndSwitchesModelsWithoutDroppingOne) {
    testing::TempDir dir;
    auto first = InferenceModel::load(write_model(dir.path(), 1, "a.safetensors"));
    auto second = InferenceModel::load(write_model(dir.path(), 2, "b.safetensors"));
    GenerationEngine engine(first, 4, 1);
    int seen = 0;
    auto cancelled =
        engine.submit("Call me", sampled(1, 100), [&](const TokenEvent&) { return ++seen < 5; });
    EXPECT_EQ(cancelled.get().stop_reason, "cancelled");
    EXPECT_EQ(seen, 5);

    std::promise<void> started;
    bool told = false;
    auto running = engine.submit("Call me", sampled(2, 300), [&](const TokenEvent&) {
        if (!told) started.set_value();
        told = true;
        return true;
    });
    started.get_future().wait();  // decoding on the first model when the second arrives
    engine.replace_model(second);
    auto later = engine.submit("Call me", sampled(2, 30));
    EXPECT_EQ(running.get().ids, generate(*first, "Call me", sampled(2, 300)).ids);
    EXPECT_EQ(later.get().ids, generate(*second, "Call me", sampled(2, 30)).ids);
    EXPECT_THROW(engine.submit("x", sampled(1, 0)), Error);  // max_tokens 0: refused at once
    engine.shutdown();
    EXPECT_THROW(engine.submit("x", sampled(1, 5)), Error);
}

TEST(Requests, NameTheFieldAtFault) {
    RequestLimits limits;
    limits.max_tokens = 500;
    auto field_of = [&](const std::string& body) {
        try {
            parse_infer(body, limits);
        } catch (const RequestError& e) {
            return e.field() + "|" + e.what();
        }
        return std::string("accepted");
    };
    EXPECT_EQ(field_of("{\"input_text\": \"hi\"").substr(0, 5), "body|");  // malformed JSON
    EXPECT_EQ(field_of("[1]").substr(0, 5), "body|");
    EXPECT_EQ(field_of("{}").substr(0, 11), "input_text|");
    EXPECT_EQ(field_of(R"({"input_text": 3})").substr(0, 11), "input_text|");
    EXPECT_EQ(field_of(R"({"input_text": "a", "temperature": "hot"})").substr(0, 12),
              "temperature|");
    EXPECT_EQ(field_of(R"({"input_text": "a", "temperature": -1})").substr(0, 12), "temperature|");
    EXPECT_EQ(field_of(R"({"input_text": "a", "max_length": 501})").substr(0, 11), "max_length|");
    EXPECT_EQ(field_of(R"({"input_text": "a", "max_length": 2.5})").substr(0, 11), "max_length|");
    EXPECT_EQ(field_of(R"({"input_text": "a", "top_p": 0})").substr(0, 6), "top_p|");
    EXPECT_EQ(field_of(R"({"input_text": "a", "stop": [1]})").substr(0, 5), "stop|");
    EXPECT_EQ(field_of(R"({"input_text": "a", "stream": "yes"})").substr(0, 7), "stream|");
    EXPECT_EQ(field_of(R"({"input_text": "a", "temprature": 1})").substr(0, 11), "temprature|");
    EXPECT_EQ(field_of("{\"input_text\": \"\xff\"}").substr(0, 5), "body|");  // JSON rejects it
    EXPECT_EQ(field_of(R"({"input_text": "a", "max_length": 5, "seed": 3, "stop": "x"})"),
              "accepted");
    const auto r = parse_infer(R"({"input_text": "a", "max_length": 5, "top_k": 7})", limits);
    EXPECT_EQ(r.settings.max_tokens, 5);
    EXPECT_EQ(r.settings.sampling.top_k, 7);

    // A request that names no length gets the default, within the server's cap.
    RequestLimits tight = limits;
    tight.max_tokens = 8;
    EXPECT_EQ(parse_infer(R"({"input_text": "a"})", limits).settings.max_tokens, 100);
    EXPECT_EQ(parse_infer(R"({"input_text": "a"})", tight).settings.max_tokens, 8);
    EXPECT_EQ(parse_completion(R"({"prompt": "a"})", limits).settings.max_tokens, 16);
    EXPECT_EQ(parse_completion(R"({"prompt": "a"})", tight).settings.max_tokens, 8);
    EXPECT_EQ(parse_chat_completion(R"({"messages": [{"role": "user", "content": "a"}]})", tight)
                  .settings.max_tokens,
              8);

    const auto c =
        parse_completion(R"({"prompt": ["x"], "max_tokens": 3, "model": "int8"})", limits);
    EXPECT_EQ(c.prompt, "x");
    EXPECT_EQ(c.variant, "int8");
    EXPECT_EQ(c.settings.sampling.temperature, 1.0);
    EXPECT_THROW(parse_completion(R"({"prompt": "x", "n": 2})", limits), RequestError);
    EXPECT_THROW(parse_feedback(R"({"feedback_id": 1, "user_rating": 6})"), RequestError);
    EXPECT_EQ(
        parse_feedback(R"({"feedback_id": 1, "user_rating": 4, "correctness": true})").correctness,
        "true");
}

class Serving : public ::testing::Test {
protected:
    void start(ServerOptions o = {}) {
        o.host = "127.0.0.1";
        o.port = 0;
        o.db = dir_.path() / "runs.sqlite";
        o.max_batch = 4;
        server_ = std::make_unique<Server>(
            std::vector<ServedModel>{{"fp32", write_model(dir_.path(), 5)},
                                     {"other", write_model(dir_.path(), 6, "o.safetensors")}},
            o);
        port_ = server_->bind();
        thread_ = std::thread([this] { server_->run(); });
    }
    void TearDown() override {
        if (server_) server_->stop();
        if (thread_.joinable()) thread_.join();
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", port_);
        c.set_read_timeout(60, 0);
        return c;
    }
    Json post(const std::string& path, const std::string& body, int expect) {
        auto res = client().Post(path, body, "application/json");
        EXPECT_TRUE(res) << path;
        if (!res) return {};
        EXPECT_EQ(res->status, expect) << path << " " << body << " -> " << res->body;
        return Json::parse(res->body);
    }

    testing::TempDir dir_;
    std::unique_ptr<Server> server_;
    std::thread thread_;
    int port_ = 0;
};

TEST_F(Serving, AnswersEveryEndpoint) {
    start();
    auto c = client();
    auto health = c.Get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);

    const std::string ask =
        R"({"input_text": "Call me", "max_length": 12, "temperature": 0.9, "seed": 4})";
    auto a = post("/infer", ask, 200);
    for (const char* key : {"output_text", "input_text", "tokens_generated", "latency_ms",
                            "model_variant", "feedback_id"})
        EXPECT_TRUE(a.contains(key)) << key;
    EXPECT_EQ(a["input_text"], "Call me");
    EXPECT_EQ(a["model_variant"], "fp32");
    auto again = post("/infer", ask, 200);
    EXPECT_EQ(again["output_text"], a["output_text"]);  // same seed, same text
    auto other = post("/infer", R"({"input_text": "Call me", "max_length": 12, "temperature": 0.9,
                                    "seed": 4, "model_variant": "other"})",
                      200);
    EXPECT_EQ(other["model_variant"], "other");

    // Streaming: the events add up to the plain answer.
    auto streamed = c.Post("/infer", R"({"input_text": "Call me", "max_length": 12,
                                         "temperature": 0.9, "seed": 4, "stream": true})",
                           "application/json");
    ASSERT_TRUE(streamed);
    EXPECT_EQ(streamed->get_header_value("Content-Type"), "text/event-stream");
    std::string text, final_event;
    std::size_t pos = 0;
    while ((pos = streamed->body.find("data: ", pos)) != std::string::npos) {
        const auto end = streamed->body.find("\n\n", pos);
        const auto j = Json::parse(streamed->body.substr(pos + 6, end - pos - 6));
        if (j.contains("token")) text += j["token"].get<std::string>();
        if (j.contains("output_text")) final_event = j["output_text"];
        pos = end;
    }
    EXPECT_EQ(text, a["output_text"].get<std::string>());
    EXPECT_EQ(final_event, text);

    // OpenAI's completions shape, plain and streamed.
    auto comp = post("/v1/completions", R"({"prompt": "Call me", "max_tokens": 5})", 200);
    EXPECT_EQ(comp["object"], "text_completion");
    EXPECT_EQ(comp["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(comp["usage"]["completion_tokens"], 5);
    auto comp_stream =
        c.Post("/v1/completions", R"({"prompt": "Call me", "max_tokens": 5, "stream": true})",
               "application/json");
    ASSERT_TRUE(comp_stream);
    EXPECT_NE(comp_stream->body.find("data: [DONE]"), std::string::npos);

    // Feedback on the first answer is stored with it.
    auto fb = post("/feedback",
                   Json{{"feedback_id", a["feedback_id"]},
                        {"user_rating", 5},
                        {"correctness", true},
                        {"comments", "good"}}
                       .dump(),
                   200);
    EXPECT_EQ(fb["status"], "stored");
    {
        RunStore store(dir_.path() / "runs.sqlite");
        const auto all = store.feedback(4);
        ASSERT_EQ(all.size(), 1u);
        EXPECT_EQ(all[0].served.prompt, "Call me");
        EXPECT_EQ(all[0].served.output, a["output_text"].get<std::string>());
        EXPECT_EQ(all[0].served.variant, "fp32");
        EXPECT_NE(all[0].served.settings.find("\"seed\":4"), std::string::npos);
        EXPECT_EQ(all[0].comments, "good");
    }

    auto models = c.Get("/models");
    ASSERT_TRUE(models);
    EXPECT_EQ(Json::parse(models->body)["models"].size(), 2u);
    auto metrics = c.Get("/metrics");
    ASSERT_TRUE(metrics);
    const auto m = Json::parse(metrics->body);
    EXPECT_GE(m["requests"]["total"].get<int>(), 7);
    EXPECT_TRUE(m["latency_ms"].contains("p99"));
    EXPECT_GT(m["tokens_generated"].get<int>(), 30);
}

TEST_F(Serving, AnswersBadRequestsWithTheirStatusAndField) {
    ServerOptions o;
    o.max_body_bytes = 2048;
    start(o);
    auto field = [&](const std::string& path, const std::string& body, int status) {
        const auto j = post(path, body, status);
        return j.contains("error") && j["error"]["field"].is_string()
                   ? j["error"]["field"].get<std::string>()
                   : std::string();
    };
    EXPECT_EQ(field("/infer", "{not json", 400), "body");
    EXPECT_EQ(field("/infer", R"({"input_text": "a", "top_k": "many"})", 400), "top_k");
    EXPECT_EQ(field("/infer", R"({"input_text": "a", "max_length": 0})", 400), "max_length");
    EXPECT_EQ(field("/infer", R"({"input_text": "a", "model_variant": "int3"})", 400),
              "model_variant");
    EXPECT_EQ(field("/v1/completions", R"({"max_tokens": 3})", 400), "prompt");
    EXPECT_EQ(field("/feedback", R"({"feedback_id": 999, "user_rating": 3})", 404), "feedback_id");
    EXPECT_EQ(field("/feedback", R"({"feedback_id": 1, "user_rating": 0})", 400), "user_rating");
    auto big = client().Post("/infer", std::string(4096, ' '), "application/json");
    ASSERT_TRUE(big);
    EXPECT_EQ(big->status, 413);
    EXPECT_NE(big->body.find("larger than 2048"), std::string::npos) << big->body;
    auto none = client().Get("/nothing");
    ASSERT_TRUE(none);
    EXPECT_EQ(none->status, 404);
    EXPECT_NE(none->body.find("no endpoint"), std::string::npos);
}

TEST_F(Serving, ConcurrentClientsGetTheirOwnAnswers) {
    start();
    const int n = 8;
    std::vector<std::string> expected(n);
    for (int i = 0; i < n; ++i)
        expected[i] = post(
            "/infer", Json{{"input_text", "Call me"}, {"max_length", 15 + i}, {"seed", i}}.dump(),
            200)["output_text"];
    std::vector<std::thread> threads;
    std::vector<std::string> got(n);
    for (int i = 0; i < n; ++i)
        threads.emplace_back([&, i] {
            auto res = client().Post(
                "/infer",
                Json{{"input_text", "Call me"}, {"max_length", 15 + i}, {"seed", i}}.dump(),
                "application/json");
            if (res && res->status == 200) got[i] = Json::parse(res->body)["output_text"];
        });
    for (auto& t : threads) t.join();
    for (int i = 0; i < n; ++i) EXPECT_EQ(got[i], expected[i]) << i;
}

TEST_F(Serving, ASlowClientDoesNotHoldUpOthers) {
    start();
    // A client that sends half a request and then nothing.
    const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(sock, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const std::string half = "POST /infer HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n{\"in";
    ASSERT_EQ(::send(sock, half.data(), half.size(), 0), static_cast<ssize_t>(half.size()));
    auto j = post("/infer", R"({"input_text": "Call me", "max_length": 10})", 200);
    EXPECT_GT(j["tokens_generated"].get<int>(), 0);
    // Answered while the silent client is still connected and waited for (its
    // connection neither answered nor closed): nobody queued behind it.
    char byte = 0;
    const auto got = ::recv(sock, &byte, 1, MSG_DONTWAIT);
    EXPECT_EQ(got, -1);
    EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << errno;
    ::close(sock);
}

TEST_F(Serving, LimitsTheRatePerClient) {
    ServerOptions o;
    o.rate_limit = 2;  // burst 4
    start(o);
    int limited = 0;
    for (int i = 0; i < 8; ++i) {
        auto res = client().Get("/health");
        ASSERT_TRUE(res);
        if (res->status == 429) {
            ++limited;
            EXPECT_FALSE(res->get_header_value("Retry-After").empty());
        }
    }
    EXPECT_GE(limited, 3);
}

TEST_F(Serving, ShutdownFinishesTheRequestInFlight) {
    ServerOptions o;
    o.limits.max_tokens = 200000;
    start(o);
    // A streamed request: once its first tokens arrived it is decoding, and
    // the server is stopped while it still has thousands of tokens to go.
    std::promise<void> first_tokens;
    std::atomic<bool> signalled{false};
    std::string body;
    auto pending = std::async(std::launch::async, [&] {
        httplib::Request req;
        req.method = "POST";
        req.path = "/v1/completions";
        req.body = R"({"prompt": "Call me", "max_tokens": 4000, "temperature": 0, "stream": true})";
        req.set_header("Content-Type", "application/json");
        req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
            body.append(data, n);
            if (!signalled.exchange(true)) first_tokens.set_value();
            return true;
        };
        return client().send(req);
    });
    ASSERT_EQ(first_tokens.get_future().wait_for(std::chrono::seconds(60)),
              std::future_status::ready);
    server_->stop();
    auto res = pending.get();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    // Every token after the stop was still sent, and the stream was closed properly.
    EXPECT_NE(body.find("data: [DONE]"), std::string::npos) << body.substr(0, 300);
    EXPECT_NE(body.find("\"finish_reason\":\"length\""), std::string::npos)
        << "the request did not run to its length after stop()";
    thread_.join();
    auto after = client().Get("/health");
    EXPECT_FALSE(after);  // nothing listens any more
}

}  // namespace
}  // namespace itera
