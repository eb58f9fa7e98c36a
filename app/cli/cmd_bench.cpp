// `itera bench train`.

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "train/train_bench.h"
#include "util/error.h"

namespace itera::cli {
namespace {

constexpr const char* kBenchUsage = R"(usage:
  itera bench train [--preset quality] [--vocab-size 4096] [--batch-size 16] [--seq-len 128]
                    [--steps 20] [--warmup 3] [--threads N] [--seed S] [--json]

Times full training steps (forward + backward + gradient clipping + AdamW) on
random tokens and prints tokens/s, the thread count, and how a step splits into
the selective scan, GEMMs, the causal conv and everything else.

Example:
  itera bench train --preset quality --vocab-size 4096 --batch-size 16 --seq-len 128
)";

int train(Args& a) {
    TrainBenchOptions o;
    auto preset = a.text_or("preset", "quality");
    auto vocab = a.integer_or("vocab-size", 4096, 2, 1 << 24);
    o.config = ModelConfig::preset(preset, vocab);
    o.batch_size = a.integer_or("batch-size", 16, 1, 65536);
    o.seq_len = a.integer_or("seq-len", 128, 1, 1 << 20);
    o.steps = static_cast<int>(a.integer_or("steps", 20, 1, 100000));
    o.warmup_steps = static_cast<int>(a.integer_or("warmup", 3, 0, 100000));
    o.threads = static_cast<int>(a.integer_or("threads", 0, 0, 4096));
    o.seed = static_cast<std::uint64_t>(a.integer_or("seed", 0, 0, INT64_MAX));
    bool json_out = a.flag("json");
    a.finish();

    auto r = run_train_bench(o, [&](int step, int total) {
        if (!json_out) std::fprintf(stderr, "\rstep %d/%d", step, total);
    });
    if (!json_out) std::fprintf(stderr, "\r");
    const double rest = r.seconds - r.scan_s - r.gemm_s - r.conv_s;
    if (json_out) {
        nlohmann::json j = {
            {"preset", preset},
            {"vocab_size", vocab},
            {"batch_size", o.batch_size},
            {"seq_len", o.seq_len},
            {"threads", r.threads},
            {"params", r.params},
            {"steps", r.steps},
            {"seconds", r.seconds},
            {"tokens_per_s", r.tokens_per_s},
            {"median_tokens_per_s", r.median_tokens_per_s},
            {"step_ms", 1e3 * r.seconds / r.steps},
            {"split_s",
             {{"scan", r.scan_s}, {"gemm", r.gemm_s}, {"conv", r.conv_s}, {"rest", rest}}},
            {"final_loss", r.final_loss}};
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    auto pct = [&](double s) { return 100.0 * s / r.seconds; };
    std::printf("preset %s, vocab %lld, batch %lld x %lld tokens, %s parameters\n", preset.c_str(),
                static_cast<long long>(vocab), static_cast<long long>(o.batch_size),
                static_cast<long long>(o.seq_len), with_commas(r.params).c_str());
    std::printf("threads          %d\n", r.threads);
    std::printf("steps            %d measured (+%d warm-up), %.1f ms/step\n", r.steps,
                o.warmup_steps, 1e3 * r.seconds / r.steps);
    std::printf("tokens/s         %.0f (median step: %.0f)\n", r.tokens_per_s,
                r.median_tokens_per_s);
    std::printf("time split       scan %.1f%%  gemm %.1f%%  conv %.1f%%  rest %.1f%%\n",
                pct(r.scan_s), pct(r.gemm_s), pct(r.conv_s), pct(rest));
    std::printf("final loss       %.4f (random tokens: ln V = %.4f)\n", r.final_loss,
                std::log(double(vocab)));
    return 0;
}

}  // namespace

int bench_command(const std::vector<std::string>& args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::cout << kBenchUsage;
        return args.empty() ? 2 : 0;
    }
    std::vector<std::string> rest(args.begin() + 1, args.end());
    Args a(rest, {"json", "help"});
    if (a.flag("help")) {
        std::cout << kBenchUsage;
        return 0;
    }
    if (args[0] == "train") return train(a);
    throw Error("unknown bench \"" + args[0] + "\" (expected train)");
}

}  // namespace itera::cli
