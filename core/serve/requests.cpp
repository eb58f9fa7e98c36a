#include "serve/requests.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "data/utf8.h"

namespace itera {
namespace {

using Json = nlohmann::json;

constexpr int kMaxDepth = 32;

// The body as a JSON object. nlohmann's messages quote the input they
// stopped at, which may be any bytes: only the position is passed on.
Json parse_object(const std::string& body) {
    if (body.empty()) throw RequestError("body", "the body is empty; send a JSON object");
    Json j;
    try {
        j = Json::parse(body, [](int depth, Json::parse_event_t, Json&) {
            if (depth > kMaxDepth)
                throw RequestError(
                    "body", "the body nests deeper than " + std::to_string(kMaxDepth) + " levels");
            return true;
        });
    } catch (const Json::parse_error& e) {
        throw RequestError(
            "body", "the body is not valid JSON (error at byte " + std::to_string(e.byte) + ")");
    } catch (const Json::out_of_range& e) {
        throw RequestError("body", "the body holds a number JSON cannot represent here (" +
                                       quoted(e.what()) + ")");
    } catch (const Json::exception&) {
        throw RequestError("body", "the body is not valid JSON");
    }
    if (!j.is_object()) throw RequestError("body", "the body must be a JSON object");
    return j;
}

void reject_unknown(const Json& j, const std::set<std::string>& known) {
    for (const auto& [key, value] : j.items())
        if (!known.count(key))
            throw RequestError(quoted(key), "unknown field \"" + quoted(key) + "\"");
}

// Typed readers: absent or null keeps the default; a wrong type or range names the field.
std::optional<double> number(const Json& j, const std::string& key, double lo, double hi) {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    if (!j[key].is_number())
        throw RequestError(key, "\"" + key + "\" must be a number, got " + j[key].type_name());
    const double v = j[key].get<double>();
    if (!(v >= lo && v <= hi)) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "\"%s\" must be in [%g, %g], got %g", key.c_str(), lo, hi,
                      v);
        throw RequestError(key, buf);
    }
    return v;
}

std::optional<std::int64_t> integer(const Json& j, const std::string& key, std::int64_t lo,
                                    std::int64_t hi) {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    const auto& v = j[key];
    const auto fail = [&] {
        return RequestError(key, "\"" + key + "\" must be an integer in [" + std::to_string(lo) +
                                     ", " + std::to_string(hi) + "], got " +
                                     (v.is_number() ? v.dump() : std::string(v.type_name())));
    };
    std::int64_t out = 0;
    if (v.is_number_unsigned()) {  // beyond int64 is out of any range here
        if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) throw fail();
        out = static_cast<std::int64_t>(v.get<std::uint64_t>());
    } else if (v.is_number_integer()) {
        out = v.get<std::int64_t>();
    } else if (v.is_number_float()) {
        const double d = v.get<double>();
        // Compared as doubles before any conversion (2^63 itself is not an int64).
        if (!(std::floor(d) == d && d >= -9.2e18 && d <= 9.2e18)) throw fail();
        out = static_cast<std::int64_t>(d);
    } else {
        throw fail();
    }
    if (out < lo || out > hi) throw fail();
    return out;
}

std::optional<std::string> text(const Json& j, const std::string& key) {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    if (!j[key].is_string())
        throw RequestError(key, "\"" + key + "\" must be a string, got " + j[key].type_name());
    auto v = j[key].get<std::string>();
    if (auto bad = first_invalid_utf8(v))
        throw RequestError(key, "\"" + key + "\" is not valid UTF-8 (bad byte at offset " +
                                    std::to_string(*bad) + ")");
    return v;
}

std::optional<bool> flag(const Json& j, const std::string& key) {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    if (!j[key].is_boolean())
        throw RequestError(key, "\"" + key + "\" must be true or false, got " + j[key].dump());
    return j[key].get<bool>();
}

std::string prompt_text(const std::string& field, std::string s, const RequestLimits& limits) {
    if (auto bad = first_invalid_utf8(s))
        throw RequestError(field, "\"" + field + "\" is not valid UTF-8 (bad byte at offset " +
                                      std::to_string(*bad) + ")");
    if (s.size() > limits.max_prompt_bytes)
        throw RequestError(field,
                           "\"" + field + "\" has " + std::to_string(s.size()) +
                               " bytes; the limit is " + std::to_string(limits.max_prompt_bytes),
                           413);
    return s;
}

