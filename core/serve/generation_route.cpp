// The generating endpoints: POST /infer (the original project's shape),
// /v1/completions and /v1/chat/completions (OpenAI's), plain or streamed,
// with logprobs and echo.

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>

#include "infer/score.h"
#include "infer/text_stream.h"
#include "serve/openai_answers.h"
#include "serve/server_impl.h"
#include "util/error.h"
#include "util/log.h"

namespace itera {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string finish_reason(const std::string& stop_reason) {
    return stop_reason == "max_tokens" ? "length" : "stop";  // OpenAI's names
}

const char* endpoint_name(Endpoint e) {
    return e == Endpoint::Infer ? "infer" : e == Endpoint::Completion ? "completions" : "chat";
}

// Streamed text on its way from the engine's thread to the client's.
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

std::vector<std::pair<std::string, double>> alternatives(const std::vector<Alternative>& top) {
    std::vector<std::pair<std::string, double>> out;
    for (const auto& a : top) out.emplace_back(a.text, a.logprob);
    return out;
}

// The prompt's tokens with their log-probabilities (echo): each given the
// tokens before it, the first given the document start when the model reads
// one (else it has none: null).
std::vector<TokenLogprob> prompt_logprobs(const InferenceModel& model,
                                          const std::vector<std::int32_t>& prompt,
                                          bool document_start, int top_n) {
    const Tokenizer& tok = model.require_tokenizer();
    std::vector<std::int32_t> tokens;
    if (document_start) tokens.push_back(tok.eos_id());
    tokens.insert(tokens.end(), prompt.begin(), prompt.end());
    std::vector<TokenLogprob> out;
    if (tokens.empty()) return out;
    const auto s = score_ids(model, tokens, static_cast<std::size_t>(top_n));
    const std::size_t first = document_start ? 1 : 0;
    for (std::size_t i = first; i < tokens.size(); ++i) {
        TokenLogprob t;
        t.text = s.pieces[i];
        if (i > 0) {
            t.logprob = s.logprobs[i - 1];
            t.top = alternatives(s.top[i - 1]);
        }
        out.push_back(std::move(t));
    }
    return out;
}

// The generated tokens with their log-probabilities.
std::vector<TokenLogprob> generated_logprobs(const Tokenizer& tok, const GenerateResult& g,
                                             bool document_start) {
    std::vector<std::int32_t> context;
    if (document_start) context.push_back(tok.eos_id());
    context.insert(context.end(), g.prompt_ids.begin(), g.prompt_ids.end());
    std::vector<TokenLogprob> out;
    for (std::size_t i = 0; i < g.ids.size(); ++i) {
        TokenLogprob t;
        t.text = token_piece(tok, context, g.ids[i]);
        t.logprob = std::log(std::max(g.probs[i], 1e-30f));
        if (i < g.top.size()) t.top = alternatives(g.top[i]);
        context.push_back(g.ids[i]);
        out.push_back(std::move(t));
    }
    return out;
}

}  // namespace

// One request's facts, shared by its plain answer and the stream's last
// chunks (the stream outlives the handler: nothing here refers to its stack).
struct Answering {
    Server::Impl* server = nullptr;
    Endpoint endpoint = Endpoint::Infer;
    InferRequest request;
    Variant* variant = nullptr;
    std::shared_ptr<const InferenceModel> model;
    std::vector<std::int32_t> prompt_ids;
    std::vector<TokenLogprob> echo_logprobs;
    std::string echo_text;
    std::string id;
    std::int64_t created = 0;
    Clock::time_point started;

    bool chat() const { return endpoint == Endpoint::Chat; }

    /// Records the answer and counts it; its latency and feedback id.
    std::pair<double, std::optional<std::int64_t>> finish(const GenerateResult& g) const {
        const double latency = ms_since(started);
        const auto feedback =
            server->record(*variant, endpoint_name(endpoint), request, g, latency);
        server->metrics.answered(latency, static_cast<std::int64_t>(g.ids.size()));
        return {latency, feedback};
    }

    /// The whole answer, once generation ended.
    Json answer(const GenerateResult& g, double latency,
                std::optional<std::int64_t> feedback) const {
        if (endpoint == Endpoint::Infer)
            return {{"output_text", g.text},
                    {"input_text", request.prompt},
                    {"tokens_generated", g.ids.size()},
                    {"latency_ms", latency},
                    {"model_variant", variant->name},
                    {"feedback_id", feedback ? Json(*feedback) : Json()},
                    {"stop_reason", g.stop_reason}};
        AnswerInfo a;
        a.id = id;
        a.created = created;
        a.model = variant->name;
        a.text = echo_text + g.text;
        a.finish_reason = finish_reason(g.stop_reason);
        a.prompt_tokens = static_cast<std::int64_t>(prompt_ids.size());
        a.completion_tokens = static_cast<std::int64_t>(g.ids.size());
        a.feedback_id = feedback;
        if (request.logprobs >= 0) {
            auto lp = echo_logprobs;
            const auto gen =
                generated_logprobs(model->require_tokenizer(), g, request.settings.document_start);
            lp.insert(lp.end(), gen.begin(), gen.end());
            a.logprobs = std::move(lp);
        }
        return chat() ? chat_json(a) : completion_json(a);
    }

