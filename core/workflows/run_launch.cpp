#include "workflows/run_launch.h"

#include <nlohmann/json.hpp>

#include "format/safetensors.h"
#include "util/build_info.h"
#include "util/error.h"
#include "workflows/model_source.h"

namespace itera {

namespace {

// Records the model a run starts from, and that model's run when the store has it.
void link_parent(RunStore& store, NewRun& r, const std::string& path, const char* relation) {
    r.parent_checkpoint = std::filesystem::absolute(path).string();
    r.parent_relation = relation;
    try {
        r.parent_run_id = source_run_id(store, SafetensorsFile::read(path).metadata());
    } catch (const std::exception&) {  // unreadable here: the trainer names the problem
    }
}

}  // namespace

std::int64_t create_training_run(RunStore& store, const std::string& name,
                                 const TrainSettings& settings, const DataSpec& spec,
                                 const ReadyData& ready) {
    settings.validate();
    check_train_data(settings, ready.data);  // a run that cannot start is not recorded
    auto stored = spec;
    stored.dir = ready.dir;
    NewRun r;
    r.name = name;
    r.config_json = settings.to_json();
    r.preset = settings.preset;
    nlohmann::ordered_json data = nlohmann::ordered_json::parse(stored.to_json());
    data["identity"] = nlohmann::ordered_json::parse(ready.prepared.identity);
    data["train_tokens"] = ready.prepared.cache.train.tokens;
    data["validation_tokens"] = ready.prepared.cache.validation.tokens;
    data["validation_bytes"] = ready.prepared.cache.validation.bytes;
    r.dataset = data.dump();
    r.tokenizer = ready.prepared.tokenizer->fingerprint();
    r.seed = settings.seed;
    r.library_versions = library_versions();
    r.git_revision = git_revision();
    if (!settings.teacher.empty())
        link_parent(store, r, settings.teacher, "teacher");
    else if (!settings.init_from.empty())
        link_parent(store, r, settings.init_from, "fine-tune");
    return store.create_run(r);
}

namespace {
/// "mini", "mini transformer", "mini without MoE", "mini N=16".
std::string run_title(const std::string& preset, const ModelVariant& v) {
    if (v.arch == kTransformerArch) return preset + " transformer";
    std::string t = preset;
    if (!v.moe) t += " without MoE";
    if (v.ssm_state_size != 0) t += " N=" + std::to_string(v.ssm_state_size);
    return t;
}
}  // namespace

LaunchedRun launch_new_run(const Workspace& ws, RunStore& store, const std::string& name,
                           TrainSettings settings, bool model_given, const DataSpec& spec,
                           const CacheBuildOptions& options, const ModelVariant& variant) {
    // Check the settings before minutes of data preparation, not after (a
    // preset's model is checked at a stand-in vocabulary size until it is known).
    settings.preset = ModelConfig::canonical_preset(settings.preset);  // "quality" is "mini" now
    auto early = settings;
    if (!model_given) early.model = ModelConfig::preset(settings.preset, 256, variant);
    early.validate();
    LaunchedRun r;
    r.spec = spec;
    r.ready = prepare_train_data(ws, spec, options);
    if (!model_given) {
        const auto dropout = settings.model.dropout;
        settings.model =
            ModelConfig::preset(settings.preset, r.ready.data.tokenizer->vocab_size(), variant);
        settings.model.dropout = dropout;
    }
    r.settings = settings;
    r.id = create_training_run(
        store,
        name.empty() ? run_title(settings.preset, variant) + " on " + spec.request.corpus : name,
        settings, spec, r.ready);
    return r;
}

LaunchedRun launch_resumed_run(const Workspace& ws, RunStore& store, std::int64_t id,
                               std::optional<int> threads, const CacheBuildOptions& options) {
    const auto run = store.run(id);
    if (run.status == RunStatus::Running || run.status == RunStatus::Paused)
        throw Error("run " + std::to_string(id) + " is " + run_status_name(run.status) +
                    " in another process");
    LaunchedRun r;
    r.id = id;
    r.settings = TrainSettings::from_json(run.config_json);
    if (threads) r.settings.threads = *threads;
    r.spec = stored_data_spec(run);
    r.ready = prepare_train_data(ws, r.spec, options);
    verify_run_data(run, r.ready);
    return r;
}

void verify_run_data(const RunRecord& run, const ReadyData& ready) {
    const auto now = ready.prepared.tokenizer->fingerprint();
    if (now != run.tokenizer)
        throw Error("run " + std::to_string(run.id) + " was trained with tokenizer " +
                    run.tokenizer + ", but its data now gives tokenizer " + now +
                    " (the corpus or the dataset folder " + ready.dir.string() +
                    " changed); it cannot be resumed on different tokens");
}

}  // namespace itera