std::vector<std::string> stop_strings(const Json& j) {
    if (!j.contains("stop") || j["stop"].is_null()) return {};
    const auto& v = j["stop"];
    std::vector<std::string> out;
    if (v.is_string()) {
        out.push_back(v.get<std::string>());
    } else if (v.is_array() && v.size() <= 16) {
        for (const auto& s : v) {
            if (!s.is_string()) throw RequestError("stop", "\"stop\" must hold strings only");
            out.push_back(s.get<std::string>());
        }
    } else {
        throw RequestError("stop", "\"stop\" must be a string or a list of at most 16 strings");
    }
    for (const auto& s : out)
        if (s.empty() || s.size() > 256 || first_invalid_utf8(s))
            throw RequestError("stop", "each stop string must be 1 to 256 bytes of UTF-8");
    return out;
}

// Sampling fields every endpoint shares.
void sampling(const Json& j, InferRequest& r) {
    auto& s = r.settings.sampling;
    if (auto v = number(j, "temperature", 0, 100)) s.temperature = *v;
    if (auto v = integer(j, "top_k", 0, 1 << 20)) s.top_k = *v;
    if (auto v = number(j, "top_p", 1e-9, 1)) s.top_p = *v;
    if (auto v = number(j, "min_p", 0, 0.999999)) s.min_p = *v;
    if (auto v = number(j, "repeat_penalty", 1, 10)) s.repeat_penalty = *v;
    if (auto v = number(j, "presence_penalty", -2, 2)) s.presence_penalty = *v;
    if (auto v = number(j, "frequency_penalty", -2, 2)) s.frequency_penalty = *v;
    if (auto v = integer(j, "seed", 0, INT64_MAX)) s.seed = static_cast<std::uint64_t>(*v);
    r.settings.stop = stop_strings(j);
    if (auto v = flag(j, "stream")) r.stream = *v;
}

// OpenAI's fields the two OpenAI endpoints share, beyond sampling.
void openai_common(const Json& j, InferRequest& r) {
    if (auto n = integer(j, "n", 1, 1); n && *n != 1)
        throw RequestError("n", "only n = 1 is served");
    if (j.contains("stream_options") && !j["stream_options"].is_null()) {
        const auto& o = j["stream_options"];
        if (!o.is_object())
            throw RequestError("stream_options", "\"stream_options\" must be an object");
        reject_unknown(o, {"include_usage"});
        if (auto v = flag(o, "include_usage")) r.include_usage = *v;
        if (!r.stream)
            throw RequestError("stream_options", "\"stream_options\" needs \"stream\": true");
    }
    text(j, "user");
    if (auto v = text(j, "model")) r.variant = *v;
    if (j.contains("logit_bias") && !j["logit_bias"].is_null() &&
        !(j["logit_bias"].is_object() && j["logit_bias"].empty()))
        throw RequestError("logit_bias", "\"logit_bias\" is not served (only {} or null)");
}

// OpenAI's defaults: plain softmax sampling.
void openai_defaults(InferRequest& r) {
    auto& s = r.settings.sampling;
    s.temperature = 1.0;
    s.top_p = 1.0;
    s.top_k = 0;
    s.min_p = 0;
    s.repeat_penalty = 1.0;
}

// A prompt given as token ids: each in [0, 2^31); the model checks them against its vocabulary.
std::vector<std::int32_t> token_ids(const Json& p, const RequestLimits& limits) {
    if (p.size() * 4 > limits.max_prompt_bytes)
        throw RequestError("prompt",
                           "\"prompt\" has " + std::to_string(p.size()) + " tokens; the limit is " +
                               std::to_string(limits.max_prompt_bytes / 4),
                           413);
    std::vector<std::int32_t> ids;
    ids.reserve(p.size());
    for (const auto& t : p) {
        if (!t.is_number_integer() || t.get<std::int64_t>() < 0 ||
            t.get<std::int64_t>() > INT32_MAX)
            throw RequestError("prompt", "a token-id prompt must hold non-negative integers");
        ids.push_back(static_cast<std::int32_t>(t.get<std::int64_t>()));
    }
    return ids;
}

}  // namespace

