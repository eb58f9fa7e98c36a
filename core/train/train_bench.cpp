#include "train/train_bench.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "model/itera_model.h"
#include "model/ops.h"
#include "model/tensor_names.h"
#include "train/data_parallel.h"
#include "train/optimizer.h"
#include "util/error.h"
#include "util/op_timer.h"
#include "util/threads.h"

namespace itera {

TrainBenchResult run_train_bench(const TrainBenchOptions& o,
                                 const std::function<void(int, int)>& progress) {
    if (o.batch_size < 1 || o.batch_size > 65536) throw Error("batch size must be in 1..65536");
    if (o.seq_len < 1 || o.seq_len > 1 << 20) throw Error("sequence length must be in 1..1048576");
    if (o.steps < 1) throw Error("steps must be at least 1");
    TrainBenchResult r;
    r.threads = set_thread_count(o.threads);
    torch::manual_seed(o.seed);
    IteraModel model(o.config);
    model->initialize(o.seed);
    model->train();
    AdamW opt(model, {});
    r.params = parameter_count(o.config);
    r.world = o.group ? o.group->world_size() : 1;
    r.tokens_per_step = o.batch_size * o.seq_len * r.world;
    const int rank = o.group ? o.group->rank() : 0;
    auto gen =
        at::make_generator<at::CPUGeneratorImpl>(o.seed + 1 + static_cast<std::uint64_t>(rank));
    bool timing = false;
    auto batch = [&] {
        return torch::randint(o.config.vocab_size, {o.batch_size, o.seq_len + 1}, gen,
                              torch::kLong);
    };
    auto step = [&](const torch::Tensor& tokens) {
        opt.zero_grad();
        const Bf16Gemms precision(o.bf16);
        auto out = model->loss(tokens);
        out.loss.backward();
        if (o.group) {
            const auto a0 = std::chrono::steady_clock::now();
            sum_gradients(*o.group, model);
            if (timing)
                r.allreduce_s +=
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - a0).count();
        }
        opt.step(1e-3, 1.0);
        return out.ce.item<double>();
    };
    for (int i = 0; i < o.warmup_steps; ++i) step(batch());

    std::vector<torch::Tensor> batches;
    for (int i = 0; i < o.steps; ++i) batches.push_back(batch());
    op_timer_reset();
    op_timer_enable(true);
    timing = true;
    std::vector<double> step_seconds;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < o.steps; ++i) {
        auto s0 = std::chrono::steady_clock::now();
        r.final_loss = step(batches[i]);
        step_seconds.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count());
        if (!std::isfinite(r.final_loss)) throw Error("benchmark loss became non-finite");
        if (progress) progress(i + 1, o.steps);
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    op_timer_enable(false);
    auto times = op_timer_read();
    r.steps = o.steps;
    r.tokens_per_s = static_cast<double>(r.tokens_per_step) * o.steps / r.seconds;
    std::nth_element(step_seconds.begin(), step_seconds.begin() + step_seconds.size() / 2,
                     step_seconds.end());
    r.median_tokens_per_s =
        static_cast<double>(r.tokens_per_step) / step_seconds[step_seconds.size() / 2];
    r.scan_s = times.seconds(OpKind::Scan);
    r.gemm_s = times.seconds(OpKind::Gemm);
    r.conv_s = times.seconds(OpKind::Conv);
    r.attention_s = times.seconds(OpKind::Attention);
    return r;
}

}  // namespace itera
