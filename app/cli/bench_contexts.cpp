#include "bench_contexts.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "args.h"
#include "checkpoint_arg.h"
#include "infer/context_timing.h"
#include "model/tensor_names.h"
#include "store/run_store.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/threads.h"
#include "util/time_text.h"

namespace itera::cli {

int decode_by_context(const ContextBenchRequest& r) {
    std::shared_ptr<const InferenceModel> a, b;
    std::string name_a, name_b;
    if (!r.checkpoints.empty()) {
        if (r.checkpoints.size() != 1 || !r.vs)
            throw Error("bench decode --contexts: give two checkpoints as A --vs B, or a preset");
        if (r.preset || r.vocab)
            throw Error("bench decode: give checkpoints or --preset/--vocab-size, not both");
        a = InferenceModel::load(resolve_checkpoint(r.checkpoints[0], r.db));
        b = InferenceModel::load(resolve_checkpoint(*r.vs, r.db));
        name_a = r.checkpoints[0];
        name_b = *r.vs;
    } else {
        if (r.vs) throw Error("bench decode --vs B compares one checkpoint A with B");
        const auto preset = r.preset.value_or("mini");
        const auto vocab = r.vocab.value_or(4096);
        a = InferenceModel::initialised(ModelConfig::preset(preset, vocab), 1);
        b = InferenceModel::initialised(ModelConfig::preset(preset, vocab, {kTransformerArch}), 1);
        name_a = preset + " itera-lite-v2 (freshly initialised)";
        name_b = preset + " transformer (freshly initialised)";
    }
    ContextTimingOptions o;
    o.contexts = r.contexts;
    o.decode_tokens = r.tokens;
    o.pairs = r.pairs;
    o.threads = set_thread_count(r.threads);
    o.progress = [&](std::int64_t context, int pair, int pairs) {
        if (!r.json)
            std::fprintf(stderr, "\r\033[Kcontext %lld, pair %d of %d ...",
                         static_cast<long long>(context), pair + 1, pairs);
    };
    const auto t = time_contexts(*a, *b, o);
    if (!r.json) std::fprintf(stderr, "\r\033[K");
    // A run's model keeps its figures in the run's folder, for `itera report --compare`.
    auto keep = [&](const std::string& arg, const std::string& partner, bool is_a) {
        if (arg.rfind("run:", 0) != 0) return;
        RunStore store(workspace_of(r.db).db_path);
        const auto id = parse_run_id(arg.substr(4));
        nlohmann::json points = nlohmann::json::array();
        for (const auto& p : t.points)
            points.push_back(
                {{"context", p.context},
                 {"decode_tokens_per_s", is_a ? p.decode.a_median : p.decode.b_median},
                 {"prefill_tokens_per_s", is_a ? p.prefill.a_median : p.prefill.b_median},
                 {"partner_decode_tokens_per_s", is_a ? p.decode.b_median : p.decode.a_median},
                 {"state_bytes", is_a ? p.state_bytes_a : p.state_bytes_b}});
        const nlohmann::json j = {{"measured_at", utc_now()},
                                  {"partner", partner},
                                  {"threads", o.threads},
                                  {"pairs", o.pairs},
                                  {"decode_tokens", o.decode_tokens},
                                  {"points", points}};
        write_file_atomically(store.run_dir(id) / kDecodeByContextFile, j.dump(2));
    };
    if (!r.checkpoints.empty()) {
        keep(r.checkpoints[0], *r.vs, true);
        keep(*r.vs, r.checkpoints[0], false);
    }
    auto describe = [](const InferenceModel& m, const std::string& name) {
        const auto& c = m.config();
        return nlohmann::json{{"model", name},
                              {"arch", c.arch},
                              {"params", parameter_count(c)},
                              {"active_params_per_token", active_parameter_count(c)},
                              {"attention_window", c.is_transformer() ? c.context_length : 0}};
    };
    if (r.json) {
        auto points = nlohmann::json::array();
        for (const auto& p : t.points)
            points.push_back({{"context", p.context},
                              {"decode_a", p.decode.a_median},
                              {"decode_b", p.decode.b_median},
                              {"decode_ratio", p.decode.ratio_median},
                              {"decode_ratio_min", p.decode.ratio_min},
                              {"decode_ratio_max", p.decode.ratio_max},
                              {"prefill_a", p.prefill.a_median},
                              {"prefill_b", p.prefill.b_median},
                              {"prefill_ratio", p.prefill.ratio_median},
                              {"state_bytes_a", p.state_bytes_a},
                              {"state_bytes_b", p.state_bytes_b}});
        nlohmann::json j = {
            {"a", describe(*a, name_a)}, {"b", describe(*b, name_b)},        {"threads", o.threads},
            {"pairs", o.pairs},          {"decode_tokens", o.decode_tokens}, {"points", points}};
        j["crossing_context"] = t.crossing ? nlohmann::json(*t.crossing) : nlohmann::json();
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::printf("A  %s (%s)\nB  %s (%s)\n", name_a.c_str(), a->config().arch.c_str(),
                name_b.c_str(), b->config().arch.c_str());
    std::printf(
        "%d thread(s); per context %d pairs A B / B A, %lld decoded tokens each; "
        "medians, B/A = median of the pair ratios\n\n",
        o.threads, o.pairs, static_cast<long long>(o.decode_tokens));
    std::printf("%8s  %12s %12s %7s   %12s %12s %7s   %10s %10s\n", "context", "decode A",
                "decode B", "B/A", "prefill A", "prefill B", "B/A", "state A", "state B");
    for (const auto& p : t.points)
        std::printf(
            "%8lld  %10.0f/s %10.0f/s %7.2f   %10.0f/s %10.0f/s %7.2f   %7.2f MB %7.2f MB\n",
            static_cast<long long>(p.context), p.decode.a_median, p.decode.b_median,
            p.decode.ratio_median, p.prefill.a_median, p.prefill.b_median, p.prefill.ratio_median,
            static_cast<double>(p.state_bytes_a) / 1e6, static_cast<double>(p.state_bytes_b) / 1e6);
    if (t.crossing)
        std::printf("\nthe decode speeds cross at a context of about %.0f tokens\n", *t.crossing);
    else
        std::printf("\nthe decode speeds do not cross between %lld and %lld tokens\n",
                    static_cast<long long>(o.contexts.front()),
                    static_cast<long long>(o.contexts.back()));
    return 0;
}

}  // namespace itera::cli
