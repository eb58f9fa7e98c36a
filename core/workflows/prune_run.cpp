#include "compress/prune_run.h"

#include <nlohmann/json.hpp>

#include "checkpoint/checkpoint.h"
#include "compress/data_spec.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/read_file.h"
#include "util/threads.h"

namespace itera {
namespace {

std::filesystem::path store_path(const MeasureOptions& m) {
    return m.db.empty() ? RunStore::default_path() : m.db;
}

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
TrainSettings finetune_settings(const std::map<std::string, std::string>& meta,
                                const std::filesystem::path& db) {
    TrainSettings s;
    if (auto it = meta.find("run_id"); it != meta.end()) {
        try {
            RunStore store(db);
            if (auto run = store.find_run(std::stoll(it->second)))
                s = TrainSettings::from_json(run->config_json);
        } catch (const std::exception&) {  // not stored: the defaults
        }
    }
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

PrunedModels prune_and_measure(const std::filesystem::path& source, const PruneOptions& options,
                               const FinetuneOptions& ft, const std::filesystem::path& out,
                               const MeasureOptions& m) {
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

    const auto spec = compression_data_spec(loaded.metadata, m.eval_data, store_path(m));
    say("tokenising " + spec.request.corpus + " (calibration)", -1);
    const auto calibration = compression_text(spec, *tokenizer, Split::Train, threads, m.cancel);

    PrunedModels r;
    r.plan = plan_pruning(loaded.model, *calibration.stream, options, {m.progress, m.cancel});
    auto pruned = apply_pruning(loaded.model, r.plan);
    const auto meta = pruned_metadata(loaded.metadata, source, r.plan);
    const auto cut = ft.steps > 0 ? untuned_path(out) : out;
    save_checkpoint(pruned, loaded.tokenizer, cut, meta);

    nlohmann::json base = {{"method", "prune"},
                           {"pruning", nlohmann::json::parse(r.plan.to_json())}};
    std::int64_t params_before = 0, params_after = 0;
    for (const auto& [name, t] : loaded.model->spec_parameters()) params_before += t.numel();
    for (const auto& [name, t] : pruned->spec_parameters()) params_after += t.numel();
    base["params"] = params_after;
    base["source_params"] = params_before;
    r.pruned = measure_and_record(source, cut, base.dump(), m);
    if (ft.steps == 0) return r;

    // A short fine-tune from the cut model, on the source run's training text.
    RunStore store(store_path(m));
    auto settings = finetune_settings(loaded.metadata, store_path(m));
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
    const auto train_spec = compression_data_spec(loaded.metadata, std::nullopt, store_path(m));
    CacheBuildOptions cache;
    cache.threads = threads;
    cache.cancel = m.cancel;
    say("preparing the fine-tune", -1);
    auto launched = launch_new_run(store, "fine-tune of " + out.filename().string(), settings, true,
                                   train_spec, cache);
    r.finetune_run = launched.id;
    r.finetune = train_run(store, launched.id, launched.settings, launched.ready.data, ft.control,
                           ft.progress);
    if (r.finetune->status != RunStatus::Finished)
        throw Error("the fine-tune (run " + std::to_string(launched.id) + ") ended " +
                    run_status_name(r.finetune->status) + ": " + r.finetune->message +
                    "; the untuned model is " + cut.string());
    // The last step's weights (not the best by validation loss: that text is
    // what the model is measured on), copied to `out` whole or not at all.
    write_file_atomically(out, read_file(r.finetune->latest_checkpoint));
    base["method"] = "prune+finetune";
    base["finetune"] = {{"run_id", launched.id},
                        {"steps", r.finetune->steps},
                        {"tokens", r.finetune->tokens},
                        {"lr", ft.lr},
                        {"untuned", std::filesystem::absolute(cut).string()}};
    if (r.pruned.compression_id)
        base["finetune"]["untuned_compression_id"] = *r.pruned.compression_id;
    r.tuned = measure_and_record(source, out, base.dump(), m);
    return r;
}

}  // namespace itera
