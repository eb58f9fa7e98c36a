#include "serve/requests.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

#include "data/utf8.h"

namespace itera {
namespace {

using Json = nlohmann::json;

Json parse_object(const std::string& body) {
    Json j;
    try {
        j = Json::parse(body);
    } catch (const Json::exception& e) {
        throw RequestError("", std::string("the body is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw RequestError("", "the body must be a JSON object");
    return j;
}

void reject_unknown(const Json& j, const std::set<std::string>& known) {
    for (const auto& [key, value] : j.items())
        if (!known.count(key)) throw RequestError(key, "unknown field \"" + key + "\"");
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
    if (!v.is_number_integer() &&
        !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()))
        throw RequestError(key, "\"" + key + "\" must be an integer, got " +
                                    (v.is_number() ? v.dump() : std::string(v.type_name())));
    const double d = v.get<double>();
    if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)))
        throw RequestError(key, "\"" + key + "\" must be in [" + std::to_string(lo) + ", " +
                                    std::to_string(hi) + "], got " + v.dump());
    return v.get<std::int64_t>();
}

std::optional<std::string> text(const Json& j, const std::string& key) {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    if (!j[key].is_string())
        throw RequestError(key, "\"" + key + "\" must be a string, got " + j[key].type_name());
    return j[key].get<std::string>();
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

// Sampling fields both endpoints share.
void sampling(const Json& j, InferRequest& r) {
    auto& s = r.settings.sampling;
    if (auto v = number(j, "temperature", 0, 100)) s.temperature = *v;
    if (auto v = integer(j, "top_k", 0, 1 << 20)) s.top_k = *v;
    if (auto v = number(j, "top_p", 1e-9, 1)) s.top_p = *v;
    if (auto v = number(j, "min_p", 0, 0.999999)) s.min_p = *v;
    if (auto v = number(j, "repeat_penalty", 1, 10)) s.repeat_penalty = *v;
    if (auto v = integer(j, "seed", 0, INT64_MAX)) s.seed = static_cast<std::uint64_t>(*v);
    r.settings.stop = stop_strings(j);
    if (auto v = flag(j, "stream")) r.stream = *v;
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
    r.settings.max_tokens = 100;
    if (auto v = integer(j, "max_length", 1, limits.max_tokens)) r.settings.max_tokens = *v;
    sampling(j, r);
    if (auto v = text(j, "model_variant")) r.variant = *v;
    return r;
}

InferRequest parse_completion(const std::string& body, const RequestLimits& limits) {
    const auto j = parse_object(body);
    reject_unknown(j, {"prompt", "max_tokens", "temperature", "top_p", "top_k", "min_p",
                       "repeat_penalty", "seed", "stop", "stream", "model", "n", "user"});
    InferRequest r;
    if (!j.contains("prompt") || j["prompt"].is_null())
        throw RequestError("prompt", "\"prompt\" is required");
    const auto& p = j["prompt"];
    if (p.is_array() && p.size() == 1 && p[0].is_string())
        r.prompt = prompt_text("prompt", p[0].get<std::string>(), limits);
    else if (p.is_string())
        r.prompt = prompt_text("prompt", p.get<std::string>(), limits);
    else
        throw RequestError("prompt", "\"prompt\" must be a string (or a list of one string)");
    if (auto n = integer(j, "n", 1, 1); n && *n != 1)
        throw RequestError("n", "only n = 1 is served");
    r.settings.max_tokens = 16;  // OpenAI's defaults
    r.settings.sampling.temperature = 1.0;
    r.settings.sampling.top_p = 1.0;
    r.settings.sampling.top_k = 0;
    r.settings.sampling.min_p = 0;
    r.settings.sampling.repeat_penalty = 1.0;
    if (auto v = integer(j, "max_tokens", 1, limits.max_tokens)) r.settings.max_tokens = *v;
    sampling(j, r);
    text(j, "user");
    if (auto v = text(j, "model")) r.variant = *v;
    return r;
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
