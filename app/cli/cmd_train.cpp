// `itera train`: train a model on a corpus, keeping the run in the run store.

#include <sys/prctl.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "args.h"
#include "checkpoint_arg.h"
#include "commands.h"
#include "data/xz_baseline.h"
#include "model_args.h"
#include "progress.h"
#include "store/run_store.h"
#include "train/train_settings.h"
#include "train_dist.h"
#include "train_progress.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/kernel_path.h"
#include "util/read_file.h"
#include "workflows/run_launch.h"
#include "workflows/store_recorder.h"

namespace itera::cli {
namespace {

constexpr const char* kTrainUsage = R"(usage:
  itera train [--preset mini] [--data moby-dick] [--tokenizer bpe] [--vocab-size 4096]
              (--steps N | --minutes M) [options]
  itera train --resume RUN_ID [--threads N] [--until-step S] [--db PATH] [--json]

Trains a model and keeps the run (settings, every metric, checkpoints) in the
run store. Ctrl-C (or SIGTERM) stops after the current step and saves a
checkpoint (exit code 130); resume with --resume. A time budget (--minutes) is turned into a step count once the
step time is measured, so the learning-rate schedule ends on time.

Data:
  --data PATH|moby-dick|sotu      corpus (default moby-dick)
  --format F                      auto|text|tinystories-txt|tinystories-json|wikitext
  --tokenizer bpe|unigram|byte|word   (default bpe)   --vocab-size N (default 4096)
  --validation-fraction F (0.05)  --split-seed S (0)  --replace-invalid-utf8
  --dataset-dir DIR               where tokenizer and token cache live
                                  (default: the data directory's datasets/)
Model and length:
  --preset micro|mini|small|medium (mini; "quality" is its old name)   --dropout P
  --arch itera-lite-v2|transformer  the preset's architecture (a Transformer within 3 %
                  of its parameters)   --moe on|off   --ssm-state N  (Itera-Lite ablations)
  --steps N | --minutes M
Optimisation:
  --batch-size 16  --seq-len 128  --grad-accum 1  --lr 0.002  --min-lr-ratio 0.1
  --warmup 100  --weight-decay 0.1  --max-grad-norm 1.0  --seed 0  --threads (all cores)
  --precision fp32|bf16   bf16: the step's matrix products take BF16 inputs (FP32
                  weights, optimizer and evaluation); ~1.5x faster on CPUs with
                  AVX-512 BF16, several times slower on CPUs without it
Evaluation and checkpoints:
  --eval-every 200  --eval-tokens 262144  --checkpoint-every 500  --patience 0 (off)
Processes (docs/distributed.md):
  --nproc N       N processes of this run on this machine (the cores divided
                  between them unless --threads says per process); each runs
                  --grad-accum micro-batches of a step, so the run's step has N
                  times as many and resumes as the same computation with any N
  --dist HOST:PORT --rank R --world-size W    one process of a run across
                  machines (rank 0 serves HOST:PORT; or torchrun's MASTER_ADDR,
                  MASTER_PORT, RANK, WORLD_SIZE); ranks above 0 take only
                  --threads and --db: the run comes from rank 0
  --dist-timeout S (300)   --dist-interface IF (Gloo's network interface)
Other:
  --until-step S  stop (evaluated, with a checkpoint) after step S; the run
                  stays resumable (exit code 0 when it got there)
  --with-parent   stop, with a checkpoint, when the process that started this
                  one ends (sweeps start their trials so)
  --quiet         no progress lines
  --config FILE   settings as JSON (as `itera runs show` prints; a "data" object
                  may hold the data options); options given on the line win
  --name NAME     --db PATH (default: the data directory's runs.sqlite)
  --json          print a JSON summary on stdout at the end
  --no-baseline   skip the xz -9e baseline (bits/byte of a classic compressor)

Examples:
  itera train --preset mini --data moby-dick --minutes 10
  itera train --preset micro --data sotu --tokenizer byte --steps 500 --json
  itera train --preset mini --arch transformer --data moby-dick --minutes 10
  itera train --resume 3
)";

TrainControl* g_control = nullptr;

extern "C" void on_interrupt(int signal) {
    if (g_control) g_control->stop();  // lock-free atomic store: async-signal-safe
    std::signal(signal, SIG_DFL);      // a second Ctrl-C ends the process at once
}

// Data options: from the config's "data" object, then the command line.
DataSpec data_spec(Args& a, const nlohmann::json& config_data) {
    auto d = DataSpec::from_json(config_data.dump());
    if (auto v = a.text("data")) d.request.corpus = *v;
    if (auto v = a.text("format")) d.request.format = parse_corpus_format(*v);
    if (auto v = a.text("tokenizer")) d.request.tokenizer = parse_tokenizer_kind(*v);
    if (auto v = a.integer("vocab-size", 5, 1 << 20)) d.request.vocab_size = static_cast<int>(*v);
    if (auto v = a.real("validation-fraction", 0, 0.9)) d.split.validation_fraction = *v;
    if (auto v = a.integer("split-seed", 0, INT64_MAX))
        d.split.seed = static_cast<std::uint64_t>(*v);
    if (a.flag("replace-invalid-utf8")) d.read.replace_invalid_utf8 = true;
    if (auto v = a.text("dataset-dir")) d.dir = *v;
    return d;
}

// Settings: defaults (or --config), then options given on the line.
TrainSettings train_settings(Args& a, const nlohmann::json& config, bool& have_model) {
    TrainSettings s;
    s.adam.lr = 2e-3;
    have_model = config.contains("model");
    if (!config.empty()) {
        auto c = config;
        c.erase("data");
        if (!c.contains("steps") && !c.contains("minutes")) c["steps"] = 1;  // length from flags
        // Without a "model" the preset's is used, sized once the tokenizer is known.
        if (!have_model)
            c["model"] = nlohmann::json::parse(ModelConfig::preset("micro", 256).to_json());
        s = TrainSettings::from_json(c.dump());
        if (!config.contains("steps") && !config.contains("minutes")) s.steps = 0;
    }
    if (auto v = a.text("preset")) {
        s.preset = *v;
        have_model = false;
    }
    if (s.preset.empty()) s.preset = "mini";
    if (auto v = a.integer("steps", 1, std::int64_t{1} << 40)) s.steps = *v, s.minutes = 0;
    if (auto v = a.real("minutes", 1e-3, 525600)) s.minutes = *v, s.steps = 0;
    if (auto v = a.integer("batch-size", 1, 65536)) s.batch_size = *v;
    if (auto v = a.integer("seq-len", 1, 1 << 20)) s.seq_len = *v;
    if (auto v = a.integer("grad-accum", 1, 4096)) s.grad_accum = *v;
    if (auto v = a.real("lr", 1e-12, 10)) s.adam.lr = *v;
    if (auto v = a.real("min-lr-ratio", 0, 1)) s.min_lr_ratio = *v;
    if (auto v = a.integer("warmup", 0, std::int64_t{1} << 40)) s.warmup_steps = *v;
    if (auto v = a.real("weight-decay", 0, 9.99)) s.adam.weight_decay = *v;
    if (auto v = a.real("max-grad-norm", -1, 1e9)) s.max_grad_norm = *v;
    if (auto v = a.integer("seed", 0, INT64_MAX)) s.seed = static_cast<std::uint64_t>(*v);
    if (auto v = a.integer("threads", 0, 4096)) s.threads = static_cast<int>(*v);
    if (auto v = a.integer("eval-every", 1, std::int64_t{1} << 40)) s.eval_every = *v;
    if (auto v = a.integer("eval-tokens", 2, std::int64_t{1} << 40)) s.eval_tokens = *v;
    if (auto v = a.integer("checkpoint-every", 1, std::int64_t{1} << 40)) s.checkpoint_every = *v;
    if (auto v = a.integer("patience", 0, 1 << 20)) s.patience = *v;
    if (auto v = a.real("dropout", 0, 0.99)) s.model.dropout = *v;
    if (auto v = a.text("precision")) s.precision = *v;
    check_precision(s.precision, "--precision");  // before any data is prepared
    if (s.precision == "bf16" && !cpu_has_bf16())
        std::fprintf(stderr,
                     "warning: this CPU has no AVX-512 BF16; BF16 products will be several "
                     "times slower than FP32\n");
    if (s.steps == 0 && s.minutes == 0)
        throw Error("give the run a length: --steps N or --minutes M");
    return s;
}

// The xz baseline of the dataset, cached beside the token cache.
std::optional<XzBaseline> baseline_for(const ReadyData& ready, const DataSpec& spec) {
    const auto path = ready.dir / "xz_baseline.json";
    try {
        const auto j = nlohmann::json::parse(read_file(path));
        if (j.at("identity") == nlohmann::json::parse(ready.prepared.identity)) {
            XzBaseline b;
            b.bits_per_byte = j.at("bits_per_byte");
            b.train_bytes = j.at("train_bytes");
            b.validation_bytes = j.at("validation_bytes");
            b.train_truncated = j.at("train_truncated");
            return b;
        }
    } catch (const std::exception&) {
        // missing or stale: compute
    }
    std::fprintf(stderr, "computing the xz -9e baseline ...\n");
    auto b = xz_baseline(ready.prepared.source, spec.read, spec.split);
    nlohmann::json j = {{"identity", nlohmann::json::parse(ready.prepared.identity)},
                        {"bits_per_byte", b.bits_per_byte},
                        {"train_bytes", b.train_bytes},
                        {"validation_bytes", b.validation_bytes},
                        {"train_truncated", b.train_truncated},
                        {"train_compressed", b.train_compressed},
                        {"both_compressed", b.both_compressed}};
    write_file_atomically(path, j.dump(2));
    return b;
}

}  // namespace

void catch_stop_signals(TrainControl* control) {
    g_control = control;
    for (int s : {SIGINT, SIGTERM}) std::signal(s, control ? on_interrupt : SIG_DFL);
}

int train_command(const std::vector<std::string>& args) {
    Args a(args, {"help", "json", "no-baseline", "replace-invalid-utf8", "quiet", "with-parent"});
    if (a.flag("help")) {
        std::cout << kTrainUsage;
        return 0;
    }
    const auto dist = dist_request(a);
    if (dist && dist->settings.rank > 0) return train_worker(*dist, a);
    const bool json = a.flag("json");
    const bool baseline = !a.flag("no-baseline");
    const bool quiet = a.flag("quiet");
    const auto until_step = a.integer("until-step", 1, std::int64_t{1} << 40);
    if (until_step && dist)
        throw Error("--until-step is for one process (every rank would need it)");
    if (a.flag("with-parent")) {
        // SIGTERM stops after the current step with a checkpoint, as Ctrl-C does.
        const pid_t parent = getppid();
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) return 130;  // it ended before the request took hold
    }
    const auto ws = workspace_of(a.text("db"));
    RunStore store(ws.db_path);
    // Rank 0 of a distributed run serves the rendezvous (and starts --nproc's ranks).
    std::unique_ptr<GlooGroup> group;
    LocalRanks ranks;
    auto start_ranks = [&](int threads) {
        if (!dist) return;
        group = std::make_unique<GlooGroup>(dist->settings);
        if (dist->nproc > 1) {
            std::vector<std::string> args = {
                "train",          "--quiet",
                "--threads",      std::to_string(threads),
                "--dist-timeout", std::to_string(dist->settings.timeout_s)};
            if (auto db = a.text("db")) args.insert(args.end(), {"--db", *db});
            ranks.start(itera_executable(), dist->nproc, group->port(), args);
        }
        group->set_failure_hint([&ranks] { return ranks.ended_rank(); });
    };

