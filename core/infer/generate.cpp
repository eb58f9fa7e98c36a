#include "infer/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "data/utf8.h"
#include "infer/generation_sequence.h"
#include "util/error.h"

namespace itera {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

void GenerateSettings::validate() const {
    sampling.validate();
    if (max_tokens < 1 || max_tokens > 1'000'000)
        throw Error("generate: max_tokens must be in [1, 1000000], got " +
                    std::to_string(max_tokens));
    for (const auto& s : stop)
        if (s.empty()) throw Error("generate: a stop string is empty");
    if (top_alternatives > 100) throw Error("generate: at most 100 top alternatives");
    if (threads < 1 || threads > 1024) throw Error("generate: threads must be in [1, 1024]");
}

std::size_t GenerateResult::prefill_tokens() const {
    return prompt_ids.size() + 1;  // + the EOS prefix or, without it, counts the first token fed
}

double GenerateResult::prefill_tokens_per_s() const {
    return prefill_seconds > 0 ? static_cast<double>(prefill_tokens()) / prefill_seconds : 0.0;
}

double GenerateResult::decode_tokens_per_s() const {
    return decode_seconds > 0 ? static_cast<double>(ids.size()) / decode_seconds : 0.0;
}

GenerateResult generate(const InferenceModel& model, const std::string& prompt,
                        const GenerateSettings& settings, const TokenCallback& on_token) {
    return std::move(generate_batch(model, {prompt}, settings, on_token).front());
}

std::vector<GenerateResult> generate_batch(const InferenceModel& model,
                                           const std::vector<std::string>& prompts,
                                           const GenerateSettings& settings,
                                           const TokenCallback& on_token) {
    settings.validate();
    if (prompts.empty()) throw Error("generate: no prompts");
    const Tokenizer& tok = model.require_tokenizer();
    const auto B = static_cast<std::int64_t>(prompts.size());
    const std::int64_t V = model.config().vocab_size;
    Decoder decoder(model.decode_model(), B, settings.threads);

    std::vector<GenerationSequence> seqs;
    seqs.reserve(prompts.size());
    for (std::size_t b = 0; b < prompts.size(); ++b)  // every prompt checked before any work
        seqs.emplace_back(tok, prompts[b], settings, settings.sampling.seed + b, b);
    std::vector<std::vector<float>> first_logits;
    for (std::int64_t b = 0; b < B; ++b) {
        auto& s = seqs[static_cast<std::size_t>(b)];
        const auto t0 = Clock::now();
        first_logits.push_back(model.prefill(decoder, b, s.fed()));
        s.set_prefill_seconds(since(t0));
    }

    // Only unfinished sequences are stepped; row_of[b] is b's row in `logits`.
    std::vector<std::int64_t> stepped;
    std::vector<std::int32_t> fed_now;
    std::vector<std::int64_t> row_of(static_cast<std::size_t>(B), -1);
    const float* logits = nullptr;  // the last step's; the prefill's for the first token
    for (std::int64_t step = 0; step < settings.max_tokens; ++step) {
        bool any = false;
        for (std::int64_t b = 0; b < B; ++b) {
            auto& s = seqs[static_cast<std::size_t>(b)];
            if (s.done()) continue;
            const float* row = step == 0 ? first_logits[static_cast<std::size_t>(b)].data()
                                         : logits + row_of[static_cast<std::size_t>(b)] * V;
            const auto ev = s.advance(row, V);
            if (on_token && !on_token(ev)) s.cancel();
            any = any || !s.done();
        }
        if (!any) break;
        stepped.clear();
        fed_now.clear();
        for (std::int64_t b = 0; b < B; ++b) {
            auto& s = seqs[static_cast<std::size_t>(b)];
            if (s.done()) continue;
            row_of[static_cast<std::size_t>(b)] = static_cast<std::int64_t>(stepped.size());
            stepped.push_back(b);
            fed_now.push_back(s.last());
        }
        logits = decoder.step_sequences(stepped.data(), fed_now.data(),
                                        static_cast<std::int64_t>(stepped.size()));
    }
    std::vector<GenerateResult> out;
    for (auto& s : seqs) out.push_back(std::move(s.result()));
    return out;
}

}  // namespace itera
