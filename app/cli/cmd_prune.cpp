// `itera prune`: a smaller spec model cut from a checkpoint by measured
// importance, optionally fine-tuned; `itera distill`: a student preset trained
// from a teacher, and the same student without it. Both measure their models
// against the source like `itera compress` and keep the reports in the store.

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "args.h"
#include "checkpoint_arg.h"
#include "commands.h"
#include "progress.h"
#include "train_progress.h"
#include "util/error.h"
#include "util/threads.h"
#include "workflows/distill.h"
#include "workflows/prune_run.h"

namespace itera::cli {
namespace {

constexpr const char* kPruneUsage =
    R"(usage: itera prune CHECKPOINT (--experts N | --ffn-keep F | --channels-keep F)...
                   [--finetune-steps N] --out FILE [options]

Cuts a smaller model that is still a valid spec model out of an FP32
checkpoint (a .safetensors file, or run:ID for a stored run's best), choosing
what to drop from statistics measured on calibration text (the training split
of the source run's corpus), then measures it against the source on held-out
text like `itera compress` and keeps the report in the run store.

  --experts N            experts kept per MoE layer (top_k_experts .. num_experts)
  --expert-criterion C   sensitivity (default: the calibration loss with the expert
                         removed from routing) or load (its share of assignments)
  --ffn-keep F           fraction of hidden units kept in every FFN and expert, ranked
                         per FFN by mean |gelu(w1·u)| × ‖w2 column‖
  --channels-keep F      fraction of SSM inner channels kept, ranked per layer by
                         RMS(y ⊙ silu z) × ‖out_proj column‖. The spec's di is
                         ssm_expand · hidden_size with an integer ssm_expand, so F must
                         be k / ssm_expand (0.5 for the presets)
  --calibration-tokens N (16384)
  --finetune-steps N     then fine-tune for N steps on the source run's training text
                         (a run in the store, linked to the pruned file); the untuned
                         model stays beside FILE as NAME.untuned.safetensors and is
                         measured too
  --finetune-lr LR       peak learning rate of the fine-tune (0.0005)
  --out FILE             the pruned .safetensors
  --eval CORPUS  --max-tokens N (65536)  --threads N (all cores)  --db PATH  --json

Examples:
  itera prune run:3 --experts 3 --out moby-e3.safetensors
  itera prune run:3 --ffn-keep 0.75 --finetune-steps 200 --out moby-ffn75.safetensors
  itera prune run:3 --channels-keep 0.5 --experts 2 --out moby-small.safetensors --json
)";

constexpr const char* kDistillUsage =
    R"(usage: itera distill --teacher CHECKPOINT [--student-preset micro] (--steps N | --minutes M)
                     [--alpha 0.5] [--temperature 2] [options]

Trains a student preset from a teacher (a .safetensors file or run:ID) on the
teacher run's corpus, with loss α·T²·KL(teacher_T ‖ student_T) + (1 − α)·CE (the
KL averaged over tokens; the teacher frozen). Then trains the same student
without the teacher for the same number of steps (same seed: the same initial
weights and batches), and measures both against the teacher on held-out text
like `itera compress`. Both are runs in the store; the student is linked to
its teacher.

  --teacher CHECKPOINT   an FP32 checkpoint with the tokenizer the student will use
  --student-preset P     micro (default), mini, small, medium
  --alpha A              weight of the distillation term in [0, 1] (0.5)
  --temperature T        softening of both distributions (2)
  --steps N | --minutes M   the student's length (a time budget is planned once, and
                         the baseline gets the same number of steps)
  --batch-size 16  --seq-len 128  --lr 0.002  --warmup 100  --seed 0
  --eval-every 200  --no-baseline (skip the student without a teacher)
  --eval CORPUS  --max-tokens N (65536)  --threads N (all cores)  --db PATH  --json

Examples:
  itera distill --teacher run:3 --student-preset micro --minutes 5
  itera distill --teacher best.safetensors --steps 800 --alpha 0.7 --temperature 1.5 --json
)";