    CacheBuildOptions prep;
    prep.progress = byte_progress("tokenising");
    LaunchedRun launched;
    if (auto resume = a.integer("resume", 1, INT64_MAX)) {
        std::optional<int> threads;
        if (auto v = a.integer("threads", 0, 4096)) threads = static_cast<int>(*v);
        a.finish();
        if (dist && dist->nproc > 1)
            threads = threads_per_process(threads.value_or(0), dist->nproc);
        prep.threads = threads.value_or(0);
        start_ranks(threads.value_or(0));
        try {
            launched = launch_resumed_run(ws, store, *resume, threads, prep);
        } catch (const std::exception& e) {
            if (group) publish_failure(*group, e.what());
            throw;
        }
    } else {
        nlohmann::json config = nlohmann::json::object();
        if (auto path = a.text("config")) {
            try {
                config = nlohmann::json::parse(read_file(*path));
            } catch (const nlohmann::json::exception& e) {
                throw Error(*path + ": invalid JSON: " + e.what());
            }
            if (!config.is_object()) throw Error(*path + ": expected a JSON object");
        }
        const auto spec = data_spec(a, config.value("data", nlohmann::json::object()));
        bool have_model = false;
        auto settings = train_settings(a, config, have_model);
        const auto name = a.text("name");
        const auto variant = model_variant(a);
        if (have_model && !(variant == ModelVariant{}))
            throw Error(
                "--arch, --moe and --ssm-state vary a preset; the config's \"model\" "
                "is given whole");
        a.finish();
        if (dist && dist->nproc > 1)
            settings.threads = threads_per_process(settings.threads, dist->nproc);
        // --grad-accum is per process; the run's step has that many from each.
        if (dist) settings.grad_accum *= dist->settings.world_size;
        prep.threads = settings.threads;
        start_ranks(settings.threads);
        std::fprintf(stderr, "preparing %s ...\n", spec.request.corpus.c_str());
        try {
            launched = launch_new_run(ws, store, name.value_or(""), settings, have_model, spec,
                                      prep, variant);
        } catch (const std::exception& e) {
            if (group) publish_failure(*group, e.what());
            throw;
        }
    }
    if (dist && launched.settings.grad_accum < dist->settings.world_size) {
        const auto why = "a step of run " + std::to_string(launched.id) + " has " +
                         std::to_string(launched.settings.grad_accum) +
                         " micro-batch(es), fewer than " +
                         std::to_string(dist->settings.world_size) +
                         " processes: resume it with at most that many";
        publish_failure(*group, why);
        ranks.wait(5);
        throw Error(why);
    }
    const auto run_id = launched.id;
    const auto& settings = launched.settings;
    const auto& spec = launched.spec;
    const auto* ready = &launched.ready;
    clear_progress();
    std::fprintf(stderr, "run %lld: %s, %s training tokens, folder %s\n", (long long)run_id,
                 settings.preset.c_str(),
                 with_commas(static_cast<long long>(ready->data.train->size())).c_str(),
                 store.run_dir(run_id).string().c_str());

