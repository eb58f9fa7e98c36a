#include "infer/generation_engine.h"

#include <algorithm>
#include <chrono>

#include "infer/decoder.h"
#include "infer/generation_sequence.h"
#include "util/error.h"

namespace itera {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

struct GenerationEngine::Pending {
    GenerationSequence seq;
    TokenCallback on_token;
    std::promise<GenerateResult> promise;
};

struct GenerationEngine::Active {
    std::unique_ptr<Pending> p;
    std::int64_t slot = 0;
    std::vector<float> first;  ///< the prefill's logits, for the first token
    std::int64_t row = -1;     ///< its row in the last step's logits; -1: use `first`
};

GenerationEngine::GenerationEngine(std::shared_ptr<const InferenceModel> model,
                                   std::int64_t max_batch, int threads)
    : max_batch_(max_batch), threads_(threads), model_(std::move(model)) {
    if (!model_) throw Error("the engine needs a model");
    model_->require_tokenizer();
    if (max_batch_ < 1 || max_batch_ > 4096)
        throw Error("--max-batch must be in 1..4096, got " + std::to_string(max_batch_));
    if (threads_ < 1) threads_ = 1;
    worker_ = std::thread([this] { loop(); });
}

GenerationEngine::~GenerationEngine() {
    shutdown();
}

std::future<GenerateResult> GenerationEngine::submit(const Prompt& prompt,
                                                     const GenerateSettings& settings,
                                                     TokenCallback on_token) {
    auto s = settings;
    s.threads = threads_;
    s.validate();
    std::shared_ptr<const InferenceModel> model;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) throw Error("the server is shutting down");
        model = model_;
    }
    auto p = std::make_unique<Pending>(
        Pending{GenerationSequence(model->require_tokenizer(), prompt, s, s.sampling.seed, 0),
                std::move(on_token),
                {}});
    auto future = p->promise.get_future();
    {
        std::lock_guard lock(mutex_);
        if (stopping_) throw Error("the server is shutting down");
        queue_.push_back(std::move(p));
        ++stats_.queued;
    }
    wake_.notify_one();
    return future;
}

void GenerationEngine::shutdown() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (worker_.joinable()) worker_.join();
}

void GenerationEngine::replace_model(std::shared_ptr<const InferenceModel> model) {
    if (!model) throw Error("no model to switch to");
    std::lock_guard lock(mutex_);
    const auto& now = model_->require_tokenizer();
    const auto& next = model->require_tokenizer();
    if (now.fingerprint() != next.fingerprint())
        throw Error(
            "the new model uses another tokenizer; queued prompts were tokenised for "
            "the current one");
    model_ = std::move(model);
    wake_.notify_one();
}

std::shared_ptr<const InferenceModel> GenerationEngine::model() const {
    std::lock_guard lock(mutex_);
    return model_;
}

EngineStats GenerationEngine::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

void GenerationEngine::loop() {
    std::shared_ptr<const InferenceModel> model;
    std::unique_ptr<Decoder> decoder;
    std::vector<Active> active;
    std::vector<std::int64_t> free_slots;
    // The last step's logits, copied: a prefill steps the decoder too, which
    // overwrites its output buffer before the active rows are sampled.
    std::vector<float> logits;
    std::vector<std::int64_t> slots;
    std::vector<std::int32_t> tokens;
    for (;;) {
        std::vector<std::unique_ptr<Pending>> admitted;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !active.empty(); });
            if (stopping_ && queue_.empty() && active.empty()) break;
            // A new model takes over once the batch on the old one has drained.
            if (active.empty() && model != model_) {
                model = model_;
                decoder = std::make_unique<Decoder>(model->decode_model(), max_batch_, threads_);
                free_slots.clear();
                for (std::int64_t b = max_batch_ - 1; b >= 0; --b) free_slots.push_back(b);
            }
            while (model == model_ && !queue_.empty() && !free_slots.empty() &&
                   static_cast<std::int64_t>(active.size() + admitted.size()) < max_batch_) {
                admitted.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            stats_.queued = static_cast<std::int64_t>(queue_.size());
            stats_.active = static_cast<std::int64_t>(active.size() + admitted.size());
        }
        const auto t0 = Clock::now();
        const std::int64_t V = model->config().vocab_size;
        for (auto& p : admitted) {
            const auto slot = free_slots.back();
            free_slots.pop_back();
            decoder->reset(slot);
            const auto tp = Clock::now();
            Active a{std::move(p), slot, {}, -1};
            try {
                a.first = model->prefill(*decoder, slot, a.p->seq.fed());
            } catch (...) {
                a.p->promise.set_exception(std::current_exception());
                free_slots.push_back(slot);
                continue;
            }
            a.p->seq.set_prefill_seconds(since(tp));
            active.push_back(std::move(a));
        }
        // One token for every active sequence.
        std::int64_t produced = 0;
        for (auto& a : active) {
            const float* row = a.row < 0 ? a.first.data() : logits.data() + a.row * V;
            const auto ev = a.p->seq.advance(row, V);
            ++produced;
            if (a.p->on_token) {
                bool go = false;
                try {
                    go = a.p->on_token(ev);
                } catch (...) {  // a failing consumer ends its own request only
                }
                if (!go) a.p->seq.cancel();
            }
        }
        std::vector<Active> ended;
        for (auto it = active.begin(); it != active.end();) {
            if (!it->p->seq.done()) {
                ++it;
                continue;
            }
            free_slots.push_back(it->slot);
            ended.push_back(std::move(*it));
            it = active.erase(it);
        }
        if (!ended.empty()) {
            // The counts first: whoever holds a finished future sees them.
            {
                std::lock_guard lock(mutex_);
                stats_.completed += static_cast<std::int64_t>(ended.size());
                stats_.active = static_cast<std::int64_t>(active.size());
            }
            for (auto& e : ended) e.p->promise.set_value(std::move(e.p->seq.result()));
        }
        slots.clear();
        tokens.clear();
        for (std::size_t i = 0; i < active.size(); ++i) {
            active[i].row = static_cast<std::int64_t>(i);
            active[i].first.clear();
            slots.push_back(active[i].slot);
            tokens.push_back(active[i].p->seq.last());
        }
        if (!active.empty()) {
            const auto n = static_cast<std::int64_t>(slots.size());
            const float* out = decoder->step_sequences(slots.data(), tokens.data(), n);
            logits.assign(out, out + n * V);
        }
        std::lock_guard lock(mutex_);
        stats_.generated_tokens += produced;
        stats_.busy_seconds += since(t0);
        stats_.active = static_cast<std::int64_t>(active.size());
    }
}

}  // namespace itera
