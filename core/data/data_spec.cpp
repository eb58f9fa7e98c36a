#include "data/data_spec.h"

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/json_read.h"

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
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
        throw Error("run data description: not valid JSON");
    }
    if (!j.is_object()) throw Error("run data description: expected a JSON object");
    const std::string where = "run data description: ";
    auto has = [&](const char* key) { return j.contains(key) && !j[key].is_null(); };
    if (has("corpus")) s.request.corpus = json_string(j["corpus"], where + "corpus");
    if (has("format"))
        s.request.format = parse_corpus_format(json_string(j["format"], where + "format"));
    if (has("tokenizer"))
        s.request.tokenizer =
            parse_tokenizer_kind(json_string(j["tokenizer"], where + "tokenizer"));
    if (has("vocab_size"))
        s.request.vocab_size =
            static_cast<std::int32_t>(json_int(j["vocab_size"], where + "vocab_size", 1, 1 << 24));
    if (has("validation_fraction"))
        s.split.validation_fraction =
            json_number(j["validation_fraction"], where + "validation_fraction");
    if (has("split_seed"))
        s.split.seed = static_cast<std::uint64_t>(
            json_int(j["split_seed"], where + "split_seed", 0, INT64_MAX));
    if (has("replace_invalid_utf8"))
        s.read.replace_invalid_utf8 =
            json_bool(j["replace_invalid_utf8"], where + "replace_invalid_utf8");
    if (has("dir")) s.dir = json_string(j["dir"], where + "dir");
    return s;
}

ReadyData prepare_train_data(const Workspace& ws, const DataSpec& spec,
                             const CacheBuildOptions& options) {
    auto o = options;
    o.split = spec.split;
    o.read = spec.read;
    ReadyData r;
    r.dir = spec.dir.empty() ? default_dataset_dir(ws, spec.request, o) : spec.dir;
    r.prepared = prepare_dataset(ws, spec.request, r.dir, o);
    r.data.tokenizer = r.prepared.tokenizer;
    r.data.train = TokenStream::open(r.dir, Split::Train);
    r.data.validation = TokenStream::open(r.dir, Split::Validation);
    r.data.validation_bytes = r.prepared.cache.validation.bytes;
    return r;
}

}  // namespace itera
