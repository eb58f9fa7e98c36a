#include "workflows/prune_run.h"

#include "compress/measure.h"
#include "model/checkpoint.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/read_file.h"
#include "util/threads.h"
#include "workflows/model_source.h"
#include "workflows/run_launch.h"
#include "workflows/store_recorder.h"

namespace itera {
namespace {

// The source's metadata a pruned file keeps (its run, for the store), plus what was done.
std::map<std::string, std::string> pruned_metadata(const std::map<std::string, std::string>& from,
                                                   const std::filesystem::path& source,
                                                   const PrunePlan& plan) {
    std::map<std::string, std::string> meta;
    for (const auto& key : {"run_id", "step"})
        if (auto it = from.find(key); it != from.end()) meta[key] = it->second;
    meta["pruned_from"] = std::filesystem::absolute(source).string();
    meta["pruning"] = plan.to_json();
    return meta;
}

// The source run's batch shape and optimiser settings, when the store has it.
TrainSettings finetune_settings(RunStore& store, const std::map<std::string, std::string>& meta) {
    TrainSettings s;
    if (auto id = source_run_id(store, meta))
        s = TrainSettings::from_json(store.run(*id).config_json);
    s.minutes = 0;
    s.patience = 0;
    s.init_from.clear();
    s.teacher.clear();
    return s;
}

}  // namespace

std::filesystem::path untuned_path(const std::filesystem::path& out) {
    auto p = out;
    p.replace_filename(out.stem().string() + ".untuned" + out.extension().string());
    return p;
}

PrunedModels prune_and_measure(const Workspace& ws, const std::filesystem::path& source,
                               const PruneOptions& options, const FinetuneOptions& ft,
                               const std::filesystem::path& out, const MeasureRequest& m) {
    auto say = [&](const std::string& phase, double fraction) {
        if (m.progress) m.progress(phase, fraction);
    };
    check_not_source(source, out);
    if (ft.steps < 0) throw Error("--finetune-steps must be >= 0");
    say("loading " + source.filename().string(), -1);
    auto loaded = load_checkpoint(source);
    auto tokenizer = checkpoint_tokenizer(loaded, source);
    if (!tokenizer)
        throw Error(source.string() +
                    " carries no tokenizer, so no text can calibrate the pruning (train it, or "
                    "use a checkpoint written by `itera train`)");
    pruned_config(loaded.model->config(), options);  // bad options fail before any work
    const int threads = set_thread_count(m.threads > 0 ? m.threads : default_thread_count());

    const auto spec = source_data_spec(ws, loaded.metadata, m.eval_data);
    say("tokenising " + spec.request.corpus + " (calibration)", -1);
    const auto calibration = source_text(ws, spec, *tokenizer, Split::Train, threads, m.cancel);

    PrunedModels r;
    r.plan = plan_pruning(loaded.model, *calibration.stream, options, {m.progress, m.cancel});
    auto pruned = apply_pruning(loaded.model, r.plan);
    const auto meta = pruned_metadata(loaded.metadata, source, r.plan);
    const auto cut = ft.steps > 0 ? untuned_path(out) : out;
    save_checkpoint(pruned, loaded.tokenizer, cut, meta);

    CompressionReport base;
    base.method = "prune";
    base.pruning = pruning_report(r.plan);
    std::int64_t params_before = 0, params_after = 0;
    for (const auto& [name, t] : loaded.model->spec_parameters()) params_before += t.numel();
    for (const auto& [name, t] : pruned->spec_parameters()) params_after += t.numel();
    base.params = params_after;
    base.source_params = params_before;
    r.pruned = measure_and_record(ws, source, cut, base, m);
    if (ft.steps == 0) return r;

    // A short fine-tune from the cut model, on the source run's training text.
    RunStore store(ws.db_path);
    auto settings = finetune_settings(store, loaded.metadata);
    settings.model = r.plan.after;
    settings.model.dropout = loaded.model->config().dropout;
    settings.preset.clear();
    settings.steps = ft.steps;
    settings.adam.lr = ft.lr;
    settings.warmup_steps = std::max<std::int64_t>(1, ft.steps / 10);
    settings.eval_every = std::max<std::int64_t>(1, ft.steps / 4);
    settings.checkpoint_every = ft.steps;
    settings.seed = ft.seed;
    settings.threads = threads;
    settings.init_from = std::filesystem::absolute(cut).string();
    const auto train_spec = source_data_spec(store, loaded.metadata);
    CacheBuildOptions cache;
    cache.threads = threads;
    cache.cancel = m.cancel;
    say("preparing the fine-tune", -1);
    auto launched = launch_new_run(ws, store, "fine-tune of " + out.filename().string(), settings,
                                   true, train_spec, cache);
    r.finetune_run = launched.id;
    r.finetune = train_stored_run(store, launched.id, launched.settings, launched.ready.data,
                                  ft.control, ft.progress);
    if (r.finetune->status != RunStatus::Finished)
        throw Error("the fine-tune (run " + std::to_string(launched.id) + ") ended " +
                    run_status_name(r.finetune->status) + ": " + r.finetune->message +
                    "; the untuned model is " + cut.string());
    // The last step's weights (not the best by validation loss: that text is
    // what the model is measured on), copied to `out` whole or not at all.
    write_file_atomically(out, read_file(r.finetune->latest_checkpoint));
    base.method = "prune+finetune";
    FinetuneReport f;
    f.run_id = launched.id;
    f.steps = r.finetune->steps;
    f.tokens = r.finetune->tokens;
    f.lr = ft.lr;
    f.untuned = std::filesystem::absolute(cut).string();
    f.untuned_compression_id = r.pruned.compression_id;
    base.finetune = f;
    r.tuned = measure_and_record(ws, source, out, base, m);
    return r;
}

}  // namespace itera
