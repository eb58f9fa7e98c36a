#include "serve/openai_answers.h"

namespace itera {
namespace {

using Json = nlohmann::json;

Json usage(std::int64_t prompt, std::int64_t completion) {
    return {{"prompt_tokens", prompt},
            {"completion_tokens", completion},
            {"total_tokens", prompt + completion}};
}

Json bytes_of(const std::string& s) {
    Json b = Json::array();
    for (unsigned char c : s) b.push_back(static_cast<int>(c));
    return b;
}

Json number_or_null(const std::optional<double>& v) {
    return v ? Json(*v) : Json();
}

}  // namespace

Json completion_logprobs(const std::vector<TokenLogprob>& tokens, std::size_t offset) {
    Json text = Json::array(), lp = Json::array(), top = Json::array(), offsets = Json::array();
    for (const auto& t : tokens) {
        text.push_back(t.text);
        lp.push_back(number_or_null(t.logprob));
        Json alternatives = Json::object();
        for (const auto& [piece, value] : t.top)
            if (!alternatives.contains(piece)) alternatives[piece] = value;
        top.push_back(t.logprob ? alternatives : Json());
        offsets.push_back(offset);
        offset += t.text.size();
    }
    return {
        {"tokens", text}, {"token_logprobs", lp}, {"top_logprobs", top}, {"text_offset", offsets}};
}

Json chat_logprobs(const std::vector<TokenLogprob>& tokens) {
    Json content = Json::array();
    for (const auto& t : tokens) {
        Json top = Json::array();
        for (const auto& [piece, value] : t.top)
            top.push_back({{"token", piece}, {"logprob", value}, {"bytes", bytes_of(piece)}});
        content.push_back({{"token", t.text},
                           {"logprob", t.logprob.value_or(0.0)},
                           {"bytes", bytes_of(t.text)},
                           {"top_logprobs", top}});
    }
    return {{"content", content}, {"refusal", nullptr}};
}

Json completion_json(const AnswerInfo& a) {
    Json j = {
        {"id", a.id},
        {"object", "text_completion"},
        {"created", a.created},
        {"model", a.model},
        {"choices",
         Json::array({{{"text", a.text},
                       {"index", 0},
                       {"logprobs", a.logprobs ? completion_logprobs(*a.logprobs, 0) : Json()},
                       {"finish_reason", a.finish_reason}}})},
        {"usage", usage(a.prompt_tokens, a.completion_tokens)}};
    j["feedback_id"] = a.feedback_id ? Json(*a.feedback_id) : Json();
    return j;
}

Json chat_json(const AnswerInfo& a) {
    Json j = {{"id", a.id},
              {"object", "chat.completion"},
              {"created", a.created},
              {"model", a.model},
              {"choices",
               Json::array({{{"index", 0},
                             {"message",
                              {{"role", "assistant"}, {"content", a.text}, {"refusal", nullptr}}},
                             {"logprobs", a.logprobs ? chat_logprobs(*a.logprobs) : Json()},
                             {"finish_reason", a.finish_reason}}})},
              {"usage", usage(a.prompt_tokens, a.completion_tokens)}};
    j["feedback_id"] = a.feedback_id ? Json(*a.feedback_id) : Json();
    return j;
}

Json completion_chunk(const std::string& id, std::int64_t created, const std::string& model,
                      const std::string& text, const Json& logprobs,
                      const std::optional<std::string>& finish_reason) {
    return {{"id", id},
            {"object", "text_completion"},
            {"created", created},
            {"model", model},
            {"choices",
             Json::array({{{"text", text},
                           {"index", 0},
                           {"logprobs", logprobs},
                           {"finish_reason", finish_reason ? Json(*finish_reason) : Json()}}})}};
}

Json chat_chunk(const std::string& id, std::int64_t created, const std::string& model,
                const std::optional<std::string>& role, const std::optional<std::string>& content,
                const Json& logprobs, const std::optional<std::string>& finish_reason) {
    Json delta = Json::object();
    if (role) delta["role"] = *role;
    if (content) delta["content"] = *content;
    return {{"id", id},
            {"object", "chat.completion.chunk"},
            {"created", created},
            {"model", model},
            {"choices",
             Json::array({{{"index", 0},
                           {"delta", delta},
                           {"logprobs", logprobs},
                           {"finish_reason", finish_reason ? Json(*finish_reason) : Json()}}})}};
}

Json usage_chunk(const std::string& object, const std::string& id, std::int64_t created,
                 const std::string& model, std::int64_t prompt_tokens,
                 std::int64_t completion_tokens) {
    return {{"id", id},
            {"object", object},
            {"created", created},
            {"model", model},
            {"choices", Json::array()},
            {"usage", usage(prompt_tokens, completion_tokens)}};
}

Json models_list(const std::vector<std::pair<std::string, std::int64_t>>& models) {
    Json data = Json::array();
    for (const auto& [name, created] : models)
        data.push_back({{"id", name},
                        {"object", "model"},
                        {"created", created},
                        {"owned_by", "itera-workbench"}});
    return {{"object", "list"}, {"data", data}};
}

std::string json_text(const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string sse_event(const Json& j) {
    return "data: " + json_text(j) + "\n\n";
}

}  // namespace itera
