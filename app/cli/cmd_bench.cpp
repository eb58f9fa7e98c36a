// `itera bench train`, `itera bench tokenize` and `itera bench decode`.

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "args.h"
#include "bench_contexts.h"
#include "checkpoint_arg.h"
#include "commands.h"
#include "data/tokenize_bench.h"
#include "infer/decode_bench.h"
#include "infer/paired_timing.h"
#include "model_args.h"
#include "train/train_bench.h"
#include "train/train_settings.h"
#include "train_dist.h"
#include "util/error.h"
#include "util/kernel_path.h"
#include "util/threads.h"

namespace itera::cli {
namespace {

constexpr const char* kBenchUsage = R"(usage:
  itera bench train [--preset mini] [--vocab-size 4096] [--batch-size 16] [--seq-len 128]
                    [--steps 20] [--warmup 3] [--threads N] [--seed S]
                    [--precision fp32|bf16] [--nproc 1,2 [--rounds 3]] [--json]

Times full training steps (forward + backward + gradient clipping + AdamW) on
random tokens and prints tokens/s, the thread count, and how a step splits into
the selective scan, GEMMs, the causal conv and everything else. --precision bf16
runs the step's matrix products with BF16 inputs, as `itera train --precision
bf16` does (fast on CPUs with AVX-512 BF16, much slower elsewhere).

With --nproc, each listed process count is timed in turn, --rounds times
(interleaved: 1 2 2 1 1 2 ...): N processes of --threads threads each (default:
the cores divided by N) each run their own batch and sum their gradients with
Gloo every step, as `itera train --nproc N` does. Prints the tokens/s of all
processes together (median over rounds), the speed-up over the first count and
the share of rank 0's step spent summing gradients.

  itera bench tokenize [--size-mb 1024] [--source moby-dick] [--vocab-size 4096]
                       [--threads 1,2] [--work-dir DIR] [--keep] [--json]

`tokenize` generates an English corpus of the given size from random paragraphs
of a built-in corpus, trains a BPE tokenizer on that corpus's text, then builds
the token cache once per thread count and prints MB/s, the speed-up over the
first thread count and the process's peak RSS. The corpus and caches go to a
temporary folder (removed afterwards unless --keep).

  itera bench decode [CHECKPOINT | run:ID] [--preset mini --vocab-size 4096]
                     [--tokens 1024] [--prompt-tokens 512] [--batch 8] [--threads N]
                     [--repeats 3] [--db PATH] [--json]

`decode` times greedy decoding of a checkpoint (or of a freshly initialised
preset when no checkpoint is given): single-stream on one thread and on all
threads, `--batch` streams on one thread, and the prefill of a prompt; each is
the median of --repeats runs. Also prints the active weights a token reads and
the process's peak RSS.

  itera bench decode A --vs B [--pairs 7] [--tokens 1024] [--prompt-tokens 512]
                     [--batch 8] [--threads N] [--json]

With --vs, two checkpoints are timed interleaved in one measurement: after a
warm-up, --pairs pairs of runs in alternating order (A B, B A, ...) with the
same prompts and threads; each speed ratio B/A is the median of the pair
ratios, printed with its min and max and both medians.

  itera bench decode --contexts 128,512,2048 [--preset mini --vocab-size 4096 | A --vs B]
                     [--tokens 32] [--pairs 5] [--threads 1] [--json]

With --contexts, decode speed by context length: at each length C one sequence
absorbs C tokens (prefill, timed) and decodes --tokens more (timed), for two
models interleaved in pairs as above: by default the preset's Itera-Lite (A) and
its matched Transformer (B), freshly initialised. Prints tokens/s, B/A, the
state one sequence holds (SSM states or the key/value cache) and the context at
which the decode speeds cross.

  itera bench serve CHECKPOINT [--clients 1,8,32] [--seconds 20] ...

`serve` load-tests the HTTP server (see itera bench serve --help).

Examples:
  itera bench train --preset mini --vocab-size 4096 --batch-size 16 --seq-len 128
  itera bench tokenize --size-mb 1024
  itera bench decode run.safetensors
  itera bench decode --preset mini --vocab-size 4096 --json
  itera bench decode run:1 --vs m-int8.safetensors
  itera bench decode --contexts 128,512,2048 --preset mini
)";

// "1,2" -> {1, 2}: counts in [1, max] for `option`.
std::vector<int> count_list(const std::string& text, const std::string& option, int max) {
    std::vector<int> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        const auto item = text.substr(start, end - start);
        std::size_t used = 0;
        int n = 0;
        try {
            n = std::stoi(item, &used);
        } catch (...) {
            used = 0;
        }
        if (used == 0 || used != item.size() || n < 1 || n > max)
            throw Error(option + " expects a list like 1,2 (each at most " + std::to_string(max) +
                        "), got \"" + text + "\"");
        out.push_back(n);
        start = end + 1;
    }
    return out;
}

// One data-parallel measurement: this process is rank 0 of `nproc`.
TrainBenchResult measure_processes(TrainBenchOptions o, int nproc, int threads,
                                   std::vector<std::string> child_args) {
    o.threads = threads_per_process(threads, nproc);
    if (nproc == 1) return run_train_bench(o);
    DistSettings ds;
    ds.port = 0;
    ds.world_size = nproc;
    GlooGroup group(ds);
    LocalRanks ranks;
    child_args.insert(child_args.end(), {"--threads", std::to_string(o.threads)});
    ranks.start(itera_executable(), nproc, group.port(), child_args);
    group.set_failure_hint([&ranks] { return ranks.ended_rank(); });
    group.join();
    o.group = &group;
    auto r = run_train_bench(o);
    if (!ranks.wait(60)) throw Error("bench train: a rank did not end cleanly");
    return r;
}

// `--nproc 1,2`: the counts timed in turn over rounds, as a table.
int train_processes(const TrainBenchOptions& o, const std::string& list, int threads, int rounds,
                    const std::vector<std::string>& child_args, bool json_out) {
    const auto counts = count_list(list, "--nproc", 64);
    std::vector<std::vector<TrainBenchResult>> results(counts.size());
    for (int round = 0; round < rounds; ++round) {
        for (std::size_t k = 0; k < counts.size(); ++k) {
            const auto i = round % 2 ? counts.size() - 1 - k : k;  // alternate the order
            if (!json_out)
                std::fprintf(stderr, "\rround %d/%d: %d process(es)   ", round + 1, rounds,
                             counts[i]);
            results[i].push_back(measure_processes(o, counts[i], threads, child_args));
        }
    }
    if (!json_out) std::fprintf(stderr, "\r%40s\r", "");
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    nlohmann::json rows = nlohmann::json::array();
    double first = 0;
    const auto params = results[0][0].params;
    if (!json_out)
        std::printf("%s parameters: %.1f MB of FP32 gradients summed per step\n",
                    with_commas(params).c_str(), static_cast<double>(params) * 4 / 1e6);
    for (std::size_t i = 0; i < counts.size(); ++i) {
        std::vector<double> speed, share, step_ms;
        for (const auto& r : results[i]) {
            speed.push_back(r.tokens_per_s);
            share.push_back(r.allreduce_s / r.seconds);
            step_ms.push_back(1e3 * r.seconds / r.steps);
        }
        const double s = median(speed);
        if (i == 0) first = s;
        const int per = results[i][0].threads;
        rows.push_back({{"processes", counts[i]},
                        {"threads_per_process", per},
                        {"tokens_per_s", s},
                        {"tokens_per_s_rounds", speed},
                        {"speedup", s / first},
                        {"step_ms", median(step_ms)},
                        {"allreduce_share", median(share)}});
        if (!json_out)
            std::printf(
                "%2d process(es) x %d thread(s)  %8.0f tokens/s  x%.2f  %6.1f ms/step  "
                "summing gradients %4.1f%% of rank 0's step\n",
                counts[i], per, s, s / first, median(step_ms), 100 * median(share));
    }
    if (json_out) std::cout << nlohmann::json{{"params", params}, {"rows", rows}}.dump(2) << "\n";
    return 0;
}

int train(Args& a) {
    TrainBenchOptions o;
    auto preset = a.text_or("preset", "mini");
    auto vocab = a.integer_or("vocab-size", 4096, 2, 1 << 24);
    const auto variant = model_variant(a);
    o.config = ModelConfig::preset(preset, vocab, variant);
    o.batch_size = a.integer_or("batch-size", 16, 1, 65536);
    o.seq_len = a.integer_or("seq-len", 128, 1, 1 << 20);
    o.steps = static_cast<int>(a.integer_or("steps", 20, 1, 100000));
    o.warmup_steps = static_cast<int>(a.integer_or("warmup", 3, 0, 100000));
    o.threads = static_cast<int>(a.integer_or("threads", 0, 0, 4096));
    o.seed = static_cast<std::uint64_t>(a.integer_or("seed", 0, 0, INT64_MAX));
    const auto precision = a.text_or("precision", "fp32");
    check_precision(precision, "--precision");
    o.bf16 = precision == "bf16";
    bool json_out = a.flag("json");
    const auto nproc = a.text("nproc");
    const int rounds = static_cast<int>(a.integer_or("rounds", 3, 1, 1000));
    const auto dist = dist_request(a, false);
    a.finish();
    if (dist) {  // a rank above 0 of a --nproc measurement
        GlooGroup group(dist->settings);
        group.join();
        o.group = &group;
        run_train_bench(o);
        return 0;
    }
    if (nproc) {
        std::vector<std::string> child_args = {"bench",        "train",
                                               "--preset",     preset,
                                               "--vocab-size", std::to_string(vocab),
                                               "--batch-size", std::to_string(o.batch_size),
                                               "--seq-len",    std::to_string(o.seq_len),
                                               "--steps",      std::to_string(o.steps),
                                               "--warmup",     std::to_string(o.warmup_steps),
                                               "--seed",       std::to_string(o.seed),
                                               "--precision",  precision,
                                               "--arch",       variant.arch};
        if (!variant.moe) child_args.insert(child_args.end(), {"--moe", "off"});
        if (variant.ssm_state_size)
            child_args.insert(child_args.end(),
                              {"--ssm-state", std::to_string(variant.ssm_state_size)});
        return train_processes(o, *nproc, o.threads, rounds, child_args, json_out);
    }

    auto r = run_train_bench(o, [&](int step, int total) {
        if (!json_out) std::fprintf(stderr, "\rstep %d/%d", step, total);
    });
    if (!json_out) std::fprintf(stderr, "\r");
    const double rest = r.seconds - r.scan_s - r.gemm_s - r.conv_s - r.attention_s;
    if (json_out) {
        nlohmann::json j = {{"preset", preset},
                            {"arch", o.config.arch},
                            {"vocab_size", vocab},
                            {"batch_size", o.batch_size},
                            {"seq_len", o.seq_len},
                            {"threads", r.threads},
                            {"precision", precision},
                            {"params", r.params},
                            {"steps", r.steps},
                            {"seconds", r.seconds},
                            {"tokens_per_s", r.tokens_per_s},
                            {"median_tokens_per_s", r.median_tokens_per_s},
                            {"step_ms", 1e3 * r.seconds / r.steps},
                            {"split_s",
                             {{"scan", r.scan_s},
                              {"gemm", r.gemm_s},
                              {"conv", r.conv_s},
                              {"attention", r.attention_s},
                              {"rest", rest}}},
                            {"final_loss", r.final_loss}};
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    auto pct = [&](double s) { return 100.0 * s / r.seconds; };
    std::printf("preset %s (%s), vocab %lld, batch %lld x %lld tokens, %s parameters\n",
                preset.c_str(), o.config.arch.c_str(), static_cast<long long>(vocab),
                static_cast<long long>(o.batch_size), static_cast<long long>(o.seq_len),
                with_commas(r.params).c_str());
    std::printf("threads          %d, %s products\n", r.threads, precision.c_str());
    std::printf("steps            %d measured (+%d warm-up), %.1f ms/step\n", r.steps,
                o.warmup_steps, 1e3 * r.seconds / r.steps);
    std::printf("tokens/s         %.0f (median step: %.0f)\n", r.tokens_per_s,
                r.median_tokens_per_s);
    if (o.config.is_transformer())
        std::printf(
            "time split       attention %.1f%% (scores, softmax, weighted sum; both "
            "passes)  gemm %.1f%%  rest %.1f%%\n",
            pct(r.attention_s), pct(r.gemm_s), pct(rest));
    else
        std::printf("time split       scan %.1f%%  gemm %.1f%%  conv %.1f%%  rest %.1f%%\n",
                    pct(r.scan_s), pct(r.gemm_s), pct(r.conv_s), pct(rest));
    std::printf("final loss       %.4f (random tokens: ln V = %.4f)\n", r.final_loss,
                std::log(double(vocab)));
    return 0;
}

int tokenize(Args& a) {
    TokenizeBenchOptions o;
    o.corpus_bytes = static_cast<std::uint64_t>(a.integer_or("size-mb", 1024, 1, 1 << 20)) << 20;
    o.source = a.text_or("source", "moby-dick");
    o.workspace = Workspace::standard();
    o.vocab_size = static_cast<std::int32_t>(a.integer_or("vocab-size", 4096, 300, 1 << 20));
    o.thread_counts = count_list(a.text_or("threads", "1,2"), "--threads", 4096);
    const bool keep = a.flag("keep");
    const bool json_out = a.flag("json");
    o.work_dir = a.text_or("work-dir", (std::filesystem::temp_directory_path() /
                                        ("itera-bench-tokenize-" + std::to_string(getpid())))
                                           .string());
    a.finish();
    const auto t0 = std::chrono::steady_clock::now();
    o.progress = [&](const std::string& phase, std::uint64_t done, std::uint64_t total) {
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "\r%-24s %5.1f%%  (%.0f s)   ", phase.c_str(),
                     total ? 100.0 * done / total : 100.0, s);
    };
    TokenizeBenchResult r;
    try {
        r = run_tokenize_bench(o);
    } catch (...) {
        if (!keep) std::filesystem::remove_all(o.work_dir);
        throw;
    }
    std::fprintf(stderr, "\r%60s\r", "");
    if (!keep) std::filesystem::remove_all(o.work_dir);
    const double base = r.runs.front().mb_per_s;
    if (json_out) {
        nlohmann::json runs = nlohmann::json::array();
        for (const auto& run : r.runs)
            runs.push_back({{"threads", run.threads},
                            {"seconds", run.seconds},
                            {"mb_per_s", run.mb_per_s},
                            {"speedup", run.mb_per_s / base},
                            {"tokens", run.tokens},
                            {"peak_rss_mb", run.peak_rss_kb / 1024.0}});
        nlohmann::json j = {{"corpus_bytes", r.corpus_bytes},
                            {"source", o.source},
                            {"vocab_size", o.vocab_size},
                            {"generate_seconds", r.generate_seconds},
                            {"tokenizer_seconds", r.tokenizer_seconds},
                            {"rss_before_mb", r.rss_before_kb / 1024.0},
                            {"runs", runs}};
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::printf("corpus        %s bytes generated from %s in %.1f s\n",
                with_commas(static_cast<long long>(r.corpus_bytes)).c_str(), o.source.c_str(),
                r.generate_seconds);
    std::printf("tokenizer     BPE %d trained in %.1f s; peak RSS before tokenising %.0f MB\n",
                o.vocab_size, r.tokenizer_seconds, r.rss_before_kb / 1024.0);
    for (const auto& run : r.runs)
        std::printf(
            "threads %-4d  %7.2f MB/s  %6.1f s  %s tokens  speed-up %.2fx  peak RSS %.0f MB\n",
            run.threads, run.mb_per_s, run.seconds,
            with_commas(static_cast<long long>(run.tokens)).c_str(), run.mb_per_s / base,
            run.peak_rss_kb / 1024.0);
    return 0;
}

// A against B, timed interleaved in one measurement (infer/paired_timing.h).
int decode_versus(const std::string& first, const std::string& second, const DecodeBenchOptions& d,
                  int pairs, const std::optional<std::string>& db, bool json_out) {
    const auto a = InferenceModel::load(resolve_checkpoint(first, db));
    const auto b = InferenceModel::load(resolve_checkpoint(second, db));
    PairedTimingOptions o;
    o.pairs = pairs;
    o.threads = set_thread_count(d.threads);
    o.decode_tokens = d.decode_tokens;
    o.prompt_tokens = d.prompt_tokens;
    o.batch = d.batch;
    o.batch_tokens = std::max<std::int64_t>(1, d.decode_tokens / d.batch);
    o.progress = [&](int pair, int n) {
        if (!json_out) std::fprintf(stderr, "\r\033[Kpair %d of %d ...", pair + 1, n);
    };
    const auto t = time_pair(*a, *b, o);
    if (!json_out) std::fprintf(stderr, "\r\033[K");
    auto rate = [](const PairedRate& r) {
        return nlohmann::json{{"a", r.a},
                              {"b", r.b},
                              {"a_median", r.a_median},
                              {"b_median", r.b_median},
                              {"ratio_median", r.ratio_median},
                              {"ratio_min", r.ratio_min},
                              {"ratio_max", r.ratio_max}};
    };
    if (json_out) {
        std::cout << nlohmann::json{{"a", first},
                                    {"b", second},
                                    {"threads", o.threads},
                                    {"pairs", o.pairs},
                                    {"decode_tokens", o.decode_tokens},
                                    {"prompt_tokens", o.prompt_tokens},
                                    {"batch", o.batch},
                                    {"batch_tokens", o.batch_tokens},
                                    {"decode", rate(t.decode)},
                                    {"prefill", rate(t.prefill)},
                                    {"batched", rate(t.batched)}}
                         .dump(2)
                  << "\n";
        return 0;
    }
    std::printf("A %s\nB %s\n", first.c_str(), second.c_str());
    std::printf(
        "%d pairs after a warm-up, in alternating order, %d thread(s); ratio = B/A, the "
        "median of the pair ratios [min - max]\n\n",
        o.pairs, o.threads);
    auto row = [](const std::string& what, const PairedRate& r) {
        std::printf("%-26s A %9.0f tok/s   B %9.0f tok/s   %.3fx [%.3f - %.3f]\n", what.c_str(),
                    r.a_median, r.b_median, r.ratio_median, r.ratio_min, r.ratio_max);
    };
    row("decode, " + std::to_string(o.decode_tokens) + " tokens", t.decode);
    row("prefill, " + std::to_string(o.prompt_tokens) + "-token prompt", t.prefill);
    row("batched, " + std::to_string(o.batch) + " x " + std::to_string(o.batch_tokens), t.batched);
    return 0;
}

int decode(Args& a) {
    if (auto contexts = a.text("contexts")) {
        ContextBenchRequest r;
        for (int c : count_list(*contexts, "--contexts", 1 << 20)) r.contexts.push_back(c);
        r.checkpoints = a.positional();
        r.vs = a.text("vs");
        r.preset = a.text("preset");
        r.vocab = a.integer("vocab-size", 2, 1 << 24);
        r.db = a.text("db");
        r.tokens = a.integer_or("tokens", 32, 1, 1 << 20);
        r.pairs = static_cast<int>(a.integer_or("pairs", 5, 1, 1000));
        r.threads = static_cast<int>(a.integer_or("threads", 1, 0, 4096));
        r.json = a.flag("json");
        a.finish();
        return decode_by_context(r);
    }
    DecodeBenchOptions o;
    const auto& pos = a.positional();
    if (pos.size() > 1) throw Error("bench decode takes at most one checkpoint");
    auto preset = a.text("preset");
    auto vocab = a.integer("vocab-size", 2, 1 << 24);
    o.decode_tokens = a.integer_or("tokens", 1024, 1, 1 << 24);
    o.prompt_tokens = a.integer_or("prompt-tokens", 512, 1, 1 << 24);
    o.batch = a.integer_or("batch", 8, 1, 4096);
    o.threads = static_cast<int>(a.integer_or("threads", 0, 0, 4096));
    o.repeats = static_cast<int>(a.integer_or("repeats", 3, 1, 1000));
    const auto vs = a.text("vs");
    const auto pairs = static_cast<int>(a.integer_or("pairs", 7, 5, 1000));
    const auto db = a.text("db");
    const bool json_out = a.flag("json");
    a.finish();
    if (!pos.empty() && (preset || vocab))
        throw Error("bench decode: give a checkpoint or --preset/--vocab-size, not both");
    if (vs) {
        if (pos.size() != 1) throw Error("bench decode --vs B compares one checkpoint A with B");
        return decode_versus(pos[0], *vs, o, pairs, db, json_out);
    }
    std::shared_ptr<const InferenceModel> model;
    std::string what;
    if (!pos.empty()) {
        model = InferenceModel::load(resolve_checkpoint(pos[0], db));
        what = pos[0];
    } else {
        model = InferenceModel::initialised(
            ModelConfig::preset(preset.value_or("mini"), vocab.value_or(4096)), 1);
        what = "preset " + preset.value_or("mini") + " (freshly initialised), vocab " +
               std::to_string(vocab.value_or(4096));
    }
    auto r = run_decode_bench(*model, o, [&](const std::string& phase) {
        if (!json_out) std::fprintf(stderr, "\r\033[K%s ...", phase.c_str());
    });
    if (!json_out) std::fprintf(stderr, "\r\033[K");
    const double rss_mb = static_cast<double>(r.peak_rss_kb) / 1024.0;
    if (json_out) {
        nlohmann::json j = {{"model", what},
                            {"threads", r.threads},
                            {"decode_tokens", o.decode_tokens},
                            {"prompt_tokens", o.prompt_tokens},
                            {"batch", o.batch},
                            {"decode_tokens_per_s_1t", r.decode_tokens_per_s_1t},
                            {"decode_tokens_per_s", r.decode_tokens_per_s},
                            {"batch_tokens_per_s_1t", r.batch_tokens_per_s_1t},
                            {"prefill_tokens_per_s", r.prefill_tokens_per_s},
                            {"active_weight_bytes", r.active_weight_bytes},
                            {"weight_gb_per_s_1t", r.weight_gb_per_s_1t},
                            {"read_gb_per_s", r.read_gb_per_s},
                            {"read_bound_tokens_per_s", r.read_bound_tokens_per_s},
                            {"peak_rss_mb", rss_mb},
                            {"integer_kernels", kernel_path_name(kernel_path())}};
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::printf("model              %s\n", what.c_str());
    std::printf("active weights     %.2f MB read per token (%s matrices)\n",
                static_cast<double>(r.active_weight_bytes) / 1e6,
                model->decode_model()->embed->format().c_str());
    std::printf("read speed         %.1f GB/s on one core over %.2f MB: at most %.0f tokens/s\n",
                r.read_gb_per_s, static_cast<double>(r.active_weight_bytes) / 1e6,
                r.read_bound_tokens_per_s);
    std::printf("decode, 1 thread   %.0f tokens/s (%.1f us/token, %.1f GB/s of weights)\n",
                r.decode_tokens_per_s_1t, 1e6 / r.decode_tokens_per_s_1t, r.weight_gb_per_s_1t);
    std::printf("decode, %d threads  %.0f tokens/s\n", r.threads, r.decode_tokens_per_s);
    std::printf("batch of %lld, 1 thread  %.0f tokens/s in all\n", static_cast<long long>(o.batch),
                r.batch_tokens_per_s_1t);
    std::printf("prefill, %d threads %.0f tokens/s (%lld-token prompt)\n", r.threads,
                r.prefill_tokens_per_s, static_cast<long long>(o.prompt_tokens));
    std::printf("peak RSS           %.0f MB\n", rss_mb);
    std::printf("integer kernels    %s (ITERA_KERNELS=scalar|avx2 caps it)\n",
                kernel_path_name(kernel_path()));
    return 0;
}

}  // namespace

int bench_command(const std::vector<std::string>& args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::cout << kBenchUsage;
        return args.empty() ? 2 : 0;
    }
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (args[0] == "serve") return serve_bench_command(rest);
    Args a(rest, {"json", "help", "keep"});
    if (a.flag("help")) {
        std::cout << kBenchUsage;
        return 0;
    }
    if (args[0] == "train") return train(a);
    if (args[0] == "tokenize") return tokenize(a);
    if (args[0] == "decode") return decode(a);
    throw Error("unknown bench \"" + args[0] + "\" (expected train, tokenize, decode or serve)");
}

}  // namespace itera::cli
