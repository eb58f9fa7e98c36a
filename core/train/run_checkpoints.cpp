#include "train/run_checkpoints.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "format/safetensors.h"
#include "model/checkpoint.h"
#include "util/error.h"

namespace itera {
namespace {

namespace fs = std::filesystem;

std::string step_name(std::int64_t step) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "step-%06lld", static_cast<long long>(step));
    return buf;
}

// The step of a folder named step-N, or -1.
std::int64_t step_of(const fs::path& p) {
    const auto name = p.filename().string();
    if (name.rfind("step-", 0) != 0 || name.size() == 5) return -1;
    std::int64_t v = 0;
    for (std::size_t i = 5; i < name.size(); ++i) {
        if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10) return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

std::string number(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

// Metadata value `key` parsed whole as T (std::stoll or std::stod).
template <class T, class Parse>
T number_meta(const SafetensorsFile& f, const std::string& key, Parse parse) {
    const auto& s = f.meta(key);
    try {
        std::size_t used = 0;
        const T v = parse(s, &used);
        if (used == s.size()) return v;
    } catch (...) {
    }
    throw Error(f.origin() + ": metadata \"" + key + "\" is not a number");
}

std::int64_t integer_meta(const SafetensorsFile& f, const std::string& key) {
    return number_meta<std::int64_t>(
        f, key, [](const std::string& s, std::size_t* used) { return std::stoll(s, used); });
}

double real_meta(const SafetensorsFile& f, const std::string& key) {
    return number_meta<double>(
        f, key, [](const std::string& s, std::size_t* used) { return std::stod(s, used); });
}

}  // namespace

CheckpointPaths write_checkpoint_pair(const fs::path& run_dir, const IteraModel& model,
                                      const AdamW& optimizer, const TrainerState& s,
                                      const std::string& tokenizer,
                                      const std::map<std::string, std::string>& metadata) {
    const auto root = run_dir / "checkpoints";
    const auto final_dir = root / step_name(s.step);
    const auto tmp = root / (".tmp-" + step_name(s.step));
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    auto meta = metadata;
    meta["step"] = std::to_string(s.step);
    save_checkpoint(model, tokenizer, tmp / "model.safetensors", meta);

    SafetensorsWriter w;
    w.set_metadata("format", "itera-lite-trainer-state");
    w.set_metadata("format_version", "1");
    w.set_metadata("step", std::to_string(s.step));
    w.set_metadata("tokens", std::to_string(s.tokens));
    w.set_metadata("wall_s", number(s.wall_s));
    w.set_metadata("total_steps", std::to_string(s.total_steps));
    w.set_metadata("best_val_loss", number(s.best_val_loss));
    w.set_metadata("best_step", std::to_string(s.best_step));
    w.set_metadata("evals_without_improvement", std::to_string(s.evals_without_improvement));
    w.set_metadata("optimizer_steps", std::to_string(optimizer.steps_taken()));
    w.set_metadata("schedule_anchor_step", std::to_string(s.schedule.step));
    w.set_metadata("schedule_anchor_progress", number(s.schedule.progress));
    for (const auto& [name, t] : optimizer.state()) {
        auto c = t.contiguous();
        w.add(name, DType::F32, c.sizes().vec(), c.data_ptr(),
              static_cast<std::size_t>(c.nbytes()));
    }
    w.write(tmp / "state.safetensors");

    fs::remove_all(final_dir);  // a folder of this step from an earlier, identical attempt
    fs::rename(tmp, final_dir);
    return {final_dir / "model.safetensors", final_dir / "state.safetensors"};
}

std::vector<CheckpointPaths> list_checkpoint_pairs(const fs::path& run_dir) {
    std::vector<std::pair<std::int64_t, fs::path>> dirs;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(run_dir / "checkpoints", ec)) {
        const auto step = step_of(e.path());
        if (step >= 0 && fs::exists(e.path() / "model.safetensors") &&
            fs::exists(e.path() / "state.safetensors"))
            dirs.emplace_back(step, e.path());
    }
    std::sort(dirs.begin(), dirs.end(), [](auto& a, auto& b) { return a.first > b.first; });
    std::vector<CheckpointPaths> out;
    for (const auto& [step, dir] : dirs)
        out.push_back({dir / "model.safetensors", dir / "state.safetensors"});
    return out;
}

LoadedTrainerState read_trainer_state(const CheckpointPaths& paths) {
    auto f = SafetensorsFile::read(paths.state);
    if (f.meta("format") != "itera-lite-trainer-state" || f.meta("format_version") != "1")
        throw Error(f.origin() + ": not a version 1 trainer state file");
    LoadedTrainerState r;
    r.paths = paths;
    r.state.step = integer_meta(f, "step");
    r.state.tokens = integer_meta(f, "tokens");
    r.state.wall_s = real_meta(f, "wall_s");
    r.state.total_steps = integer_meta(f, "total_steps");
    r.state.best_val_loss = real_meta(f, "best_val_loss");
    r.state.best_step = integer_meta(f, "best_step");
    r.state.evals_without_improvement = integer_meta(f, "evals_without_improvement");
    r.optimizer_steps = integer_meta(f, "optimizer_steps");
    // Optional: files written before re-planning kept the cosine continuous.
    if (f.metadata().count("schedule_anchor_step")) {
        r.state.schedule.step = integer_meta(f, "schedule_anchor_step");
        r.state.schedule.progress = real_meta(f, "schedule_anchor_progress");
        if (r.state.schedule.step < 0 || !(r.state.schedule.progress >= 0) ||
            r.state.schedule.progress > 1)
            throw Error(f.origin() + ": the schedule anchor is out of range");
    }
    for (const auto& t : f.tensors()) {
        if (t.dtype != DType::F32)
            throw Error(f.origin() + ": tensor \"" + t.name + "\" is not F32");
        auto v = torch::empty(t.shape, torch::kFloat);
        if (t.nbytes) std::memcpy(v.data_ptr(), t.data, t.nbytes);
        r.moments.emplace_back(t.name, v);
    }
    return r;
}

std::vector<fs::path> prune_checkpoint_pairs(const fs::path& run_dir, std::size_t keep) {
    std::vector<fs::path> removed;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(run_dir / "checkpoints", ec))
        if (e.path().filename().string().rfind(".tmp-", 0) == 0) fs::remove_all(e.path(), ec);
    auto pairs = list_checkpoint_pairs(run_dir);
    for (std::size_t i = keep; i < pairs.size(); ++i) {
        fs::remove_all(pairs[i].model.parent_path(), ec);
        removed.push_back(pairs[i].model);
    }
    return removed;
}

}  // namespace itera