    if (group) {
        publish_run(*group, run_id, settings, spec, ready->data.tokenizer->fingerprint());
        std::fprintf(stderr, "waiting for %d processes to join on port %d ...\n",
                     dist->settings.world_size, group->port());
        group->join();
        std::fprintf(stderr, "%d processes, %d threads each\n", dist->settings.world_size,
                     settings.threads);
    }

    TrainControl control;
    if (until_step) control.stop_at(*until_step);
    catch_stop_signals(&control);
    ProgressPrinter printer;
    std::function<void(const TrainProgress&)> progress;
    if (!quiet) progress = std::ref(printer);
    TrainResult r;
    try {
        r = train_stored_run(store, run_id, settings, ready->data, &control, progress, group.get());
    } catch (const CollectiveError& e) {
        catch_stop_signals(nullptr);
        clear_progress();
        ranks.wait(2);
        throw Error(std::string(e.what()) + "; run " + std::to_string(run_id) +
                    " is interrupted at its last checkpoint: resume it with itera train --resume " +
                    std::to_string(run_id) + " (any number of processes)");
    } catch (...) {
        catch_stop_signals(nullptr);
        ranks.wait(5);
        throw;
    }
    catch_stop_signals(nullptr);
    if (!ranks.wait(60)) std::fprintf(stderr, "warning: a rank did not end cleanly\n");

