#include "train/run_launch.h"

#include <nlohmann/json.hpp>

#include "checkpoint/safetensors.h"
#include "util/build_info.h"
#include "util/error.h"

namespace itera {

std::string DataSpec::to_json() const {
    nlohmann::ordered_json j;
    j["corpus"] = request.corpus;
    j["format"] = corpus_format_name(request.format);
    j["tokenizer"] = tokenizer_kind_name(request.tokenizer);
    j["vocab_size"] = request.vocab_size;
    j["validation_fraction"] = split.validation_fraction;
    j["split_seed"] = split.seed;
    j["replace_invalid_utf8"] = read.replace_invalid_utf8;
    j["dir"] = dir.string();
    return j.dump();
}

DataSpec DataSpec::from_json(const std::string& text) {
    DataSpec s;
    s.request.corpus = "moby-dick";
    try {
        const auto j = nlohmann::json::parse(text);
        if (!j.is_object()) throw Error("run data description: expected a JSON object");
        s.request.corpus = j.value("corpus", s.request.corpus);
        s.request.format = parse_corpus_format(j.value("format", std::string("auto")));
        s.request.tokenizer = parse_tokenizer_kind(j.value("tokenizer", std::string("bpe")));
        s.request.vocab_size = j.value("vocab_size", s.request.vocab_size);
        s.split.validation_fraction = j.value("validation_fraction", s.split.validation_fraction);
        s.split.seed = j.value("split_seed", s.split.seed);
        s.read.replace_invalid_utf8 = j.value("replace_invalid_utf8", false);
        s.dir = j.value("dir", std::string());
    } catch (const nlohmann::json::exception& e) {
        throw Error(std::string("run data description: ") + e.what());
    }
    return s;
}

ReadyData prepare_train_data(const DataSpec& spec, const CacheBuildOptions& options) {
    auto o = options;
    o.split = spec.split;
    o.read = spec.read;
    ReadyData r;
    r.dir = spec.dir.empty() ? default_dataset_dir(spec.request, o) : spec.dir;
    r.prepared = prepare_dataset(spec.request, r.dir, o);
    r.data.tokenizer = r.prepared.tokenizer;
    r.data.train = TokenStream::open(r.dir, Split::Train);
    r.data.validation = TokenStream::open(r.dir, Split::Validation);
    r.data.validation_bytes = r.prepared.cache.validation.bytes;
    return r;
}

namespace {

// Records the model a run starts from, and that model's run when the store has it.
void link_parent(RunStore& store, NewRun& r, const std::string& path, const char* relation) {
    r.parent_checkpoint = std::filesystem::absolute(path).string();
    r.parent_relation = relation;
    try {
        const auto file = SafetensorsFile::read(path);
        if (auto it = file.metadata().find("run_id"); it != file.metadata().end()) {
            const auto id = std::stoll(it->second);
            if (store.find_run(id)) r.parent_run_id = id;
        }
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

LaunchedRun launch_new_run(RunStore& store, const std::string& name, TrainSettings settings,
                           bool model_given, const DataSpec& spec,
                           const CacheBuildOptions& options) {
    // Check the settings before minutes of data preparation, not after (a
    // preset's model is checked at a stand-in vocabulary size until it is known).
    auto early = settings;
    if (!model_given) early.model = ModelConfig::preset(settings.preset, 256);
    early.validate();
    LaunchedRun r;
    r.spec = spec;
    r.ready = prepare_train_data(spec, options);
    if (!model_given) {
        const auto dropout = settings.model.dropout;
        settings.model = ModelConfig::preset(settings.preset, r.ready.data.tokenizer->vocab_size());
        settings.model.dropout = dropout;
    }
    r.settings = settings;
    r.id = create_training_run(store,
                               name.empty() ? settings.preset + " on " + spec.request.corpus : name,
                               settings, spec, r.ready);
    return r;
}

LaunchedRun launch_resumed_run(RunStore& store, std::int64_t id, std::optional<int> threads,
                               const CacheBuildOptions& options) {
    const auto run = store.run(id);
    if (run.status == RunStatus::Running || run.status == RunStatus::Paused)
        throw Error("run " + std::to_string(id) + " is " + run_status_name(run.status) +
                    " in another process");
    LaunchedRun r;
    r.id = id;
    r.settings = TrainSettings::from_json(run.config_json);
    if (threads) r.settings.threads = *threads;
    r.spec = stored_data_spec(run);
    r.ready = prepare_train_data(r.spec, options);
    verify_run_data(run, r.ready);
    return r;
}

DataSpec stored_data_spec(const RunRecord& run) {
    if (run.dataset.empty())
        throw Error("run " + std::to_string(run.id) + " has no stored data description");
    return DataSpec::from_json(run.dataset);
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