TrainControl* g_control = nullptr;

extern "C" void stop_pruning_or_distilling(int signal) {
    if (g_control) g_control->stop();
    std::signal(signal, SIG_DFL);
}

class StopOnSignals {
public:
    explicit StopOnSignals(TrainControl* c) {
        g_control = c;
        for (int s : {SIGINT, SIGTERM}) std::signal(s, stop_pruning_or_distilling);
    }
    ~StopOnSignals() {
        for (int s : {SIGINT, SIGTERM}) std::signal(s, SIG_DFL);
        g_control = nullptr;
    }
};

MeasureRequest measure_options(Args& a, bool json_out) {
    MeasureRequest m;
    m.eval_data = a.text("eval");
    m.max_tokens = a.integer_or("max-tokens", 65536, 1, INT64_MAX);
    m.threads = set_thread_count(static_cast<int>(a.integer_or("threads", 0, 0, 4096)));
    if (!json_out) m.progress = phase_progress;
    return m;
}

std::string mb(double bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f MB", bytes / 1e6);
    return buf;
}

// One row of the comparison table from a measured report.
void print_row(const std::string& label, const CompressionReport& r) {
    char ppl[32] = "-", dppl[32] = "-", kld[32] = "-", top1[32] = "-", bpb[32] = "-";
    if (const auto& q = r.quality) {
        std::snprintf(ppl, sizeof ppl, "%.3f", q->perplexity);
        std::snprintf(dppl, sizeof dppl, "%+.2f%%", q->delta_ppl_pct);
        std::snprintf(kld, sizeof kld, "%.4f", q->kld);
        std::snprintf(top1, sizeof top1, "%.2f%%", 100.0 * q->top1_agreement);
        std::snprintf(bpb, sizeof bpb, "%.3f", q->bits_per_byte);
    }
    std::printf("%-22s %10s %6.2fx %9s %9s %7s %9s %7s %9.0f\n", label.c_str(),
                mb(double(r.bytes)).c_str(), r.ratio, ppl, dppl, bpb, kld, top1,
                r.speed ? r.speed->decode_tokens_per_s : 0.0);
}

void print_header(const CompressionReport& any) {
    std::printf("%-22s %10s %7s %9s %9s %7s %9s %7s %9s\n", "model", "size", "ratio", "PPL", "dPPL",
                "bpb", "KLD", "top-1", "tok/s");
    char ppl[32] = "-", bpb[32] = "-";
    if (const auto& q = any.quality) {
        std::snprintf(ppl, sizeof ppl, "%.3f", q->source_perplexity);
        std::snprintf(bpb, sizeof bpb, "%.3f", q->source_bits_per_byte);
    }
    std::printf("%-22s %10s %6.2fx %9s %9s %7s %9s %7s %9.0f\n", "source (fp32)",
                mb(double(any.source_bytes)).c_str(), 1.0, ppl, "-", bpb, "-", "-",
                any.speed ? any.speed->source_decode_tokens_per_s : 0.0);
}

nlohmann::json report_json(const CompressionReport& r) {
    return nlohmann::json::parse(r.to_json());
}

void warn_store(const MeasuredCompression& m) {
    if (!m.store_error.empty())
        std::fprintf(stderr, "itera: the report was not stored: %s\n", m.store_error.c_str());
}

}  // namespace