    std::optional<XzBaseline> xz;
    if (baseline && r.status != RunStatus::Failed) xz = baseline_for(*ready, spec);

    const auto& e = r.final_eval;
    if (json) {
        nlohmann::ordered_json j;
        j["run_id"] = run_id;
        j["status"] = run_status_name(r.status);
        j["message"] = r.message;
        j["steps"] = r.steps;
        j["tokens"] = r.tokens;
        j["wall_s"] = r.wall_s;
        j["train_loss"] = r.train_loss;
        j["val_loss"] = e ? nlohmann::json(e->loss) : nlohmann::json();
        j["val_perplexity"] = e ? nlohmann::json(e->perplexity) : nlohmann::json();
        j["bits_per_byte"] = e ? nlohmann::json(e->bits_per_byte) : nlohmann::json();
        j["best_val_loss"] = r.best_val_loss ? nlohmann::json(*r.best_val_loss) : nlohmann::json();
        j["best_bits_per_byte"] =
            r.best_val_loss && e && e->bytes
                ? nlohmann::json(*r.best_val_loss * e->tokens / std::log(2.0) / e->bytes)
                : nlohmann::json();
        j["best_checkpoint"] = r.best_checkpoint.string();
        j["latest_checkpoint"] = r.latest_checkpoint.string();
        j["tokens_per_s"] = r.tokens_per_s;
        j["xz_bits_per_byte"] = xz ? nlohmann::json(xz->bits_per_byte) : nlohmann::json();
        std::cout << j.dump(2) << "\n";
    } else {
        std::printf("run %lld %s%s%s\n", (long long)run_id, run_status_name(r.status).c_str(),
                    r.message.empty() ? "" : ": ", r.message.c_str());
        std::printf("steps       %s (%s tokens) in %s, %s tokens/s overall\n",
                    with_commas(r.steps).c_str(), with_commas(r.tokens).c_str(),
                    duration_text(r.wall_s).c_str(),
                    with_commas(static_cast<long long>(r.tokens_per_s)).c_str());
        if (e)
            std::printf(
                "validation  loss %.4f  perplexity %.2f  %.4f bits/byte (%s tokens, %s bytes)\n",
                e->loss, e->perplexity, e->bits_per_byte, with_commas(e->tokens).c_str(),
                with_commas(static_cast<long long>(e->bytes)).c_str());
        if (e && r.best_val_loss && e->bytes)
            std::printf("best        loss %.4f  perplexity %.2f  %.4f bits/byte\n",
                        *r.best_val_loss, std::exp(*r.best_val_loss),
                        *r.best_val_loss * e->tokens / std::log(2.0) / e->bytes);
        if (xz)
            std::printf(
                "xz -9e      %.4f bits/byte on the same validation text, given the "
                "training text%s\n",
                xz->bits_per_byte, xz->train_truncated ? " (its last 64 MiB)" : "");
        if (!r.best_checkpoint.empty())
            std::printf("best model  %s\n", r.best_checkpoint.string().c_str());
        if (!r.latest_checkpoint.empty())
            std::printf("last model  %s\n", r.latest_checkpoint.string().c_str());
        if (r.status == RunStatus::Stopped)
            std::printf("resume with: itera train --resume %lld%s\n", (long long)run_id,
                        a.text("db") ? (" --db " + *a.text("db")).c_str() : "");
    }
    if (r.status == RunStatus::Failed) return 1;
    if (r.status == RunStatus::Stopped && until_step && r.steps == *until_step) return 0;
    return r.status == RunStatus::Stopped ? 130 : 0;
}

}  // namespace itera::cli
