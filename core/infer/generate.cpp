#include "infer/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "data/utf8.h"
#include "infer/stop_matcher.h"
#include "infer/text_stream.h"
#include "util/error.h"

namespace itera {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Sequence {
    GenerateResult result;
    SamplerChain sampler;
    Rng rng;
    TextStream text;
    StopMatcher stop;
    std::vector<std::int32_t> history;  // prompt + generated, for the repetition penalty
    bool done = false;
    Clock::time_point started;
};

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

    std::vector<Sequence> seqs;
    seqs.reserve(prompts.size());
    std::vector<std::vector<float>> first_logits;
    for (const auto& p : prompts)
        if (auto bad = first_invalid_utf8(p))
            throw Error("generate: the prompt is not valid UTF-8 (bad byte at offset " +
                        std::to_string(*bad) + ")");
    for (std::int64_t b = 0; b < B; ++b) {
        auto prompt_ids = tok.encode(prompts[static_cast<std::size_t>(b)]);
        std::vector<std::int32_t> fed;
        if (settings.document_start) fed.push_back(tok.eos_id());
        fed.insert(fed.end(), prompt_ids.begin(), prompt_ids.end());
        if (fed.empty()) fed.push_back(tok.eos_id());  // nothing to condition on: a document start
        auto seed = settings.sampling.seed + static_cast<std::uint64_t>(b);
        seqs.push_back({GenerateResult{},
                        SamplerChain(settings.sampling),
                        Rng(seed),
                        TextStream(tok, fed),
                        StopMatcher(settings.stop),
                        fed,
                        false,
                        {}});
        auto& s = seqs.back();
        s.result.prompt_ids = std::move(prompt_ids);
        const auto t0 = Clock::now();
        first_logits.push_back(model.prefill(decoder, b, fed));
        s.result.prefill_seconds = since(t0);
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
            if (s.done) continue;
            if (step == 0) s.started = Clock::now();
            const float* row = step == 0 ? first_logits[static_cast<std::size_t>(b)].data()
                                         : logits + row_of[static_cast<std::size_t>(b)] * V;
            const std::int32_t id = s.sampler.sample(row, V, s.history, s.rng);
            auto probs = token_probabilities(row, V, id, settings.top_alternatives);
            TokenEvent ev;
            ev.sequence = static_cast<std::size_t>(b);
            ev.index = step;
            ev.id = id;
            ev.p = probs.chosen_p;
            for (const auto& [alt, p] : probs.top)
                ev.top.push_back({alt, p, std::log(p), token_piece(tok, s.history, alt)});
            s.history.push_back(id);
            const bool eos = settings.stop_at_eos && id == tok.eos_id();
            if (!eos) {
                s.result.ids.push_back(id);
                s.result.probs.push_back(ev.p);
                if (settings.top_alternatives) s.result.top.push_back(ev.top);
                ev.piece = s.stop.add(s.text.push(id));
                if (s.stop.matched()) s.result.stop_reason = "stop";
            } else {
                s.result.stop_reason = "eos";
            }
            if (step + 1 == settings.max_tokens && s.result.stop_reason.empty())
                s.result.stop_reason = "max_tokens";
            if (!s.result.stop_reason.empty()) {
                s.done = true;
                if (s.result.stop_reason != "stop")
                    ev.piece += s.stop.add(s.text.flush()) + s.stop.flush();
            }
            s.result.text += ev.piece;
            if (on_token && !on_token(ev) && !s.done) {
                s.done = true;
                s.result.stop_reason = "cancelled";
            }
            if (s.done) s.result.decode_seconds = since(s.started);
            any = any || !s.done;
        }
        if (!any) break;
        stepped.clear();
        fed_now.clear();
        for (std::int64_t b = 0; b < B; ++b) {
            const auto& s = seqs[static_cast<std::size_t>(b)];
            if (s.done) continue;
            row_of[static_cast<std::size_t>(b)] = static_cast<std::int64_t>(stepped.size());
            stepped.push_back(b);
            fed_now.push_back(s.history.back());
        }
        logits = decoder.step_sequences(stepped.data(), fed_now.data(),
                                        static_cast<std::int64_t>(stepped.size()));
    }
    std::vector<GenerateResult> out;
    for (auto& s : seqs) out.push_back(std::move(s.result));
    return out;
}

}  // namespace itera
