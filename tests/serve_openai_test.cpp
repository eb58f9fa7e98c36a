// OpenAI's API as clients use it: streamed chunks add up to the plain answer
// (text once, never repeated at the end), every chunk has one id and created,
// usage on request, logprobs with top-N alternatives, echo scoring a prompt
// (max_tokens 0) exactly as the model scores it, token-id prompts, chat
// completions in their template, /v1/models, and the penalties.

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <thread>

#include "infer/inference_model.h"
#include "infer/score.h"
#include "model/checkpoint.h"
#include "serve/openai_answers.h"
#include "serve/requests.h"
#include "serve/server.h"
#include "temp_dir.h"

namespace itera {
namespace {

using Json = nlohmann::json;

std::vector<Json> events_of(const std::string& body) {
    std::vector<Json> out;
    std::size_t pos = 0;
    while ((pos = body.find("data: ", pos)) != std::string::npos) {
        const auto end = body.find("\n\n", pos);
        const auto text = body.substr(pos + 6, end - pos - 6);
        if (text != "[DONE]") out.push_back(Json::parse(text));
        pos = end;
    }
    return out;
}

class OpenAi : public ::testing::Test {
protected:
    void SetUp() override {
        IteraModel m(ModelConfig::preset("micro", 259));
        m->initialize(5);
        model_path_ = dir_.path() / "m.safetensors";
        save_checkpoint(m, make_byte_tokenizer()->serialize(), model_path_);
        ServerOptions o;
        o.host = "127.0.0.1";
        o.port = 0;
        o.db = dir_.path() / "runs.sqlite";
        server_ = std::make_unique<Server>(std::vector<ServedModel>{{"tiny", model_path_}}, o);
        port_ = server_->bind();
        thread_ = std::thread([this] { server_->run(); });
    }
    void TearDown() override {
        server_->stop();
        thread_.join();
    }
    Json post(const std::string& path, const Json& body, int expect = 200) {
        httplib::Client c("127.0.0.1", port_);
        c.set_read_timeout(60, 0);
        auto r = c.Post(path, body.dump(), "application/json");
        EXPECT_TRUE(r);
        if (!r) return {};
        EXPECT_EQ(r->status, expect) << body.dump() << " -> " << r->body;
        last_body_ = r->body;
        return Json::parse(r->body, nullptr, false);
    }

