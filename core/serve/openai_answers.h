#pragma once
// The JSON shapes of OpenAI's completions and chat completions API, plain and
// streamed, with their logprobs objects, built from plain values (no model,
// no HTTP), so each shape is written once and tested directly.
//
// Streams follow OpenAI's: each chunk carries only new text (never the whole
// answer), every chunk has the same `id` and `created`, the last content
// chunk carries `finish_reason`, an optional usage chunk has no choices, and
// `data: [DONE]` ends the stream.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace itera {

/// One token of an answer as OpenAI's logprobs describe it.
struct TokenLogprob {
    std::string text;               ///< the token's text (may be empty for part of a character)
    std::optional<double> logprob;  ///< null for a token with nothing before it
    std::vector<std::pair<std::string, double>> top;  ///< alternatives: text, logprob
};

/// Everything a whole (not streamed) answer says.
struct AnswerInfo {
    std::string id;  ///< "cmpl-12" / "chatcmpl-12"
    std::int64_t created = 0;
    std::string model;
    std::string text;  ///< completions with echo: the prompt, then the generated text
    std::string finish_reason;
    std::int64_t prompt_tokens = 0, completion_tokens = 0;
    std::optional<std::vector<TokenLogprob>> logprobs;
    std::optional<std::int64_t> feedback_id;  ///< ours: where to rate the answer (POST /feedback)
};

/// POST /v1/completions, not streamed.
nlohmann::json completion_json(const AnswerInfo& a);
/// POST /v1/chat/completions, not streamed.
nlohmann::json chat_json(const AnswerInfo& a);

/// A completions logprobs object: tokens, token_logprobs, top_logprobs and
/// text_offset (byte offsets into the answer's text, starting at `offset`).
nlohmann::json completion_logprobs(const std::vector<TokenLogprob>& tokens, std::size_t offset);
/// A chat logprobs object: {"content": [{token, logprob, bytes, top_logprobs}]}.
nlohmann::json chat_logprobs(const std::vector<TokenLogprob>& tokens);

/// One streamed completions chunk: new `text`, its tokens' logprobs (null
/// when not asked), and `finish_reason` on the last one.
nlohmann::json completion_chunk(const std::string& id, std::int64_t created,
                                const std::string& model, const std::string& text,
                                const nlohmann::json& logprobs,
                                const std::optional<std::string>& finish_reason);
/// One streamed chat chunk: the first says the role, the others add content.
nlohmann::json chat_chunk(const std::string& id, std::int64_t created, const std::string& model,
                          const std::optional<std::string>& role,
                          const std::optional<std::string>& content, const nlohmann::json& logprobs,
                          const std::optional<std::string>& finish_reason);
/// The usage chunk of stream_options.include_usage (no choices).
nlohmann::json usage_chunk(const std::string& object, const std::string& id, std::int64_t created,
                           const std::string& model, std::int64_t prompt_tokens,
                           std::int64_t completion_tokens);

/// GET /v1/models: {"object": "list", "data": [{id, object, created, owned_by}]}.
nlohmann::json models_list(const std::vector<std::pair<std::string, std::int64_t>>& models);

/// `j` as a server-sent event: "data: <json>\n\n". Strings that are not valid
/// UTF-8 are written with U+FFFD (a JSON answer never fails to serialise).
std::string sse_event(const nlohmann::json& j);
/// `j` as JSON text, with the same replacement.
std::string json_text(const nlohmann::json& j);

}  // namespace itera
