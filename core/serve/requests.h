#pragma once
// The server's request bodies, parsed and checked: a malformed body, a field
// of the wrong type or out of range is a RequestError naming the field, which
// the server answers with 400 and a JSON error. Torch- and HTTP-free.

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

/// A generation request of either endpoint, normalised.
struct InferRequest {
    std::string prompt;
    std::string variant;  ///< empty: the default model
    GenerateSettings settings;
    bool stream = false;
};

/// POST /infer: input_text (required), max_length, temperature, top_k,
/// model_variant (the original project's request) and top_p, min_p,
/// repeat_penalty, seed, stop, stream.
InferRequest parse_infer(const std::string& body, const RequestLimits& limits);

/// POST /v1/completions (OpenAI's shape): prompt (a string, or a list of one),
/// max_tokens (16), temperature (1), top_p (1), stream, seed, stop, model.
InferRequest parse_completion(const std::string& body, const RequestLimits& limits);

struct FeedbackRequest {
    std::int64_t feedback_id = 0;
    int user_rating = 0;
    std::string correctness;  ///< as sent: a boolean, number or text, stored as text
    std::string comments;
};

/// POST /feedback: feedback_id and user_rating (1..5) required; correctness, comments.
FeedbackRequest parse_feedback(const std::string& body);

}  // namespace itera
