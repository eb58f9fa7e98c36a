#include "workflows/model_source.h"

#include "train/run_checkpoints.h"
#include "util/error.h"

namespace itera {

std::optional<std::int64_t> source_run_id(RunStore& store,
                                          const std::map<std::string, std::string>& metadata) {
    const auto it = metadata.find("run_id");
    if (it == metadata.end()) return std::nullopt;
    try {
        std::size_t used = 0;
        const auto id = std::stoll(it->second, &used);
        if (used != it->second.size()) return std::nullopt;
        if (store.find_run(id)) return id;
    } catch (const std::exception&) {  // not a number: unattached
    }
    return std::nullopt;
}

DataSpec stored_data_spec(const RunRecord& run) {
    if (run.dataset.empty())
        throw Error("run " + std::to_string(run.id) + " has no stored data description");
    return DataSpec::from_json(run.dataset);
}

namespace {

DataSpec given_corpus(const std::string& corpus) {
    auto spec = DataSpec::from_json("{}");
    spec.request.corpus = corpus;
    return spec;
}

}  // namespace

DataSpec source_data_spec(RunStore& store, const std::map<std::string, std::string>& metadata,
                          const std::optional<std::string>& eval_data) {
    if (eval_data) return given_corpus(*eval_data);
    if (auto id = source_run_id(store, metadata)) {
        try {
            return stored_data_spec(store.run(*id));
        } catch (const Error&) {  // no stored data description: the defaults
        }
    }
    return DataSpec::from_json("{}");
}

DataSpec source_data_spec(const Workspace& ws, const std::map<std::string, std::string>& metadata,
                          const std::optional<std::string>& eval_data) {
    if (eval_data) return given_corpus(*eval_data);
    if (metadata.count("run_id")) {
        try {
            RunStore store(ws.db_path);
            return source_data_spec(store, metadata);
        } catch (const Error&) {  // no usable store: the defaults
        }
    }
    return DataSpec::from_json("{}");
}

EvalData source_text(const Workspace& ws, const DataSpec& spec, const Tokenizer& tokenizer,
                     Split split, int threads, const std::atomic<bool>* cancel) {
    CacheBuildOptions cache;
    cache.split = spec.split;
    cache.read = spec.read;
    cache.threads = threads;
    cache.cancel = cancel;
    return prepare_eval_data(ws, spec.request.corpus, spec.request.format, tokenizer, split, cache);
}

std::filesystem::path resolve_checkpoint(RunStore& store, const std::string& arg) {
    if (arg.rfind("run:", 0) != 0) return arg;
    std::int64_t id = 0;
    try {
        std::size_t used = 0;
        id = std::stoll(arg.substr(4), &used);
        if (used != arg.size() - 4 || id < 1) throw std::invalid_argument("id");
    } catch (const std::exception&) {
        throw Error("\"" + arg + "\": expected run:ID with a positive run id");
    }
    if (!store.find_run(id))
        throw Error("no run " + std::to_string(id) + " in " + store.path().string());
    const auto dir = store.run_dir(id);
    if (std::filesystem::exists(dir / "best.safetensors")) return dir / "best.safetensors";
    auto pairs = list_checkpoint_pairs(dir);
    if (pairs.empty())
        throw Error("run " + std::to_string(id) + " has no checkpoint yet in " + dir.string());
    return pairs.front().model;  // newest first
}

}  // namespace itera