InferRequest parse_infer(const std::string& body, const RequestLimits& limits) {
    const auto j = parse_object(body);
    reject_unknown(j, {"input_text", "max_length", "temperature", "top_k", "top_p", "min_p",
                       "repeat_penalty", "seed", "stop", "stream", "model_variant"});
    InferRequest r;
    auto input = text(j, "input_text");
    if (!input) throw RequestError("input_text", "\"input_text\" is required");
    r.prompt = prompt_text("input_text", *input, limits);
    r.settings.max_tokens =
        std::min<std::int64_t>(100, limits.max_tokens);  // the server's cap applies to defaults too
    if (auto v = integer(j, "max_length", 1, limits.max_tokens)) r.settings.max_tokens = *v;
    sampling(j, r);
    if (auto v = text(j, "model_variant")) r.variant = *v;
    return r;
}

InferRequest parse_completion(const std::string& body, const RequestLimits& limits) {
    const auto j = parse_object(body);
    reject_unknown(j, {"prompt",
                       "max_tokens",
                       "temperature",
                       "top_p",
                       "top_k",
                       "min_p",
                       "repeat_penalty",
                       "presence_penalty",
                       "frequency_penalty",
                       "seed",
                       "stop",
                       "stream",
                       "stream_options",
                       "model",
                       "n",
                       "best_of",
                       "user",
                       "logprobs",
                       "echo",
                       "suffix",
                       "logit_bias"});
    InferRequest r;
    r.endpoint = Endpoint::Completion;
    if (!j.contains("prompt") || j["prompt"].is_null())
        throw RequestError("prompt", "\"prompt\" is required");
    const auto& p = j["prompt"];
    const auto ids_list = [](const Json& v) {
        return v.is_array() && !v.empty() &&
               std::all_of(v.begin(), v.end(), [](const Json& t) { return t.is_number(); });
    };
    if (p.is_string()) {
        r.prompt = prompt_text("prompt", p.get<std::string>(), limits);
    } else if (p.is_array() && p.size() == 1 && p[0].is_string()) {
        r.prompt = prompt_text("prompt", p[0].get<std::string>(), limits);
    } else if (ids_list(p)) {
        r.prompt_ids = token_ids(p, limits);
        r.prompt_is_ids = true;
    } else if (p.is_array() && p.size() == 1 && ids_list(p[0])) {
        r.prompt_ids = token_ids(p[0], limits);
        r.prompt_is_ids = true;
    } else {
        throw RequestError("prompt",
                           "\"prompt\" must be a string, a list of token ids, or a list of one "
                           "of those (one prompt per request)");
    }
    if (auto b = integer(j, "best_of", 1, 1); b && *b != 1)
        throw RequestError("best_of", "only best_of = 1 is served");
    if (j.contains("suffix") && !j["suffix"].is_null())
        throw RequestError("suffix", "\"suffix\" (insertion) is not served");
    openai_defaults(r);
    r.settings.max_tokens =
        std::min<std::int64_t>(16, limits.max_tokens);  // OpenAI's default, within the cap
    if (auto v = flag(j, "echo")) r.echo = *v;
    if (auto v = integer(j, "max_tokens", 0, limits.max_tokens)) r.settings.max_tokens = *v;
    if (r.settings.max_tokens == 0 && !r.echo)
        throw RequestError("max_tokens",
                           "\"max_tokens\" must be at least 1 (0 only with \"echo\": true, which "
                           "scores the prompt)");
    if (auto v = integer(j, "logprobs", 0, kMaxLogprobs)) r.logprobs = static_cast<int>(*v);
    sampling(j, r);
    openai_common(j, r);
    return r;
}

