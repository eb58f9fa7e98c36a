#include "workflows/adapt.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

#include "format/safetensors.h"
#include "model/checkpoint.h"
#include "util/atomic_file.h"
#include "util/build_info.h"
#include "util/error.h"
#include "util/read_file.h"
#include "util/sha256.h"
#include "util/threads.h"
#include "workflows/model_source.h"
#include "workflows/store_recorder.h"

namespace itera {
namespace {

// A `correctness` that is a corrected answer, not a verdict.
bool is_correction(const std::string& c) {
    if (c.empty() || c == "true" || c == "false") return false;
    try {
        std::size_t used = 0;
        std::stod(c, &used);
        return used != c.size();
    } catch (const std::exception&) {
        return true;
    }
}

// Control characters (a young model emits some) are noise to learn, and the
// corpus reader takes a file full of them for a binary one: dropped.
std::string without_controls(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c >= 0x20 && c != 0x7f) || c == '\n' || c == '\t') out += ch;
    }
    return out;
}

std::vector<std::string> feedback_documents(RunStore& store, const AdaptOptions& o) {
    std::set<std::string> seen;
    std::vector<std::string> docs;
    auto add = [&](const std::string& text) {
        auto d = without_controls(text);
        if (d.find_first_not_of(" \t\n") == std::string::npos) return;
        if (seen.insert(d).second) docs.push_back(std::move(d));
    };
    for (const auto& f : store.feedback(1)) {
        if (f.rating >= o.min_rating) add(f.served.prompt + f.served.output);
        if (o.corrections && is_correction(f.correctness)) add(f.served.prompt + f.correctness);
    }
    return docs;
}

}  // namespace

AdaptResult adapt_from_feedback(const Workspace& ws, const std::filesystem::path& checkpoint,
                                const AdaptOptions& o, const std::filesystem::path& out) {
    if (o.min_rating < 1 || o.min_rating > 5)
        throw Error("--min-rating must be 1..5, got " + std::to_string(o.min_rating));
    if (o.steps < 1) throw Error("--steps must be >= 1");
    const auto file = SafetensorsFile::read(checkpoint);
    if (file.meta("quantization") != "none")
        throw Error(checkpoint.string() +
                    " is a compressed model; fine-tuning needs the FP32 checkpoint it came from");
    auto loaded = load_checkpoint(checkpoint);
    auto tokenizer = checkpoint_tokenizer(loaded, checkpoint);
    if (!tokenizer) throw Error(checkpoint.string() + " carries no tokenizer");
    const auto& db = ws.db_path;
    RunStore store(db);
    const int threads = set_thread_count(o.threads > 0 ? o.threads : default_thread_count());

    // The fine-tuning set: one document per answer, in a folder keyed by its content.
    const auto docs = feedback_documents(store, o);
    if (docs.empty())
        throw Error("no feedback rated " + std::to_string(o.min_rating) + " or better" +
                    (o.corrections ? " and no corrections" : "") + " in " + db.string() +
                    " (answers served by `itera serve` are rated with POST /feedback)");
    std::string all;
    for (const auto& d : docs) all += d + '\0';
    const auto dir = db.parent_path() / "adapt" / sha256_hex(all).substr(0, 16);
    std::filesystem::create_directories(dir);
    for (std::size_t i = 0; i < docs.size(); ++i)
        write_file_atomically(dir / ("answer-" + std::to_string(i) + ".txt"), docs[i]);
    CacheBuildOptions cache;
    cache.threads = threads;
    cache.split.validation_fraction = 0;  // all of it trains; validation is the run's own text
    auto train = prepare_eval_data(ws, dir.string(), CorpusFormat::Text, *tokenizer, Split::Train,
                                   cache, dir / "cache");
    const auto spec = source_data_spec(store, loaded.metadata);
    auto validation = source_text(ws, spec, *tokenizer, Split::Validation, threads, nullptr);

    TrainSettings s;
    s.model = loaded.model->config().resolved();
    s.init_from = std::filesystem::absolute(checkpoint).string();
    s.steps = o.steps;
    s.adam.lr = o.lr;
    s.warmup_steps = std::max<std::int64_t>(1, o.steps / 10);
    s.eval_every = o.steps;  // step 0 (before) and the end (after)
    s.checkpoint_every = o.steps;
    s.batch_size = o.batch_size;
    s.seq_len =
        std::min<std::int64_t>(o.seq_len, static_cast<std::int64_t>(train.stream->size()) - 1);
    if (s.seq_len < 8)
        throw Error("the rated answers hold " + std::to_string(train.stream->size()) +
                    " tokens, too few to fine-tune on (collect more feedback)");
    s.seed = o.seed;
    s.threads = threads;
    TrainData data{train.stream, validation.stream, tokenizer, validation.bytes};
    check_train_data(s, data);

    NewRun r;
    r.name = "adapt " + checkpoint.filename().string() + " from " + std::to_string(docs.size()) +
             " rated answers";
    r.config_json = s.to_json();
    r.dataset = nlohmann::json{{"source", "feedback"},
                               {"min_rating", o.min_rating},
                               {"corrections", o.corrections},
                               {"documents", docs.size()},
                               {"tokens", train.stream->size()},
                               {"dir", dir.string()},
                               {"validation", nlohmann::json::parse(spec.to_json())}}
                    .dump();
    r.tokenizer = tokenizer->fingerprint();
    r.seed = o.seed;
    r.library_versions = library_versions();
    r.git_revision = git_revision();
    r.parent_checkpoint = s.init_from;
    r.parent_relation = "adapt";
    r.parent_run_id = source_run_id(store, loaded.metadata);
    AdaptResult a;
    a.documents = static_cast<std::int64_t>(docs.size());
    a.tokens = static_cast<std::int64_t>(train.stream->size());
    a.run_id = store.create_run(r);
    a.train = train_stored_run(store, a.run_id, s, data, o.control, o.progress);
    if (a.train.status != RunStatus::Finished || !a.train.final_eval)
        throw Error("the fine-tune (run " + std::to_string(a.run_id) + ") ended " +
                    run_status_name(a.train.status) + ": " + a.train.message);
    const auto first = [&](const char* name) {
        return store.metrics(a.run_id, name).front().value;
    };
    a.before.loss = first("val_loss");
    a.before.perplexity = first("val_perplexity");
    a.before.bits_per_byte = first("val_bits_per_byte");
    a.after = *a.train.final_eval;
    write_file_atomically(out, read_file(a.train.latest_checkpoint));
    a.out = out;
    return a;
}

}  // namespace itera
