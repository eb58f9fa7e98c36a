// `itera eval`: perplexity, mean cross-entropy and bits per byte of a
// checkpoint on one split of a corpus, tokenised with the checkpoint's own
// tokenizer.

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "args.h"
#include "checkpoint_arg.h"
#include "commands.h"
#include "eval/compare.h"
#include "eval/eval_data.h"
#include "eval/evaluate.h"
#include "format/safetensors.h"
#include "model/checkpoint.h"
#include "progress.h"
#include "util/error.h"
#include "util/threads.h"
#include "workflows/run_launch.h"

namespace itera::cli {
namespace {

constexpr const char* kEvalUsage = R"(usage: itera eval CHECKPOINT [--data CORPUS] [options]

Evaluates a checkpoint (a .safetensors file, or run:ID for a stored run's best
checkpoint) on held-out text: mean cross-entropy (nats/token), perplexity and
bits per UTF-8 byte. The corpus is tokenised with the checkpoint's tokenizer
(cached under the data folder). Without --data, a checkpoint from a stored run
is evaluated on its run's corpus and split; otherwise on moby-dick.

Options:
  --data CORPUS            a built-in name (moby-dick, sotu) or a path
  --format F               auto|text|tinystories-txt|tinystories-json|wikitext
  --split S                validation (default) or train
  --validation-fraction F  (0.05)  --split-seed S (0)  --replace-invalid-utf8
  --max-tokens N           evaluate at most N tokens (default: the whole split)
  --batch-size B (16)  --seq-len T (128)  --threads N (all cores)
  --db PATH                run store (for run:ID and the run's corpus)
  --json                   loss, perplexity, bits_per_byte, tokens, bytes, ...

Examples:
  itera eval run:1
  itera eval model.safetensors --data moby-dick --json
)";

/// The corpus, format and split settings of the checkpoint's run when the
/// store knows it; the defaults (moby-dick) otherwise.
DataSpec default_spec(const std::map<std::string, std::string>& meta,
                      const std::optional<std::string>& db, std::string& origin) {
    origin = "default";
    if (!meta.count("run_id")) return DataSpec::from_json("{}");
    try {
        RunStore store(workspace_of(db).db_path);
        if (auto id = source_run_id(store, meta)) {
            origin = "run " + std::to_string(*id);
            return source_data_spec(store, meta);
        }
    } catch (const Error&) {  // no usable store: the defaults
    }
    return DataSpec::from_json("{}");
}

}  // namespace

int eval_command(const std::vector<std::string>& args) {
    Args a(args, {"json", "help", "replace-invalid-utf8"});
    if (a.flag("help")) {
        std::cout << kEvalUsage;
        return 0;
    }
    const auto data = a.text("data");
    const auto format = a.text("format");
    const auto split_name = a.text_or("split", "validation");
    const auto fraction = a.real("validation-fraction", 0, 0.9);
    const auto split_seed = a.integer("split-seed", 0, INT64_MAX);
    const bool replace = a.flag("replace-invalid-utf8");
    EvalOptions eo;
    eo.max_tokens = a.integer_or("max-tokens", INT64_MAX, 1, INT64_MAX);
    eo.batch_size = a.integer_or("batch-size", 16, 1, 4096);
    eo.seq_len = a.integer_or("seq-len", 128, 1, 1 << 20);
    const int threads = static_cast<int>(a.integer_or("threads", 0, 0, 4096));
    const auto db = a.text("db");
    const bool json_out = a.flag("json");
    a.finish();
    if (a.positional().size() != 1)
        throw Error("itera eval takes one checkpoint (see itera eval --help)");
    if (split_name != "validation" && split_name != "train")
        throw Error("--split must be validation or train, got \"" + split_name + "\"");
    const Split split = split_name == "train" ? Split::Train : Split::Validation;
    const int used_threads = set_thread_count(threads);

    const auto path = resolve_checkpoint(a.positional()[0], db);
    // FP32 checkpoints run the batched LibTorch forward; compressed ones the
    // decoder, the engine that runs their formats.
    const bool compressed = SafetensorsFile::read(path).meta("quantization") != "none";
    LoadedCheckpoint ckpt;
    std::shared_ptr<const InferenceModel> inference;
    std::shared_ptr<const Tokenizer> tokenizer;
    if (compressed) {
        inference = InferenceModel::load(path);
        tokenizer = inference->tokenizer();
        ckpt.metadata = inference->metadata();
    } else {
        ckpt = load_checkpoint(path);
        tokenizer = checkpoint_tokenizer(ckpt, path);
    }
    if (!tokenizer)
        throw Error(path.string() +
                    ": no tokenizer attached (written by `itera model init`); "
                    "evaluate a trained checkpoint");
    std::string origin;
    auto spec = default_spec(ckpt.metadata, db, origin);
    if (data) {
        spec = DataSpec::from_json("{}");
        spec.request.corpus = *data;
        origin = "--data";
    }
    if (format) spec.request.format = parse_corpus_format(*format);
    if (fraction) spec.split.validation_fraction = *fraction;
    if (split_seed) spec.split.seed = static_cast<std::uint64_t>(*split_seed);
    if (replace) spec.read.replace_invalid_utf8 = true;

    CacheBuildOptions cache;
    cache.split = spec.split;
    cache.read = spec.read;
    cache.threads = used_threads;
    if (!json_out) cache.progress = byte_progress("tokenising " + spec.request.corpus);
    auto ed = prepare_eval_data(workspace_of(db), spec.request.corpus, spec.request.format,
                                *tokenizer, split, cache);
    if (!json_out) {
        clear_progress();
        eo.progress = [t0 = std::chrono::steady_clock::now()](std::int64_t done,
                                                              std::int64_t total) {
            const double s =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::fprintf(stderr, "\revaluating %5.1f%%  ETA %s   ",
                         100.0 * double(done) / double(total),
                         duration_text(done ? s * double(total - done) / double(done) : 0).c_str());
        };
    }
    auto r = compressed
                 ? evaluate_decoder(*inference, *ed.stream, *tokenizer, ed.bytes, eo, used_threads)
                 : evaluate(ckpt.model, *ed.stream, *tokenizer, ed.bytes, eo);
    if (!json_out) clear_progress();
    if (json_out) {
        nlohmann::json j = {{"loss", r.loss},
                            {"perplexity", r.perplexity},
                            {"bits_per_byte", r.bits_per_byte},
                            {"tokens", r.tokens},
                            {"bytes", r.bytes},
                            {"checkpoint", path.string()},
                            {"data", spec.request.corpus},
                            {"split", split_name},
                            {"data_from", origin},
                            {"seconds", r.seconds},
                            {"tokens_per_s", r.seconds > 0 ? double(r.tokens) / r.seconds : 0.0},
                            {"threads", used_threads}};
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::printf("checkpoint     %s\n", path.string().c_str());
    std::printf("data           %s, %s split (%s documents; corpus from %s)\n",
                spec.request.corpus.c_str(), split_name.c_str(),
                with_commas(static_cast<long long>(ed.documents)).c_str(), origin.c_str());
    std::printf("tokens         %s (%s bytes)\n", with_commas(r.tokens).c_str(),
                with_commas(static_cast<long long>(r.bytes)).c_str());
    std::printf("loss           %.4f nats/token\n", r.loss);
    std::printf("perplexity     %.2f\n", r.perplexity);
    std::printf("bits/byte      %.4f\n", r.bits_per_byte);
    std::printf("time           %.1f s (%.0f tokens/s, %d threads)\n", r.seconds,
                r.seconds > 0 ? double(r.tokens) / r.seconds : 0.0, used_threads);
    return 0;
}

}  // namespace itera::cli
