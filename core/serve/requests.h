#pragma once
// The server's request bodies, parsed and checked: a malformed body, a field
// of the wrong type or out of range, an unknown field is a RequestError naming
// the field, which the server answers with 400 and a JSON error. Messages
// never echo raw bytes: text from the request is quoted as valid UTF-8.
// Torch- and HTTP-free.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "infer/generate.h"

namespace itera {

/// A client error: HTTP status (400 unless said), message, and the field at fault.
class RequestError : public std::runtime_error {
public:
    RequestError(std::string field, const std::string& message, int status = 400)
        : std::runtime_error(message), field_(std::move(field)), status_(status) {}
    const std::string& field() const { return field_; }
    int status() const { return status_; }

private:
    std::string field_;
    int status_;
};

struct RequestLimits {
    std::int64_t max_tokens = 2048;        ///< cap on max_length / max_tokens
    std::size_t max_prompt_bytes = 32768;  ///< cap on the prompt's UTF-8 bytes
};

enum class Endpoint { Infer, Completion, Chat };

/// One message of a chat request.
struct ChatMessage {
    std::string role;  ///< "system", "user" or "assistant"
    std::string content;
};

/// A generation request of any endpoint, normalised.
struct InferRequest {
    Endpoint endpoint = Endpoint::Infer;
    std::string prompt;  ///< the prompt text (chat: the messages in the chat template)
    std::vector<std::int32_t> prompt_ids;  ///< a prompt given as token ids (completions)
    bool prompt_is_ids = false;
    std::vector<ChatMessage> messages;  ///< chat
    std::string variant;                ///< empty: the default model
    GenerateSettings settings;
    bool stream = false;
    bool include_usage = false;  ///< stream_options.include_usage: a last chunk with usage
    int logprobs = -1;           ///< -1: none; else the alternatives per token (0..20)
    bool echo = false;           ///< completions: the answer starts with the prompt
};

/// The most alternatives a request may ask for per token.
inline constexpr int kMaxLogprobs = 20;

/// The plain chat template for a base model (docs/serving.md): each message
/// as "System: ...", "User: ..." or "Assistant: ..." separated by blank
/// lines, then "Assistant:" for the model to continue.
std::string chat_prompt(const std::vector<ChatMessage>& messages);
/// The stop strings every chat request gets, so the model does not write the
/// next turn ("\n\nUser:", "\n\nSystem:").
const std::vector<std::string>& chat_stops();

/// `text` as an error message may quote it: invalid UTF-8 replaced by U+FFFD,
/// at most `max_bytes` bytes (cut at a character boundary, "…" appended).
std::string quoted(const std::string& text, std::size_t max_bytes = 120);

/// POST /infer: input_text (required), max_length, temperature, top_k,
/// model_variant (the original project's request) and top_p, min_p,
/// repeat_penalty, seed, stop, stream.
InferRequest parse_infer(const std::string& body, const RequestLimits& limits);

/// POST /v1/completions (OpenAI's shape): prompt (a string, a list of one
/// string, a list of token ids or a list of one such list), max_tokens (16; 0
/// with echo scores the prompt), temperature (1), top_p (1), stream,
/// stream_options.include_usage, logprobs (0..20), echo, presence_penalty,
/// frequency_penalty, seed, stop, model, n (1), best_of (1), user.
InferRequest parse_completion(const std::string& body, const RequestLimits& limits);

/// POST /v1/chat/completions: messages (role system/user/assistant, content
/// text), max_tokens or max_completion_tokens (256), temperature, top_p,
/// stream, stream_options.include_usage, logprobs + top_logprobs,
/// presence_penalty, frequency_penalty, seed, stop, model, n (1), user.
InferRequest parse_chat_completion(const std::string& body, const RequestLimits& limits);

struct FeedbackRequest {
    std::int64_t feedback_id = 0;
    int user_rating = 0;
    std::string correctness;  ///< as sent: a boolean, number or text, stored as text
    std::string comments;
};

/// POST /feedback: feedback_id and user_rating (1..5) required; correctness, comments.
FeedbackRequest parse_feedback(const std::string& body);

}  // namespace itera