    testing::TempDir dir_;
    std::filesystem::path model_path_;
    std::unique_ptr<Server> server_;
    std::thread thread_;
    int port_ = 0;
    std::string last_body_;
};

TEST_F(OpenAi, StreamedChunksAddUpToThePlainAnswerOnce) {
    const Json ask = {{"prompt", "Call me"}, {"max_tokens", 24}, {"temperature", 0.8}, {"seed", 3}};
    const auto plain = post("/v1/completions", ask);
    const auto text = plain["choices"][0]["text"].get<std::string>();
    auto streamed = ask;
    streamed["stream"] = true;
    streamed["stream_options"] = {{"include_usage", true}};
    post("/v1/completions", streamed);
    const auto events = events_of(last_body_);
    ASSERT_GE(events.size(), 3u);
    std::string joined;
    for (const auto& e : events) {
        EXPECT_EQ(e["id"], events.front()["id"]);
        EXPECT_EQ(e["created"], events.front()["created"]);
        EXPECT_EQ(e["object"], "text_completion");
        if (!e["choices"].empty()) joined += e["choices"][0]["text"].get<std::string>();
    }
    EXPECT_EQ(joined, text);  // a client that concatenates shows the text once
    const auto& last_content = events[events.size() - 2];
    EXPECT_EQ(last_content["choices"][0]["finish_reason"], plain["choices"][0]["finish_reason"]);
    const auto& usage = events.back();
    EXPECT_TRUE(usage["choices"].empty());
    EXPECT_EQ(usage["usage"], plain["usage"]);
    EXPECT_NE(last_body_.rfind("data: [DONE]\n\n"), std::string::npos);
}

TEST_F(OpenAi, LogprobsGiveTheChosenTokenAndTopAlternatives) {
    const auto a =
        post("/v1/completions",
             {{"prompt", "Call me"}, {"max_tokens", 6}, {"temperature", 0}, {"logprobs", 3}});
    const auto& lp = a["choices"][0]["logprobs"];
    ASSERT_EQ(lp["tokens"].size(), 6u);
    ASSERT_EQ(lp["token_logprobs"].size(), 6u);
    std::string text;
    for (std::size_t i = 0; i < 6; ++i) {
        const auto& top = lp["top_logprobs"][i];
        // Keyed by text, as the legacy format is: two byte tokens that both
        // decode to U+FFFD are one entry, so up to 3.
        EXPECT_GE(top.size(), 1u) << i;
        EXPECT_LE(top.size(), 3u) << i;
        // Greedy: the chosen token is the most likely, so its logprob is the top one.
        double best = -1e30;
        for (const auto& [k, v] : top.items()) best = std::max(best, v.get<double>());
        EXPECT_NEAR(lp["token_logprobs"][i].get<double>(), best, 1e-5) << i;
        EXPECT_EQ(lp["text_offset"][i].get<std::size_t>(), text.size());
        text += lp["tokens"][i].get<std::string>();
    }
    EXPECT_EQ(text, a["choices"][0]["text"].get<std::string>());
    post("/v1/completions", {{"prompt", "x"}, {"logprobs", 21}}, 400);
}

TEST_F(OpenAi, EchoScoresThePromptAsTheModelDoes) {
    const std::string prompt = "Call me Ishmael.";
    const auto a = post("/v1/completions",
                        {{"prompt", prompt}, {"max_tokens", 0}, {"echo", true}, {"logprobs", 1}});
    EXPECT_EQ(a["choices"][0]["text"], prompt);
    const auto& lp = a["choices"][0]["logprobs"];
    // The reference: the model's own scores after the document start.
    const auto model = InferenceModel::load(model_path_);
    const auto& tok = model->require_tokenizer();
    std::vector<std::int32_t> ids = {tok.eos_id()};
    for (auto id : tok.encode(prompt)) ids.push_back(id);
    const auto s = score_ids(*model, ids, 1);
    ASSERT_EQ(lp["token_logprobs"].size(), ids.size() - 1);
    for (std::size_t i = 0; i + 1 < ids.size(); ++i)
        EXPECT_NEAR(lp["token_logprobs"][i].get<double>(), s.logprobs[i], 1e-5) << i;
    EXPECT_EQ(a["usage"]["completion_tokens"], 0);
    post("/v1/completions", {{"prompt", prompt}, {"max_tokens", 0}}, 400);  // 0 only with echo
}

TEST_F(OpenAi, TokenIdPromptsAreTheTokensOfTheText) {
    const auto model = InferenceModel::load(model_path_);
    const auto ids = model->require_tokenizer().encode("Call me");
    const Json as_ids(ids);
    const auto by_text =
        post("/v1/completions", {{"prompt", "Call me"}, {"max_tokens", 8}, {"temperature", 0}});
    const auto by_ids =
        post("/v1/completions", {{"prompt", as_ids}, {"max_tokens", 8}, {"temperature", 0}});
    EXPECT_EQ(by_ids["choices"][0]["text"], by_text["choices"][0]["text"]);
    const auto nested =
        post("/v1/completions",
             {{"prompt", Json::array({as_ids})}, {"max_tokens", 8}, {"temperature", 0}});
    EXPECT_EQ(nested["choices"][0]["text"], by_text["choices"][0]["text"]);
    const auto bad = post("/v1/completions", {{"prompt", {1, 999999}}}, 400);
    EXPECT_EQ(bad["error"]["param"], "prompt");
}

TEST_F(OpenAi, ChatCompletionsUseThePlainTemplate) {
    const Json messages = {{{"role", "system"}, {"content", "Be brief."}},
                           {{"role", "user"}, {"content", "Call me"}}};
    const auto a = post("/v1/chat/completions", {{"messages", messages},
                                                 {"max_tokens", 10},
                                                 {"temperature", 0},
                                                 {"logprobs", true},
                                                 {"top_logprobs", 2}});
    EXPECT_EQ(a["object"], "chat.completion");
    EXPECT_EQ(a["choices"][0]["message"]["role"], "assistant");
    const auto content = a["choices"][0]["message"]["content"].get<std::string>();
    // The same as a plain completion of the template's text (with its stops).
    const auto plain =
        post("/v1/completions", {{"prompt", "System: Be brief.\n\nUser: Call me\n\nAssistant:"},
                                 {"max_tokens", 10},
                                 {"temperature", 0},
                                 {"stop", chat_stops()}});
    EXPECT_EQ(content, plain["choices"][0]["text"].get<std::string>());
    EXPECT_EQ(a["choices"][0]["logprobs"]["content"].size(), a["usage"]["completion_tokens"]);
    // Streamed: a role chunk, content deltas that add up, a finish chunk.
    post("/v1/chat/completions",
         {{"messages", messages}, {"max_tokens", 10}, {"temperature", 0}, {"stream", true}});
    const auto events = events_of(last_body_);
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events.front()["choices"][0]["delta"]["role"], "assistant");
    std::string joined;
    for (const auto& e : events) {
        EXPECT_EQ(e["object"], "chat.completion.chunk");
        if (e["choices"][0]["delta"].contains("content"))
            joined += e["choices"][0]["delta"]["content"].get<std::string>();
    }
    EXPECT_EQ(joined, content);
    EXPECT_FALSE(events.back()["choices"][0]["finish_reason"].is_null());
    post("/v1/chat/completions", {{"messages", Json::array()}}, 400);
    post("/v1/chat/completions", {{"messages", {{{"role", "robot"}, {"content", "x"}}}}}, 400);
    post("/v1/chat/completions", {{"messages", messages}, {"functions", Json::array()}}, 400);
}

TEST_F(OpenAi, ListsModelsAndRefusesUnknownFields) {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get("/v1/models");
    ASSERT_TRUE(r);
    const auto j = Json::parse(r->body);
    EXPECT_EQ(j["object"], "list");
    ASSERT_EQ(j["data"].size(), 1u);
    EXPECT_EQ(j["data"][0]["id"], "tiny");
    EXPECT_EQ(j["data"][0]["object"], "model");
    const auto bad = post("/v1/completions", {{"prompt", "x"}, {"temprature", 1}}, 400);
    EXPECT_EQ(bad["error"]["param"], "temprature");
    EXPECT_EQ(bad["error"]["type"], "invalid_request_error");
}

TEST(Penalties, PresenceAndFrequencyLowerTheLogitsOfSampledTokensOnly) {
    // Logits all 0 but token 2 at 1: greedy picks 2; with a presence penalty
    // of 2 once it was sampled, its logit is -1 and token 0 wins. The prompt's
    // tokens are not penalised.
    std::vector<float> logits = {0, 0, 1, 0};
    auto s = SamplingSettings::greedy();
    s.presence_penalty = 2;
    SamplerChain chain(s);
    Rng rng(0);
    std::vector<std::int32_t> history = {2, 2};                     // the prompt: two 2s
    EXPECT_EQ(chain.sample(logits.data(), 4, history, rng, 2), 2);  // nothing sampled yet
    history.push_back(2);
    EXPECT_EQ(chain.sample(logits.data(), 4, history, rng, 2), 0);  // 2 was sampled once
    auto f = SamplingSettings::greedy();
    f.frequency_penalty = 0.4;  // per occurrence: 1 - 0.4·3 < 0 after three samples
    SamplerChain freq(f);
    std::vector<std::int32_t> h = {2, 2, 2};
    EXPECT_EQ(freq.sample(logits.data(), 4, h, rng, 1), 2);  // two sampled: 1 - 0.8 > 0
    EXPECT_EQ(freq.sample(logits.data(), 4, h, rng, 0), 0);  // three: 1 - 1.2 < 0
}

}  // namespace
}  // namespace itera
