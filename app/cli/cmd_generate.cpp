// `itera generate` and `itera score`: text from a checkpoint, streamed, and
// the per-token log-probabilities of a given text.

#include <nlohmann/json.hpp>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "args.h"
#include "checkpoint_arg.h"
#include "commands.h"
#include "infer/generate.h"
#include "infer/score.h"
#include "util/error.h"
#include "util/threads.h"

namespace itera::cli {
namespace {

constexpr const char* kGenerateUsage = R"(usage: itera generate CHECKPOINT --prompt TEXT [options]

Continues TEXT with a checkpoint (a .safetensors file, or run:ID for a stored
run's best checkpoint), streaming the text as it is generated. The prompt is
read as the start of a document (the model saw documents separated by EOS).

Options:
  --prompt TEXT          the text to continue ("" starts a fresh document)
  --max-tokens N         (200)
  --temperature T        (0.8; 0 = greedy)
  --top-k K              (40; 0 = off)
  --top-p P              (0.95; 1 = off)
  --min-p P              (0.05; 0 = off)
  --repeat-penalty R     (1.1; 1 = off) on tokens of the last --repeat-window (64)
  --seed S               (0) same seed + settings + model = same text
  --stop TEXT            stop before TEXT (repeatable; bash: --stop $'\n\n')
  --ignore-eos           keep going past the end-of-document token
  --top N                with --json, the N most likely tokens at each step (0)
  --threads N            (all cores)
  --db PATH              run store for run:ID
  --json                 print one JSON object instead of streaming: text, token
                         ids, per-token probabilities, prefill and decode tokens/s

Examples:
  itera generate run:1 --prompt "Call me Ishmael." --max-tokens 100
  itera generate model.safetensors --prompt "The whale" --temperature 0 --json
)";

constexpr const char* kScoreUsage =
    R"(usage: itera score CHECKPOINT --text TEXT [--bos] [--top N] [--json]

Scores TEXT: for each token, the log-probability the model gave it after the
tokens before it, and the N (5) most likely alternatives at each position.
No BOS is added unless --bos. JSON keys: tokens, pieces (each token's text in
place), logprobs (entry i-1 is log p(tokens[i] | tokens[<i])), top (per position:
id, p, logprob, text), total_logprob.

Options: --threads N (all cores), --db PATH (for run:ID)

Examples:
  itera score run:1 --text "Call me Ishmael."
  itera score model.safetensors --text "The whale" --top 3 --json
)";

volatile std::sig_atomic_t g_interrupted = 0;

void on_interrupt(int) {
    g_interrupted = 1;
}

nlohmann::json top_json(const std::vector<Alternative>& top) {
    auto out = nlohmann::json::array();
    for (const auto& t : top)
        out.push_back({{"id", t.id}, {"p", t.p}, {"logprob", t.logprob}, {"text", t.text}});
    return out;
}

std::string json_quoted(const std::string& text) {
    return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

int generate_command(const std::vector<std::string>& args) {
    Args a(args, {"json", "help", "ignore-eos"}, {"stop"});
    if (a.flag("help")) {
        std::cout << kGenerateUsage;
        return 0;
    }
    GenerateSettings s;
    auto& sp = s.sampling;
    const auto prompt = a.required("prompt");
    s.max_tokens = a.integer_or("max-tokens", 200, 1, 1'000'000);
    sp.temperature = a.real("temperature", 0, 100).value_or(sp.temperature);
    sp.top_k = a.integer_or("top-k", sp.top_k, 0, 1 << 24);
    sp.top_p = a.real("top-p", 1e-9, 1).value_or(sp.top_p);
    sp.min_p = a.real("min-p", 0, 0.999999).value_or(sp.min_p);
    sp.repeat_penalty = a.real("repeat-penalty", 1, 10).value_or(sp.repeat_penalty);
    sp.repeat_window = a.integer_or("repeat-window", sp.repeat_window, 0, 1 << 24);
    sp.seed = static_cast<std::uint64_t>(a.integer_or("seed", 0, 0, INT64_MAX));
    s.stop = a.texts("stop");
    s.stop_at_eos = !a.flag("ignore-eos");
    s.top_alternatives = static_cast<std::size_t>(a.integer_or("top", 0, 0, 100));
    const int threads = static_cast<int>(a.integer_or("threads", 0, 0, 4096));
    const auto db = a.text("db");
    const bool json_out = a.flag("json");
    a.finish();
    if (a.positional().size() != 1)
        throw Error("itera generate takes one checkpoint (see itera generate --help)");
    s.threads = set_thread_count(threads);
    s.validate();

    auto model = InferenceModel::load(resolve_checkpoint(a.positional()[0], db));
    model->require_tokenizer();
    if (!json_out) {
        std::fwrite(prompt.data(), 1, prompt.size(), stdout);
        std::fflush(stdout);
    }
    std::signal(SIGINT, on_interrupt);  // Ctrl-C ends generation, keeping what was made
    auto result = generate(*model, prompt, s, [&](const TokenEvent& e) {
        if (!json_out) {
            std::fwrite(e.piece.data(), 1, e.piece.size(), stdout);
            std::fflush(stdout);
        }
        return g_interrupted == 0;
    });
    std::signal(SIGINT, SIG_DFL);
    if (json_out) {
        nlohmann::json j = {{"text", result.text},
                            {"prompt", prompt},
                            {"prompt_tokens", result.prompt_ids},
                            {"tokens", result.ids},
                            {"probs", result.probs},
                            {"stop_reason", result.stop_reason},
                            {"prefill_tokens", result.prefill_tokens()},
                            {"prefill_seconds", result.prefill_seconds},
                            {"prefill_tokens_per_s", result.prefill_tokens_per_s()},
                            {"decode_seconds", result.decode_seconds},
                            {"decode_tokens_per_s", result.decode_tokens_per_s()},
                            {"threads", s.threads},
                            {"settings",
                             {{"max_tokens", s.max_tokens},
                              {"temperature", sp.temperature},
                              {"top_k", sp.top_k},
                              {"top_p", sp.top_p},
                              {"min_p", sp.min_p},
                              {"repeat_penalty", sp.repeat_penalty},
                              {"repeat_window", sp.repeat_window},
                              {"seed", sp.seed},
                              {"stop", s.stop},
                              {"stop_at_eos", s.stop_at_eos}}}};
        if (s.top_alternatives) {
            auto top = nlohmann::json::array();
            for (const auto& t : result.top) top.push_back(top_json(t));
            j["top"] = top;
        }
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return 0;
    }
    std::printf("\n");
    std::fflush(stdout);
    std::fprintf(
        stderr,
        "[%zu tokens, stop: %s; prefill %zu tokens at %.0f tokens/s, decode %.0f tokens/s]\n",
        result.ids.size(), result.stop_reason.c_str(), result.prefill_tokens(),
        result.prefill_tokens_per_s(), result.decode_tokens_per_s());
    return result.stop_reason == "cancelled" ? 130 : 0;
}

int score_command(const std::vector<std::string>& args) {
    Args a(args, {"json", "help", "bos"});
    if (a.flag("help")) {
        std::cout << kScoreUsage;
        return 0;
    }
    const auto text = a.required("text");
    const bool bos = a.flag("bos");
    const auto top_n = static_cast<std::size_t>(a.integer_or("top", 5, 0, 100));
    const int threads = static_cast<int>(a.integer_or("threads", 0, 0, 4096));
    const auto db = a.text("db");
    const bool json_out = a.flag("json");
    a.finish();
    if (a.positional().size() != 1)
        throw Error("itera score takes one checkpoint (see itera score --help)");
    set_thread_count(threads);
    auto model = InferenceModel::load(resolve_checkpoint(a.positional()[0], db));
    model->require_tokenizer();
    auto r = score_text(*model, text, bos, top_n);
    if (json_out) {
        auto top = nlohmann::json::array();
        for (const auto& t : r.top) top.push_back(top_json(t));
        nlohmann::json j = {{"tokens", r.tokens},
                            {"pieces", r.pieces},
                            {"logprobs", r.logprobs},
                            {"top", top},
                            {"total_logprob", r.total_logprob()}};
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return 0;
    }
    std::printf("%5s  %-16s %9s   %s\n", "pos", "token", "logprob", "most likely next");
    for (std::size_t i = 0; i < r.tokens.size(); ++i) {
        std::string alts;
        for (const auto& t : r.top[i]) {
            char buf[32];
            std::snprintf(buf, sizeof buf, " %.2f   ", t.logprob);
            alts += json_quoted(t.text) + buf;
        }
        char lp[32] = "";
        if (i > 0) std::snprintf(lp, sizeof lp, "%.3f", r.logprobs[i - 1]);
        std::printf("%5zu  %-16s %9s   %s\n", i, json_quoted(r.pieces[i]).c_str(), lp,
                    alts.c_str());
    }
    if (!r.logprobs.empty())
        std::printf("total log p %.3f over %zu predicted tokens (perplexity %.2f)\n",
                    r.total_logprob(), r.logprobs.size(),
                    std::exp(-r.total_logprob() / static_cast<double>(r.logprobs.size())));
    return 0;
}

}  // namespace itera::cli