int prune_command(const std::vector<std::string>& args) {
    Args a(args, {"json", "help"});
    if (a.flag("help")) {
        std::cout << kPruneUsage;
        return 0;
    }
    PruneOptions o;
    o.experts = a.integer("experts", 1, 1 << 20);
    o.ffn_keep = a.real("ffn-keep", 1e-9, 1);
    o.channels_keep = a.real("channels-keep", 1e-9, 1);
    o.expert_criterion = a.text_or("expert-criterion", "sensitivity");
    o.calibration_tokens = a.integer_or("calibration-tokens", 16384, 256, 1 << 24);
    FinetuneOptions ft;
    ft.steps = a.integer_or("finetune-steps", 0, 0, 1 << 30);
    if (auto lr = a.real("finetune-lr", 1e-9, 1)) ft.lr = *lr;
    const std::filesystem::path out = a.required("out");
    const bool json_out = a.flag("json");
    auto m = measure_options(a, json_out);
    const auto db = a.text("db");
    a.finish();
    if (!o.any()) throw Error("give what to prune: --experts N, --ffn-keep F or --channels-keep F");
    if (a.positional().size() != 1) throw Error("itera prune takes one checkpoint (see --help)");
    const auto source = resolve_checkpoint(a.positional()[0], db);

    TrainControl control;
    StopOnSignals signals(&control);
    ft.control = &control;
    ProgressPrinter printer("fine-tune: ");
    if (!json_out) ft.progress = std::ref(printer);
    auto r = prune_and_measure(workspace_of(db), source, o, ft, out, m);
    if (!json_out) std::fprintf(stderr, "\r\033[K");
    warn_store(r.pruned);
    if (r.tuned) warn_store(*r.tuned);
    const auto& cut = r.pruned.report;
    if (json_out) {
        nlohmann::json j = {{"pruned", report_json(cut)}};
        if (r.tuned) j["finetuned"] = report_json(r.tuned->report);
        if (r.finetune_run) j["finetune_run_id"] = *r.finetune_run;
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    const auto& before = r.plan.before;
    const auto& after = r.plan.after;
    std::printf(
        "pruned %s: experts %lld -> %lld, expert_size %lld -> %lld, di %lld -> %lld; "
        "%s -> %s parameters\n",
        source.filename().string().c_str(), (long long)before.num_experts,
        (long long)after.num_experts, (long long)before.expert_size, (long long)after.expert_size,
        (long long)before.inner_size(), (long long)after.inner_size(),
        with_commas(cut.source_params.value_or(0)).c_str(),
        with_commas(cut.params.value_or(0)).c_str());
    if (!r.plan.experts.empty()) {
        std::printf("\n%-6s %-7s %8s %12s %s\n", "layer", "expert", "load", "dloss", "kept");
        for (const auto& e : r.plan.experts)
            std::printf("%-6lld %-7lld %7.1f%% %12.5f %s\n", (long long)e.layer,
                        (long long)e.expert, 100 * e.load, e.delta_loss, e.kept ? "yes" : "no");
        std::printf("(dloss: calibration loss without the expert minus with it, %lld tokens)\n",
                    (long long)r.plan.calibration_tokens);
    }
    std::printf("\n");
    print_header(cut);
    print_row(r.tuned ? "pruned (untuned)" : "pruned", cut);
    if (r.tuned)
        print_row("pruned + " + std::to_string(r.finetune->steps) + " steps", r.tuned->report);
    if (cut.eval)
        std::printf("\nheld-out text: %s validation, %lld tokens; tok/s: single stream, 1 thread\n",
                    cut.eval->data.c_str(), static_cast<long long>(cut.eval->tokens));
    if (r.finetune_run)
        std::printf("fine-tune: run %lld (itera runs show %lld)\n", (long long)*r.finetune_run,
                    (long long)*r.finetune_run);
    if (r.tuned) std::printf("written %s\n", untuned_path(out).string().c_str());
    std::printf("written %s\n", out.string().c_str());
    return 0;
}

int distill_command(const std::vector<std::string>& args) {
    Args a(args, {"json", "help", "no-baseline"});
    if (a.flag("help")) {
        std::cout << kDistillUsage;
        return 0;
    }
    DistillOptions o;
    const auto db = a.text("db");
    const auto teacher = resolve_checkpoint(a.required("teacher"), db);
    o.student_preset = a.text_or("student-preset", "micro");
    if (auto v = a.real("alpha", 0, 1)) o.alpha = *v;
    if (auto v = a.real("temperature", 0.1, 100)) o.temperature = *v;
    auto& s = o.train;
    s.adam.lr = 2e-3;
    if (auto v = a.integer("steps", 1, std::int64_t{1} << 40)) s.steps = *v;
    if (auto v = a.real("minutes", 1e-3, 525600)) s.minutes = *v;
    if (s.steps > 0 && s.minutes > 0) throw Error("give --steps or --minutes, not both");
    if (s.steps == 0 && s.minutes == 0)
        throw Error("give the student's length: --steps N or --minutes M");
    s.batch_size = a.integer_or("batch-size", s.batch_size, 1, 65536);
    s.seq_len = a.integer_or("seq-len", s.seq_len, 1, 1 << 20);
    if (auto v = a.real("lr", 1e-12, 10)) s.adam.lr = *v;
    s.warmup_steps = a.integer_or("warmup", s.warmup_steps, 0, std::int64_t{1} << 40);
    s.seed = static_cast<std::uint64_t>(a.integer_or("seed", 0, 0, INT64_MAX));
    s.eval_every = a.integer_or("eval-every", s.eval_every, 1, std::int64_t{1} << 40);
    o.baseline = !a.flag("no-baseline");
    const bool json_out = a.flag("json");
    auto m = measure_options(a, json_out);
    s.threads = m.threads;
    a.finish();
    if (!a.positional().empty())
        throw Error("itera distill takes no positional argument (see --help)");
    bool known = false;
    for (const auto& p : ModelConfig::preset_names()) known = known || p == o.student_preset;
    if (!known) throw Error("unknown --student-preset \"" + o.student_preset + "\"");

    TrainControl control;
    StopOnSignals signals(&control);
    o.control = &control;
    ProgressPrinter student("student: "), baseline("baseline: ");
    if (!json_out)
        o.progress = [&](const std::string& which, const TrainProgress& p) {
            (which == "student" ? student : baseline)(p);
        };
    auto r = distill_and_measure(workspace_of(db), teacher, o, m);
    if (!json_out) std::fprintf(stderr, "\r\033[K");
    auto summary = [](const DistilledModel& d) {
        nlohmann::json j = {{"run_id", d.run_id},
                            {"status", run_status_name(d.train.status)},
                            {"steps", d.train.steps},
                            {"tokens", d.train.tokens},
                            {"model", d.model.string()}};
        if (d.measured) j["report"] = report_json(d.measured->report);
        return j;
    };
    if (r.student.measured) warn_store(*r.student.measured);
    if (r.baseline && r.baseline->measured) warn_store(*r.baseline->measured);
    if (json_out) {
        nlohmann::json j = {{"student", summary(r.student)}};
        if (r.baseline) j["baseline"] = summary(*r.baseline);
        std::cout << j.dump(2) << "\n";
        return r.student.train.status == RunStatus::Finished ? 0 : 1;
    }
    std::printf("student run %lld (%s, %lld steps, %s tokens)", (long long)r.student.run_id,
                run_status_name(r.student.train.status).c_str(), (long long)r.student.train.steps,
                with_commas(r.student.train.tokens).c_str());
    if (r.baseline)
        std::printf("; baseline run %lld (%s)", (long long)r.baseline->run_id,
                    run_status_name(r.baseline->train.status).c_str());
    std::printf("\n\n");
    if (!r.student.measured) {
        std::printf("the student did not finish (%s); nothing was measured\n",
                    r.student.train.message.c_str());
        return 1;
    }
    const auto& sj = r.student.measured->report;
    print_header(sj);
    print_row(o.student_preset + " distilled", sj);
    if (r.baseline && r.baseline->measured)
        print_row(o.student_preset + " without teacher", r.baseline->measured->report);
    if (sj.eval)
        std::printf("\nheld-out text: %s validation, %lld tokens; tok/s: single stream, 1 thread\n",
                    sj.eval->data.c_str(), static_cast<long long>(sj.eval->tokens));
    std::printf("written %s\n", r.student.model.string().c_str());
    if (r.baseline && !r.baseline->model.empty())
        std::printf("written %s\n", r.baseline->model.string().c_str());
    return 0;
}

}  // namespace itera::cli