InferRequest parse_chat_completion(const std::string& body, const RequestLimits& limits) {
    const auto j = parse_object(body);
    reject_unknown(j, {"messages",
                       "max_tokens",
                       "max_completion_tokens",
                       "temperature",
                       "top_p",
                       "top_k",
                       "min_p",
                       "repeat_penalty",
                       "presence_penalty",
                       "frequency_penalty",
                       "seed",
                       "stop",
                       "stream",
                       "stream_options",
                       "model",
                       "n",
                       "user",
                       "logprobs",
                       "top_logprobs",
                       "logit_bias"});
    InferRequest r;
    r.endpoint = Endpoint::Chat;
    if (!j.contains("messages") || !j["messages"].is_array() || j["messages"].empty())
        throw RequestError("messages", "\"messages\" must be a non-empty list of messages");
    if (j["messages"].size() > 1000)
        throw RequestError("messages", "\"messages\" holds more than 1000 messages");
    for (const auto& m : j["messages"]) {
        if (!m.is_object())
            throw RequestError("messages", "each message must be an object {role, content}");
        reject_unknown(m, {"role", "content", "name"});
        ChatMessage msg;
        const auto role = text(m, "role");
        if (!role ||
            (*role != "system" && *role != "user" && *role != "assistant" && *role != "developer"))
            throw RequestError("role", "a message's \"role\" must be system, user or assistant");
        msg.role = *role == "developer" ? "system" : *role;
        const auto content = text(m, "content");
        if (!content) throw RequestError("content", "a message's \"content\" must be a string");
        msg.content = *content;
        text(m, "name");
        r.messages.push_back(std::move(msg));
    }
    r.prompt = prompt_text("messages", chat_prompt(r.messages), limits);
    openai_defaults(r);
    r.settings.max_tokens = std::min<std::int64_t>(256, limits.max_tokens);
    if (auto v = integer(j, "max_tokens", 1, limits.max_tokens)) r.settings.max_tokens = *v;
    if (auto v = integer(j, "max_completion_tokens", 1, limits.max_tokens))
        r.settings.max_tokens = *v;
    const bool logprobs = flag(j, "logprobs").value_or(false);
    const auto top = integer(j, "top_logprobs", 0, kMaxLogprobs);
    if (top && !logprobs)
        throw RequestError("top_logprobs", "\"top_logprobs\" needs \"logprobs\": true");
    if (logprobs) r.logprobs = static_cast<int>(top.value_or(0));
    sampling(j, r);
    for (const auto& s : chat_stops())
        if (std::find(r.settings.stop.begin(), r.settings.stop.end(), s) == r.settings.stop.end())
            r.settings.stop.push_back(s);
    openai_common(j, r);
    return r;
}

std::string chat_prompt(const std::vector<ChatMessage>& messages) {
    std::string out;
    for (const auto& m : messages) {
        const char* who = m.role == "system" ? "System" : m.role == "user" ? "User" : "Assistant";
        out += std::string(who) + ": " + m.content + "\n\n";
    }
    return out + "Assistant:";
}

const std::vector<std::string>& chat_stops() {
    static const std::vector<std::string> stops = {"\n\nUser:", "\n\nSystem:"};
    return stops;
}

std::string quoted(const std::string& text, std::size_t max_bytes) {
    auto s = replace_invalid_utf8(text);
    if (s.size() <= max_bytes) return s;
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    return s.substr(0, cut) + "…";
}

FeedbackRequest parse_feedback(const std::string& body) {
    const auto j = parse_object(body);
    reject_unknown(j, {"feedback_id", "user_rating", "correctness", "comments"});
    FeedbackRequest f;
    auto id = integer(j, "feedback_id", 1, INT64_MAX);
    if (!id) throw RequestError("feedback_id", "\"feedback_id\" is required");
    f.feedback_id = *id;
    auto rating = integer(j, "user_rating", 1, 5);
    if (!rating) throw RequestError("user_rating", "\"user_rating\" (1 to 5) is required");
    f.user_rating = static_cast<int>(*rating);
    if (j.contains("correctness") && !j["correctness"].is_null()) {
        const auto& c = j["correctness"];
        if (!(c.is_boolean() || c.is_number() || c.is_string()))
            throw RequestError("correctness",
                               "\"correctness\" must be a boolean, a number or a string");
        f.correctness = c.is_string() ? c.get<std::string>() : c.dump();
        if (f.correctness.size() > 4096 || first_invalid_utf8(f.correctness))
            throw RequestError("correctness",
                               "\"correctness\" must be at most 4096 bytes of UTF-8");
    }
    if (auto c = text(j, "comments")) {
        if (c->size() > 65536 || first_invalid_utf8(*c))
            throw RequestError("comments", "\"comments\" must be at most 65536 bytes of UTF-8");
        f.comments = *c;
    }
    return f;
}

}  // namespace itera
