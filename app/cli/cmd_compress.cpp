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
#include "checkpoint/safetensors.h"
#include "checkpoint_arg.h"
#include "commands.h"
#include "compress/compress.h"
#include "compress/measure.h"
#include "compress/mixed.h"
#include "progress.h"
#include "util/error.h"
#include "util/threads.h"

namespace itera::cli {
namespace {

constexpr const char* kCompressUsage =
    R"(usage: itera compress CHECKPOINT --method f16|bf16|int8|int4|nf4 --out FILE [options]
       itera compress CHECKPOINT --method mixed --target-size 2MB|--target-bpw 5 --out FILE

Writes a compressed copy of an FP32 checkpoint (a .safetensors file, or run:ID
for a stored run's best checkpoint) and measures what it cost against the
source, on held-out text: sizes on disk, bits per weight, perplexity and its
change, mean KL divergence of the next-token distributions, how often the most
likely token agrees, each quantized tensor's error, and decode speed of both.
The report is kept in the run store.

Every Linear weight is compressed: the embedding / tied head, in_proj, x_proj,
dt_proj, out_proj, the router and the FFN / expert w1 and w2. LayerNorms,
conv1d, A_log, D and dt_proj.bias stay FP32 (tiny, and the SSM recurrence
compounds their errors over every step).

Options:
  --method M             f16, bf16, int8 (per-row symmetric, FP32 scales), int4 (groups of
                         columns, F16 scale + zero per group) or nf4 (NormalFloat code book,
                         F16 absmax per group)
  --group-size G         int4 / nf4: columns per group (64; 32, 128, ... a multiple of 16)
  --symmetric            int4: w = (q - 8) · scale, no zero point
  --out FILE             the compressed .safetensors
  --keep-float PATTERN   keep weights whose name contains PATTERN in FP32 (repeatable),
                         e.g. --keep-float dt_proj --keep-float router
Mixed precision (--method mixed): each group of tensors (the embedding, each layer's
in/x/dt/out projection, each expert, router and FFN) is quantized alone to each
candidate and its loss change measured on calibration text (the training split of
the same corpus); the sweep is kept in the run store and reused. The plan then picks
a scheme per group meeting the target with the least predicted loss increase, and
the result is built and measured like any other method.
  --target-size S        the file size to reach (e.g. 2MB, 900KB)
  --target-bpw B         or bits per quantizable weight, scales included (e.g. 5)
  --candidates LIST      schemes to choose from (default int8,int4; f16, bf16, nf4 too)
  --calibration-tokens N tokens of calibration text per measurement (default 8192)

  --eval CORPUS          held-out text (default: the source run's corpus, else moby-dick)
  --max-tokens N         evaluate at most N tokens (default 65536)
  --no-eval              sizes and tensor errors only
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
    const auto candidates = a.text_or("candidates", "int8,int4");
    const auto calibration_tokens = a.integer_or("calibration-tokens", 8192, 256, 1 << 24);
    if (mixed != (target.bytes || target.bits_per_weight))
        throw Error(mixed ? "--method mixed needs --target-size or --target-bpw"
                          : "--target-size and --target-bpw apply to --method mixed");
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
    const int threads = set_thread_count(static_cast<int>(a.integer_or("threads", 0, 0, 4096)));
    const auto db = a.text("db");
    const bool json_out = a.flag("json");
    a.finish();
    if (a.positional().size() != 1) throw Error("itera compress takes one checkpoint (see --help)");
    const auto source = resolve_checkpoint(a.positional()[0], db);
    if (std::filesystem::exists(out) && std::filesystem::equivalent(out, source))
        throw Error("--out is the source checkpoint itself");

    MeasureOptions m;
    m.evaluate = !no_eval;
    m.eval_data = data;
    m.max_tokens = max_tokens;
    m.threads = threads;
    if (db) m.db = *db;
    if (!json_out) m.progress = phase_progress;
    if (mixed) {
        SweepOptions so;
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
        so.data = data;
        so.threads = threads;
        if (db) so.db = *db;
        so.progress = m.progress;
        return print_report(compress_mixed_and_measure(source, target, so, out, m), out, json_out);
    }
    return print_report(compress_and_measure(source, o, out, m), out, json_out);
}

static int print_report(const MeasuredCompression& measured, const std::filesystem::path& out,
                        bool json_out) {
    if (!json_out) std::fprintf(stderr, "\r\033[K");
    if (!measured.store_error.empty())
        std::fprintf(stderr, "itera: the report was not stored: %s\n",
                     measured.store_error.c_str());
    const auto& cr = measured.result;
    const auto j = nlohmann::json::parse(measured.report);
    const double ratio = j["ratio"].get<double>();

    if (json_out) {
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::printf("%-6s %10s %7s %6s %9s %8s %9s %7s %9s %9s\n", "method", "size", "ratio", "bpw",
                "PPL", "dPPL", "KLD", "top-1", "tok/s", "prefill");
    const bool ev = j.contains("perplexity");
    std::printf(
        "%-6s %10s %6.2fx %6.2f %9s %8s %9s %7s %9.0f %9.0f\n", "f32",
        mb(double(cr.source_bytes)).c_str(), 1.0, 32.0,
        ev ? std::to_string(j["source_perplexity"].get<double>()).substr(0, 7).c_str() : "-", "-",
        "-", "-", j["source_decode_tokens_per_s"].get<double>(),
        j["source_prefill_tokens_per_s"].get<double>());
    char ppl[32] = "-", dppl[32] = "-", kld[32] = "-", top1[32] = "-";
    if (ev) {
        std::snprintf(ppl, sizeof ppl, "%.3f", j["perplexity"].get<double>());
        std::snprintf(dppl, sizeof dppl, "%+.3f%%", j["delta_ppl_pct"].get<double>());
        std::snprintf(kld, sizeof kld, "%.5f", j["kld"].get<double>());
        std::snprintf(top1, sizeof top1, "%.2f%%", 100.0 * j["top1_agreement"].get<double>());
    }
    std::printf("%-6s %10s %6.2fx %6.2f %9s %8s %9s %7s %9.0f %9.0f\n",
                j["method"].get<std::string>().c_str(), mb(double(cr.bytes)).c_str(), ratio,
                cr.bits_per_weight, ppl, dppl, kld, top1, j["decode_tokens_per_s"].get<double>(),
                j["prefill_tokens_per_s"].get<double>());
    if (ev)
        std::printf(
            "\nheld-out text: %s validation, %lld tokens; tok/s: single stream, 1 thread (prefill: "
            "512-token prompt)\n",
            j["eval"]["data"].get<std::string>().c_str(),
            static_cast<long long>(j["eval"]["tokens"].get<std::int64_t>()));
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
    if (j.contains("plan")) {
        std::printf("\nmixed-precision plan (calibration: %lld tokens of %s, training split)\n",
                    static_cast<long long>(j["calibration"]["tokens"].get<std::int64_t>()),
                    j["calibration"]["data"].get<std::string>().c_str());
        std::printf("%-28s %-6s %10s %12s\n", "group", "scheme", "bytes", "pred. dloss");
        for (const auto& c : j["plan"])
            std::printf("%-28s %-6s %10s %12.5f\n", c["group"].get<std::string>().c_str(),
                        c["scheme"].get<std::string>().c_str(),
                        with_commas(c["bytes"].get<long long>()).c_str(),
                        c["predicted_delta_loss"].get<double>());
        std::printf("predicted: %s, dPPL %+.3f%%", mb(j["predicted_bytes"].get<double>()).c_str(),
                    j["predicted_delta_ppl_pct"].get<double>());
        if (j.contains("delta_ppl_pct"))
            std::printf("; measured: %s, dPPL %+.3f%% (held-out)", mb(double(cr.bytes)).c_str(),
                        j["delta_ppl_pct"].get<double>());
        std::printf("\n");
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