    /// The stream's end: the last chunk, usage when asked, [DONE].
    std::string tail(const GenerateResult& g) const {
        const auto [latency, feedback] = finish(g);
        if (endpoint == Endpoint::Infer)
            return "event: done\n" + sse_event(answer(g, latency, feedback));
        const auto reason = finish_reason(g.stop_reason);
        auto last = chat() ? chat_chunk(id, created, variant->name, std::nullopt, std::nullopt,
                                        nullptr, reason)
                           : completion_chunk(id, created, variant->name, "", nullptr, reason);
        last["feedback_id"] = feedback ? Json(*feedback) : Json();
        std::string out = sse_event(last);
        if (request.include_usage)
            out += sse_event(usage_chunk(chat() ? "chat.completion.chunk" : "text_completion", id,
                                         created, variant->name,
                                         static_cast<std::int64_t>(prompt_ids.size()),
                                         static_cast<std::int64_t>(g.ids.size())));
        return out + "data: [DONE]\n\n";
    }
};

void Server::Impl::generate(const httplib::Request& req, httplib::Response& res,
                            Endpoint endpoint) {
    auto st = std::make_shared<Answering>();
    st->server = this;
    st->endpoint = endpoint;
    st->started = Clock::now();
    auto& r = st->request;
    r = endpoint == Endpoint::Infer        ? parse_infer(req.body, options.limits)
        : endpoint == Endpoint::Completion ? parse_completion(req.body, options.limits)
                                           : parse_chat_completion(req.body, options.limits);
    st->variant = &variant(r.variant, endpoint == Endpoint::Infer ? "model_variant" : "model");
    st->model = st->variant->engine->model();
    const Tokenizer& tok = st->model->require_tokenizer();
    if (r.prompt_is_ids) {
        const auto vocab = st->model->config().vocab_size;
        for (auto id : r.prompt_ids)
            if (id >= vocab)
                throw RequestError("prompt", "token id " + std::to_string(id) +
                                                 " is outside the model's vocabulary (0.." +
                                                 std::to_string(vocab - 1) + ")");
        r.prompt = tok.decode(r.prompt_ids);  // for the record and for echo
    }
    st->prompt_ids = r.prompt_is_ids ? r.prompt_ids : tok.encode(r.prompt);
    if (r.logprobs >= 0) r.settings.top_alternatives = static_cast<std::size_t>(r.logprobs);
    if (r.echo && r.logprobs >= 0)
        st->echo_logprobs =
            prompt_logprobs(*st->model, st->prompt_ids, r.settings.document_start, r.logprobs);
    if (r.echo) st->echo_text = r.prompt;
    st->id = std::string(st->chat() ? "chatcmpl-" : "cmpl-") +
             std::to_string(static_cast<long long>(std::time(nullptr))) + "-" +
             std::to_string(next_answer++);
    st->created = static_cast<std::int64_t>(std::time(nullptr));
    const auto prompt = r.prompt_is_ids ? Prompt::of_ids(r.prompt_ids) : Prompt(r.prompt);
    const bool score_only = r.echo && r.settings.max_tokens == 0;
    auto scored = [&] {
        GenerateResult g;
        g.prompt_ids = st->prompt_ids;
        g.stop_reason = "max_tokens";
        return g;
    };

    if (!r.stream) {
        const auto g =
            score_only ? scored() : st->variant->engine->submit(prompt, r.settings).get();
        const auto [latency, feedback] = st->finish(g);
        send_json(res, 200, st->answer(g, latency, feedback));
        return;
    }

    // Streamed: each chunk carries only what is new.
    auto channel = std::make_shared<Channel>();
    if (st->chat())
        channel->push(sse_event(chat_chunk(st->id, st->created, st->variant->name, "assistant", "",
                                           nullptr, std::nullopt)));
    if (endpoint == Endpoint::Completion && r.echo)
        channel->push(sse_event(completion_chunk(
            st->id, st->created, st->variant->name, st->echo_text,
            r.logprobs >= 0 ? completion_logprobs(st->echo_logprobs, 0) : Json(), std::nullopt)));
    std::shared_future<GenerateResult> future;
    if (score_only) {
        std::promise<GenerateResult> done;
        done.set_value(scored());
        future = done.get_future().share();
    } else {
        auto offset = std::make_shared<std::size_t>(st->echo_text.size());
        future =
            st->variant->engine
                ->submit(prompt, r.settings,
                         [channel, st, offset](const TokenEvent& ev) {
                             if (channel->client_gone) return false;
                             const int top_n = st->request.logprobs;
                             if (ev.piece.empty() && top_n < 0) return true;
                             if (st->endpoint == Endpoint::Infer) {
                                 channel->push(sse_event(
                                     {{"token", ev.piece}, {"index", ev.index}, {"id", ev.id}}));
                                 return true;
                             }
                             Json lp;
                             if (top_n >= 0) {
                                 TokenLogprob t{ev.piece, std::log(std::max(ev.p, 1e-30f)),
                                                alternatives(ev.top)};
                                 lp = st->chat() ? chat_logprobs({t})
                                                 : completion_logprobs({t}, *offset);
                             }
                             *offset += ev.piece.size();
                             const auto& name = st->variant->name;
                             channel->push(sse_event(
                                 st->chat() ? chat_chunk(st->id, st->created, name, std::nullopt,
                                                         ev.piece, lp, std::nullopt)
                                            : completion_chunk(st->id, st->created, name, ev.piece,
                                                               lp, std::nullopt)));
                             return true;
                         })
                .share();
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [channel, future, st](std::size_t, httplib::DataSink& sink) {
            try {
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
                const auto tail = st->tail(future.get());
                sink.write(tail.data(), tail.size());
                sink.done();
                return true;
            } catch (const std::exception& e) {
                // An answer that fails half way cannot change its status: it
                // ends with an error event the client can read.
                log_line("error", std::string("serve: a streamed answer failed: ") + e.what());
                const auto event = sse_event(
                    {{"error", {{"message", quoted(e.what())}, {"type", "server_error"}}}});
                sink.write(event.data(), event.size());
                sink.done();
                return true;
            }
        },
        [channel](bool success) {
            if (!success) channel->client_gone = true;
        });
}

}  // namespace itera
