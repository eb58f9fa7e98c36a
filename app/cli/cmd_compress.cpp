// `itera compress`: a compressed model and what it cost, measured — file
// sizes, quality on held-out text against the FP32 source (perplexity, KL
// divergence, top-1 agreement), per-tensor error and decode speed — kept in
// the run store. `itera inspect`: every tensor of a checkpoint file.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

#include "args.h"
#include "checkpoint_arg.h"
#include "commands.h"
#include "compress/compress.h"
#include "compress/mixed.h"
#include "eval/quality_stats.h"
#include "format/safetensors.h"
#include "progress.h"
#include "util/error.h"
#include "util/threads.h"
#include "workflows/compression.h"

namespace itera::cli {
namespace {

constexpr const char* kCompressUsage =
    R"(usage: itera compress CHECKPOINT --method f16|bf16|int8|int4|nf4 --out FILE [options]
       itera compress CHECKPOINT --method mixed --target-size 2MB|--target-bpw 5|--target-kld 0.01
                      --out FILE

Writes a compressed copy of an FP32 checkpoint (a .safetensors file, or run:ID
for a stored run's best checkpoint) and measures what it cost against the
source, on held-out text, with the statistics of llama.cpp's perplexity
--kl-divergence: both perplexities and ln(PPL ratio) with its uncertainty (a
change whose 95 % interval contains 0 is reported "within noise"), the KL
divergence's mean ± uncertainty and percentiles, the change of the correct
token's probability, and how often the most likely token agrees. Speeds: both
models timed interleaved (after a warm-up, pairs of runs in alternating order;
the ratio is the median of the pair ratios, with its min and max). The file is
written under a temporary name and only renamed to --out once measured. The
report is kept in the run store.

Every Linear weight is compressed: the embedding / tied head, in_proj, x_proj,
dt_proj, out_proj, the router and the FFN / expert w1 and w2. LayerNorms,
conv1d, A_log, D and dt_proj.bias stay FP32 (tiny, and the SSM recurrence
compounds their errors over every step).

Options:
  --method M             f16, bf16, int8 (per-row symmetric, FP32 scales), int4 (groups of
                         columns, F16 scale + zero per group) or nf4 (NormalFloat code book,
                         F16 absmax per group); fp16, q8 and q4 name f16, int8 and int4
  --group-size G         int4 / nf4: columns per group (64; 32, 128, ... a multiple of 16)
  --symmetric            int4: w = (q - 8) · scale, no zero point
  --out FILE             the compressed .safetensors
  --keep-float PATTERN   keep weights whose name contains PATTERN in FP32 (repeatable),
                         e.g. --keep-float dt_proj --keep-float router
Mixed precision (--method mixed): each group of tensors (the embedding, each layer's
in/x/dt/out projection, each expert, router and FFN) is quantized alone to each
candidate and its mean KL divergence from the source measured on calibration text
(the training split of the same corpus), with more text while the effects do not
stand above their noise; the sweep is kept in the run store and reused. The plan
picks a scheme per group meeting the target with the least predicted divergence.
The plan and every uniform candidate that meets the target are then measured on
the calibration text and the better one is written (a plan is never kept when a
uniform scheme beats it), and the result is measured like any other method.
  --target-size S        the file size to reach (e.g. 2MB, 900KB)
  --target-bpw B         or bits per quantizable weight, scales included (e.g. 5)
  --target-kld K         or the smallest file whose measured mean KLD stays under K
  --candidates LIST      schemes to choose from (default int8,int4; f16, bf16, nf4 too)
  --calibration-tokens N calibration tokens to start from (default 8192)
  --max-calibration-tokens N
                         doubled up to this while the effects are below their noise (32768)

  --eval CORPUS          held-out text (default: the source run's corpus, else moby-dick)
  --max-tokens N         evaluate at most N tokens (default 65536)
  --no-eval              sizes and tensor errors only
  --timing-pairs N       interleaved pairs per speed comparison (default 5, at least 5)
  --threads N            (all cores)   --db PATH   --json

Examples:
  itera compress run:1 --method int8 --out moby-int8.safetensors
  itera compress model.safetensors --method bf16 --out model-bf16.safetensors --json
  itera compress run:1 --method mixed --target-size 2MB --out moby-mixed.safetensors
)";

constexpr const char* kInspectUsage = R"(usage: itera inspect FILE [--json]

Lists every tensor of a .safetensors checkpoint (name, shape, dtype, bytes),
its metadata and the totals by dtype.

Examples:
  itera inspect runs/1/best.safetensors
  itera inspect m-int4.safetensors --json
)";

std::string mb(double bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f MB", bytes / 1e6);
    return buf;
}

}  // namespace

/// Prints a measured compression (a table, or the JSON report); the exit code.
static int print_report(const MeasuredCompression& measured, const std::filesystem::path& out,
                        bool json_out);

int compress_command(const std::vector<std::string>& args) {
    Args a(args, {"json", "help", "no-eval", "symmetric"}, {"keep-float"});
    if (a.flag("help")) {
        std::cout << kCompressUsage;
        return 0;
    }
    CompressOptions o;
    const auto method = a.required("method");
    const bool mixed = method == "mixed";
    o.scheme = mixed ? Scheme::F32 : parse_scheme(method);
    MixedTarget target;
    if (auto s = a.text("target-size")) target.bytes = parse_size(*s);
    target.bits_per_weight = a.real("target-bpw", 1.0, 32.0);
    target.kld = a.real("target-kld", 1e-9, 100.0);
    const auto candidates = a.text_or("candidates", "int8,int4");
    const auto calibration_tokens = a.integer_or("calibration-tokens", 8192, 256, 1 << 24);
    const auto max_calibration_tokens =
        a.integer_or("max-calibration-tokens", std::max<std::int64_t>(32768, calibration_tokens),
                     calibration_tokens, 1 << 24);
    const int targets = int(target.bytes.has_value()) + int(target.bits_per_weight.has_value()) +
                        int(target.kld.has_value());
    if (mixed ? targets != 1 : targets != 0)
        throw Error(mixed ? "--method mixed needs --target-size or --target-bpw (or --target-kld), "
                            "exactly one"
                          : "--target-size, --target-bpw and --target-kld apply to --method mixed");
    const std::filesystem::path out = a.required("out");
    o.keep_float = a.texts("keep-float");
    o.group_size = a.integer_or("group-size", 64, 16, 4096);
    o.symmetric = a.flag("symmetric");
    if (o.group_size % 16) throw Error("--group-size must be a multiple of 16 (32, 64, 128, ...)");
    if (o.symmetric && o.scheme != Scheme::Int4 && !mixed)
        throw Error("--symmetric applies to int4 only");
    const auto data = a.text("eval");
    const bool no_eval = a.flag("no-eval");
    const auto max_tokens = a.integer_or("max-tokens", 65536, 1, INT64_MAX);
    const auto timing_pairs = a.integer_or("timing-pairs", 5, 5, 1000);
    const int threads = set_thread_count(static_cast<int>(a.integer_or("threads", 0, 0, 4096)));
    const auto db = a.text("db");
    const bool json_out = a.flag("json");
    a.finish();
    if (a.positional().size() != 1) throw Error("itera compress takes one checkpoint (see --help)");
    const auto source = resolve_checkpoint(a.positional()[0], db);
    if (std::filesystem::exists(out) && std::filesystem::equivalent(out, source))
        throw Error("--out is the source checkpoint itself");

    const auto ws = workspace_of(db);
    MeasureRequest m;
    m.evaluate = !no_eval;
    m.eval_data = data;
    m.max_tokens = max_tokens;
    m.threads = threads;
    m.timing_pairs = static_cast<int>(timing_pairs);
    if (!json_out) m.progress = phase_progress;
    if (mixed) {
        SweepSettings so;
        so.candidates.clear();
        std::size_t start = 0;
        while (start <= candidates.size()) {
            auto end = candidates.find(',', start);
            if (end == std::string::npos) end = candidates.size();
            so.candidates.push_back(QuantSettings{
                parse_scheme(candidates.substr(start, end - start)), o.group_size, o.symmetric});
            start = end + 1;
        }
        so.calibration_tokens = calibration_tokens;
        so.max_calibration_tokens = max_calibration_tokens;
        so.threads = threads;
        so.progress = m.progress;
        return print_report(compress_mixed_and_measure(ws, source, target, so, data, out, m), out,
                            json_out);
    }
    return print_report(compress_and_measure(ws, source, o, out, m), out, json_out);
}

static int print_report(const MeasuredCompression& measured, const std::filesystem::path& out,
                        bool json_out) {
    if (!json_out) std::fprintf(stderr, "\r\033[K");
    if (!measured.store_error.empty())
        std::fprintf(stderr, "itera: the report was not stored: %s\n",
                     measured.store_error.c_str());
    const auto& cr = measured.result;
    const auto& r = measured.report;
    if (json_out) {
        std::cout << nlohmann::json::parse(r.to_json()).dump(2) << "\n";
        return 0;
    }
    std::printf("%-6s %10s %7s %6s %9s %30s %9s %7s\n", "method", "size", "ratio", "bpw", "PPL",
                "dPPL (95 % interval)", "KLD", "top-1");
    const auto& q = r.quality;
    const auto& st = r.statistics;
    char src_ppl[32] = "-";
    if (q) std::snprintf(src_ppl, sizeof src_ppl, "%.3f", q->source_perplexity);
    std::printf("%-6s %10s %6.2fx %6.2f %9s %30s %9s %7s\n", "f32",
                mb(double(r.source_bytes)).c_str(), 1.0, 32.0, src_ppl, "-", "-", "-");
    char ppl[32] = "-", kld[32] = "-", top1[32] = "-";
    std::string dppl = "-";
    if (q) {
        std::snprintf(ppl, sizeof ppl, "%.3f", q->perplexity);
        std::snprintf(kld, sizeof kld, "%.5f", q->kld);
        std::snprintf(top1, sizeof top1, "%.2f%%", 100.0 * q->top1_agreement);
        dppl = st ? delta_ppl_text(*st) : std::to_string(q->delta_ppl_pct) + " %";
    }
    std::printf("%-6s %10s %6.2fx %6.2f %9s %30s %9s %7s\n", r.method.c_str(),
                mb(double(r.bytes)).c_str(), r.ratio, r.bpw.value_or(32.0), ppl, dppl.c_str(), kld,
                top1);
    if (st && r.eval) {
        std::printf("\nheld-out text: %s validation, %lld tokens\n", r.eval->data.c_str(),
                    static_cast<long long>(st->tokens));
        std::printf("  ln(PPL/PPL_fp32) %+.6f ± %.6f\n", st->ln_ppl_ratio, st->ln_ppl_ratio_unc);
        std::printf(
            "  KLD  mean %.6f ± %.6f  median %.6f  p90 %.6f  p95 %.6f  p99 %.6f  p99.9 %.6f  "
            "max %.6f\n",
            st->kld_mean, st->kld_unc, st->kld.median, st->kld.p90, st->kld.p95, st->kld.p99,
            st->kld.p999, st->kld.max);
        std::printf(
            "  dp   mean %+.6f ± %.6f  RMS %.6f  p1 %+.5f  p5 %+.5f  median %+.6f  p95 %+.5f  "
            "p99 %+.5f\n",
            st->dp_mean, st->dp_unc, st->dp_rms, st->dp.p1, st->dp.p5, st->dp.median, st->dp.p95,
            st->dp.p99);
        std::printf("  same top-1 %.3f%% ± %.3f%%\n", 100 * st->same_top, 100 * st->same_top_unc);
    }
    if (const auto& p = r.paired) {
        std::printf(
            "\nspeed: %d pairs after a warm-up, both models in turn, %d thread; "
            "ratio = median of the pair ratios [min - max]\n",
            p->pairs, p->threads);
        auto row = [&](const char* what, const PairedRate& pr) {
            if (pr.a.empty()) return;
            std::printf("  %-24s fp32 %9.0f tok/s   %-6s %9.0f tok/s   %.2fx [%.2f - %.2f]\n", what,
                        pr.a_median, r.method.c_str(), pr.b_median, pr.ratio_median, pr.ratio_min,
                        pr.ratio_max);
        };
        row(("decode " + std::to_string(p->decode_tokens) + " tokens").c_str(), p->decode);
        row(("prefill " + std::to_string(p->prompt_tokens) + " tokens").c_str(), p->prefill);
        row(("batched " + std::to_string(p->batch) + " x " + std::to_string(p->batch_tokens))
                .c_str(),
            p->batched);
    }
    std::printf("\n%-44s %-14s %-6s %10s %9s %8s\n", "tensor", "shape", "scheme", "bytes",
                "rel RMS", "SQNR dB");
    for (const auto& t : cr.tensors) {
        if (t.scheme == "f32") continue;
        std::string shape = std::to_string(t.shape[0]) + "x" + std::to_string(t.shape[1]);
        std::printf("%-44s %-14s %-6s %10s %9.2e %8.1f\n", t.name.c_str(), shape.c_str(),
                    t.scheme.c_str(), with_commas(static_cast<long long>(t.bytes)).c_str(),
                    t.error.rel_rms, t.error.sqnr_db);
    }
    std::printf("(other tensors kept in FP32)\n");
    if (r.mixed) {
        const auto& plan = *r.mixed;
        std::printf(
            "\nmixed-precision plan (calibration: %lld tokens of %s, training split; noise "
            "floor %.6f, %.0f%% of the effects above twice their noise)\n",
            static_cast<long long>(plan.calibration_tokens), plan.calibration_data.c_str(),
            plan.noise_floor, 100 * plan.above_noise);
        std::printf("%-28s %-6s %10s %12s\n", "group", "scheme", "bytes", "KLD");
        for (const auto& c : plan.plan)
            std::printf("%-28s %-6s %10s %12.6f\n", c.group.c_str(), c.scheme.c_str(),
                        with_commas(static_cast<long long>(c.bytes)).c_str(), c.kld);
        std::printf("predicted: %s, mean KLD %.6f\n", mb(double(plan.predicted_bytes)).c_str(),
                    plan.predicted_kld);
        if (!plan.candidates.empty()) {
            std::printf("\n%-8s %12s %22s %s\n", "candidate", "bytes", "KLD (calibration)",
                        "meets the target");
            for (const auto& c : plan.candidates)
                std::printf("%-8s %12s %12.6f ± %.6f %s\n", c.name.c_str(),
                            with_commas(static_cast<long long>(c.bytes)).c_str(), c.kld, c.kld_unc,
                            c.meets_target ? "yes" : "no");
            std::printf("chosen: %s: %s\n", plan.chosen.c_str(), plan.reason.c_str());
        }
    }
    std::printf("written %s\n", out.string().c_str());
    return 0;
}

int inspect_command(const std::vector<std::string>& args) {
    Args a(args, {"json", "help"});
    if (a.flag("help")) {
        std::cout << kInspectUsage;
        return 0;
    }
    const bool json_out = a.flag("json");
    a.finish();
    if (a.positional().size() != 1) throw Error("itera inspect takes one file (see --help)");
    auto file = SafetensorsFile::read(a.positional()[0]);
    std::map<std::string, std::pair<std::int64_t, std::uint64_t>>
        by_dtype;  // dtype → (values, bytes)
    nlohmann::json tensors = nlohmann::json::array();
    for (const auto& t : file.tensors()) {
        auto& agg = by_dtype[std::string(dtype_name(t.dtype))];
        agg.first += t.numel();
        agg.second += t.nbytes;
        tensors.push_back({{"name", t.name},
                           {"shape", t.shape},
                           {"dtype", std::string(dtype_name(t.dtype))},
                           {"bytes", t.nbytes}});
    }
    const auto file_bytes = std::filesystem::file_size(a.positional()[0]);
    if (json_out) {
        nlohmann::json totals = nlohmann::json::object();
        for (const auto& [dt, v] : by_dtype)
            totals[dt] = {{"values", v.first}, {"bytes", v.second}};
        nlohmann::json meta = file.metadata();
        std::cout << nlohmann::json{{"file", a.positional()[0]},
                                    {"bytes", file_bytes},
                                    {"metadata", meta},
                                    {"tensors", tensors},
                                    {"totals", totals}}
                         .dump(2)
                  << "\n";
        return 0;
    }
    std::printf("%-50s %-18s %-5s %12s\n", "tensor", "shape", "dtype", "bytes");
    for (const auto& t : file.tensors()) {
        std::string shape = "(";
        for (std::size_t i = 0; i < t.shape.size(); ++i)
            shape += (i ? ", " : "") + std::to_string(t.shape[i]);
        shape += ")";
        std::printf("%-50s %-18s %-5s %12s\n", t.name.c_str(), shape.c_str(),
                    std::string(dtype_name(t.dtype)).c_str(),
                    with_commas(static_cast<long long>(t.nbytes)).c_str());
    }
    std::printf("\n");
    for (const auto& [dt, v] : by_dtype)
        std::printf("%-5s %14s values %14s bytes\n", dt.c_str(), with_commas(v.first).c_str(),
                    with_commas(static_cast<long long>(v.second)).c_str());
    std::printf("file  %14s bytes on disk, %zu tensors\n",
                with_commas(static_cast<long long>(file_bytes)).c_str(), file.tensors().size());
    for (const auto& key : {"format", "format_version", "quantization", "run_id", "step"})
        if (auto it = file.metadata().find(key); it != file.metadata().end())
            std::printf("%-14s %s\n", key,
                        it->second.size() > 100 ? (it->second.substr(0, 100) + " ...").c_str()
                                                : it->second.c_str());
    return 0;
}

}  // namespace itera::cli
