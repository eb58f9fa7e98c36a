// Fuzz target: the HTTP server's request body parsers (serve/requests.h), which
// see every byte a client sends to /infer, /v1/completions,
// /v1/chat/completions and /feedback.
//
// Contract checked: each parser returns or throws itera::RequestError (or
// itera::Error); anything else escapes to libFuzzer (reported as a crash), as
// do ASan/UBSan reports and leaks. A request that parses must hold what the
// parser promises: a valid UTF-8 prompt within the byte limit (or token ids
// within it), max_tokens and every sampling field inside its documented range,
// well-formed stop strings, chat messages with known roles whose template is
// the prompt, a feedback id >= 1 and a rating 1..5. Each body goes through the
// server's default limits and tight ones.
//
// Adding a parser: one `run(...)` line in LLVMFuzzerTestOneInput; a new
// request type gets its own check() overload (until then the generic one
// accepts it unchecked).

#include <cstddef>
#include <cstdint>
#include <string>

#include "data/utf8.h"
#include "fuzz_check.h"
#include "serve/requests.h"
#include "util/error.h"

namespace {

const itera::RequestLimits kLimits[] = {
    itera::RequestLimits{},  // the server's defaults
    // Tight. The token cap stays at 100: parse_infer's default max_tokens (100) is not
    // clamped to a lower cap (`itera serve --max-tokens 50` serves 100), see the README.
    itera::RequestLimits{/*max_tokens=*/100, /*max_prompt_bytes=*/4},
};

bool utf8(const std::string& s) {
    return !itera::first_invalid_utf8(s);
}

void check(const itera::InferRequest& r, const itera::RequestLimits& limits, const char* parser) {
    using itera::Endpoint;
    const auto& s = r.settings;
    if (r.prompt_is_ids) {
        FUZZ_CHECK(r.endpoint == Endpoint::Completion && r.prompt.empty() && !r.prompt_ids.empty(),
                   "%s: a token-id prompt outside /v1/completions or with text", parser);
        FUZZ_CHECK(r.prompt_ids.size() * 4 <= limits.max_prompt_bytes,
                   "%s: %zu prompt ids > limit %zu bytes", parser, r.prompt_ids.size(),
                   limits.max_prompt_bytes);
        for (auto id : r.prompt_ids) FUZZ_CHECK(id >= 0, "%s: prompt id %d", parser, id);
    } else {
        FUZZ_CHECK(r.prompt_ids.empty(), "%s: ids without prompt_is_ids", parser);
        FUZZ_CHECK(utf8(r.prompt), "%s: the prompt is not UTF-8", parser);
        FUZZ_CHECK(r.prompt.size() <= limits.max_prompt_bytes, "%s: prompt of %zu bytes > %zu",
                   parser, r.prompt.size(), limits.max_prompt_bytes);
    }
    const bool scoring = r.endpoint == Endpoint::Completion && r.echo && s.max_tokens == 0;
    FUZZ_CHECK(scoring || (s.max_tokens >= 1 && s.max_tokens <= limits.max_tokens),
               "%s: max_tokens %lld (cap %lld)", parser, static_cast<long long>(s.max_tokens),
               static_cast<long long>(limits.max_tokens));
    const auto& p = s.sampling;
    FUZZ_CHECK(p.temperature >= 0 && p.temperature <= 100, "%s: temperature %g", parser,
               p.temperature);
    FUZZ_CHECK(p.top_k >= 0 && p.top_k <= (1 << 20), "%s: top_k %lld", parser,
               static_cast<long long>(p.top_k));
    FUZZ_CHECK(p.top_p > 0 && p.top_p <= 1, "%s: top_p %g", parser, p.top_p);
    FUZZ_CHECK(p.min_p >= 0 && p.min_p < 1, "%s: min_p %g", parser, p.min_p);
    FUZZ_CHECK(p.repeat_penalty >= 1 && p.repeat_penalty <= 10, "%s: repeat_penalty %g", parser,
               p.repeat_penalty);
    FUZZ_CHECK(p.presence_penalty >= -2 && p.presence_penalty <= 2 && p.frequency_penalty >= -2 &&
                   p.frequency_penalty <= 2,
               "%s: penalties %g %g", parser, p.presence_penalty, p.frequency_penalty);
    FUZZ_CHECK(r.logprobs >= -1 && r.logprobs <= itera::kMaxLogprobs, "%s: logprobs %d", parser,
               r.logprobs);
    FUZZ_CHECK(!r.include_usage || r.stream, "%s: include_usage without stream", parser);
    const std::size_t extra_stops = r.endpoint == Endpoint::Chat ? itera::chat_stops().size() : 0;
    FUZZ_CHECK(s.stop.size() <= 16 + extra_stops, "%s: %zu stop strings", parser, s.stop.size());
    for (const auto& stop : s.stop)
        FUZZ_CHECK(!stop.empty() && stop.size() <= 256 && utf8(stop),
                   "%s: a stop string of %zu bytes", parser, stop.size());
    FUZZ_CHECK(utf8(r.variant), "%s: the model variant is not UTF-8", parser);
    if (r.endpoint == Endpoint::Chat) {
        FUZZ_CHECK(!r.messages.empty() && r.messages.size() <= 1000, "%s: %zu messages", parser,
                   r.messages.size());
        for (const auto& m : r.messages)
            FUZZ_CHECK((m.role == "system" || m.role == "user" || m.role == "assistant") &&
                           utf8(m.content),
                       "%s: a message with role of %zu bytes", parser, m.role.size());
        FUZZ_CHECK(r.prompt == itera::chat_prompt(r.messages),
                   "%s: the prompt is not the messages' template", parser);
    } else {
        FUZZ_CHECK(r.messages.empty(), "%s: messages outside chat", parser);
    }
}

void check(const itera::FeedbackRequest& f, const itera::RequestLimits&, const char* parser) {
    FUZZ_CHECK(f.feedback_id >= 1, "%s: feedback_id %lld", parser,
               static_cast<long long>(f.feedback_id));
    FUZZ_CHECK(f.user_rating >= 1 && f.user_rating <= 5, "%s: user_rating %d", parser,
               f.user_rating);
    FUZZ_CHECK(f.correctness.size() <= 4096 && utf8(f.correctness), "%s: correctness of %zu bytes",
               parser, f.correctness.size());
    FUZZ_CHECK(f.comments.size() <= 65536 && utf8(f.comments), "%s: comments of %zu bytes", parser,
               f.comments.size());
}

// A parser's result of a type without a check() above (a future request type).
template <class T>
void check(const T&, const itera::RequestLimits&, const char*) {}

// Runs one parser; only the documented exceptions are caught.
template <class Parse>
void run(const char* name, const std::string& body, const itera::RequestLimits& limits,
         Parse parse) {
    try {
        check(parse(body, limits), limits, name);
    } catch (const itera::RequestError& e) {
        FUZZ_CHECK(e.status() == 400 || e.status() == 413, "%s: RequestError with status %d", name,
                   e.status());
        FUZZ_CHECK(utf8(e.what()) && utf8(e.field()),
                   "%s: the error message or field is not UTF-8 (it goes into a JSON answer)",
                   name);
    } catch (const itera::Error&) {
    }
}

itera::FeedbackRequest feedback(const std::string& body, const itera::RequestLimits&) {
    return itera::parse_feedback(body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string body(reinterpret_cast<const char*>(data), size);
    for (const auto& limits : kLimits) {
        run("parse_infer", body, limits, itera::parse_infer);
        run("parse_completion", body, limits, itera::parse_completion);
        run("parse_chat_completion", body, limits, itera::parse_chat_completion);
        run("parse_feedback", body, limits, feedback);
    }
    return 0;
}
