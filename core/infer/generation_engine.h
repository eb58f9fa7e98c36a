#pragma once
// Continuous batching for the server: requests join a running batch as soon as
// a slot is free (their prompt absorbed by the batched forward), every active
// sequence advances one token per decoder step, and a finished one frees its
// slot at once. Each request samples with its own settings and Rng(seed) and
// the decoder computes each row on its own, so a request gives the same text
// whatever else shares the batch (tested against generate()).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "infer/generate.h"

namespace itera {

struct EngineStats {
    std::int64_t active = 0, queued = 0;
    std::int64_t completed = 0;
    std::int64_t generated_tokens = 0;
    double busy_seconds = 0;  ///< time spent with at least one active sequence
};

class GenerationEngine {
public:
    /// `max_batch` sequences decode together; `threads` split each step.
    GenerationEngine(std::shared_ptr<const InferenceModel> model, std::int64_t max_batch,
                     int threads);
    ~GenerationEngine();
    GenerationEngine(const GenerationEngine&) = delete;
    GenerationEngine& operator=(const GenerationEngine&) = delete;

    /// Queues a request. `on_token` runs on the engine's thread after each
    /// token; returning false cancels the request (its result then says
    /// "cancelled"). Invalid settings or prompts are thrown here, before queuing.
    std::future<GenerateResult> submit(const Prompt& prompt, const GenerateSettings& settings,
                                       TokenCallback on_token = {});

    /// Stops accepting requests, finishes the queued and running ones, joins.
    void shutdown();

    /// Later requests use `model` (same tokenizer and vocabulary); running ones
    /// finish on the model they started with.
    void replace_model(std::shared_ptr<const InferenceModel> model);
    std::shared_ptr<const InferenceModel> model() const;

    EngineStats stats() const;

private:
    struct Pending;
    struct Active;
    void loop();

    std::int64_t max_batch_;
    int threads_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::shared_ptr<const InferenceModel> model_;
    std::deque<std::unique_ptr<Pending>> queue_;
    bool stopping_ = false;
    EngineStats stats_;
    std::thread worker_;
};

}  // namespace itera
