#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <thread>
#include <utility>

#include "eval/evaluate.h"
#include "model/checkpoint.h"
#include "model/itera_model.h"
#include "model/ops.h"
#include "train/data_parallel.h"
#include "train/distill_loss.h"
#include "train/optimizer.h"
#include "train/run_checkpoints.h"
#include "train/start_weights.h"
#include "util/error.h"
#include "util/sha256.h"
#include "util/threads.h"

namespace itera {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kKeptCheckpoints = 2;
constexpr double kFlushSeconds = 2.0;

std::uint64_t mix(std::uint64_t x) {  // splitmix64
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Rows of step `step`, micro-batch `micro`: windows of seq_len + 1 tokens at
// positions drawn from (seed, step, micro, row) alone.
torch::Tensor make_batch(const TokenStream& s, const TrainSettings& o, std::int64_t step,
                         std::int64_t micro) {
    const std::int64_t width = o.seq_len + 1;
    const std::uint64_t starts = s.size() - static_cast<std::uint64_t>(width) + 1;
    auto batch = torch::empty({o.batch_size, width}, torch::kLong);
    auto* p = batch.data_ptr<std::int64_t>();
    for (std::int64_t b = 0; b < o.batch_size; ++b) {
        const auto key = mix(o.seed) ^ mix((static_cast<std::uint64_t>(step) << 20) ^
                                           (static_cast<std::uint64_t>(micro) << 12) ^
                                           static_cast<std::uint64_t>(b));
        s.copy(mix(key) % starts, static_cast<std::uint64_t>(width), p + b * width);
    }
    return batch;
}

// The dropout seed of micro-batch `micro` of step `step` (micro-batch 0 keeps
// the seed runs had before micro-batches had their own).
std::uint64_t dropout_seed(std::uint64_t seed, std::int64_t step, std::int64_t micro) {
    const auto s = mix(mix(seed) ^ static_cast<std::uint64_t>(step));
    return micro == 0 ? s : mix(s ^ static_cast<std::uint64_t>(micro));
}

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

class MetricBuffer {
public:
    explicit MetricBuffer(RunRecorder& recorder) : recorder_(recorder) {}
    void add(std::int64_t step, std::int64_t tokens, double wall, const std::string& name,
             double value) {
        if (!std::isfinite(value)) return;
        points_.push_back({step, tokens, wall, name, value});
        if (keep_fresh_) fresh_.push_back(points_.back());
    }
    /// Points added since the last call (kept only when a progress callback wants them).
    std::vector<MetricPoint> take_fresh() { return std::exchange(fresh_, {}); }
    void keep_fresh(bool on) { keep_fresh_ = on; }
    void flush() {
        recorder_.metrics(points_);  // also the heartbeat, so flush even when empty
        points_.clear();
        last_ = Clock::now();
    }
    void maybe_flush() {
        if (seconds_since(last_) >= kFlushSeconds) flush();
    }

private:
    RunRecorder& recorder_;
    std::vector<MetricPoint> points_, fresh_;
    bool keep_fresh_ = false;
    Clock::time_point last_ = Clock::now();
};

}  // namespace

void check_train_data(const TrainSettings& s, const TrainData& d) {
    if (!d.train || !d.validation || !d.tokenizer)
        throw Error("training data: train and validation streams and a tokenizer are required");
    if (d.tokenizer->vocab_size() != s.model.vocab_size)
        throw Error("the model's vocab_size is " + std::to_string(s.model.vocab_size) +
                    " but the tokenizer has " + std::to_string(d.tokenizer->vocab_size()) + " ids");
    if (d.train->size() < static_cast<std::uint64_t>(s.seq_len + 1))
        throw Error("the training split has " + std::to_string(d.train->size()) +
                    " tokens; one training sequence needs seq_len + 1 = " +
                    std::to_string(s.seq_len + 1) + " (use a shorter sequence or more text)");
    if (d.validation->size() == 0)
        throw Error("the validation split has no tokens (use a larger validation fraction)");
}

namespace {

std::string describe_step(const std::string& what, std::int64_t step) {
    return what + " at step " + std::to_string(step);
}

}  // namespace

TrainResult train_run(const RunOutput& out, TrainSettings settings, const TrainData& data,
                      TrainControl* control,
                      const std::function<void(const TrainProgress&)>& progress) {
    if (!out.recorder) throw Error("train_run: no recorder");
    RunRecorder& recorder = *out.recorder;
    const std::int64_t run_id = out.run_id;
    Collective* group = out.group && out.group->world_size() > 1 ? out.group : nullptr;
    const int rank = group ? group->rank() : 0;
    const int world = group ? group->world_size() : 1;
    const bool writer = rank == 0;  // only rank 0 writes files and records
    settings.validate();
    check_train_data(settings, data);
    if (settings.grad_accum < world)
        throw Error("a step of this run has " + std::to_string(settings.grad_accum) +
                    " micro-batch(es) (grad_accum), fewer than its " + std::to_string(world) +
                    " processes");
    if (group && !settings.teacher.empty())
        throw Error(
            "distillation trains in one process: every rank would need the teacher "
            "model (run it without --nproc or --dist)");
    set_thread_count(settings.threads);
    const fs::path& run_dir = out.run_dir;
    if (writer) fs::create_directories(run_dir);
    const std::string tokenizer_json = data.tokenizer->serialize();
    // train_seq_len: the window length the model learnt on (the playground says when a
    // sequence goes past it).
    const std::map<std::string, std::string> meta = {
        {"run_id", std::to_string(run_id)}, {"train_seq_len", std::to_string(settings.seq_len)}};

    IteraModel model(settings.model);
    model->initialize(settings.seed);
    if (!settings.init_from.empty() && writer)  // the others receive rank 0's weights
        start_from(model, settings.init_from, *data.tokenizer);
    model->train();
    IteraModel teacher{nullptr};
    if (!settings.teacher.empty()) teacher = load_teacher(settings.teacher, *data.tokenizer);
    AdamW optimizer(model, settings.adam);
    TrainerState st;
    st.total_steps = settings.steps;
    TrainResult result;

    // Resume from the newest readable checkpoint pair.
    std::string skipped;
    std::vector<CheckpointPaths> pairs;
    if (writer) pairs = list_checkpoint_pairs(run_dir);  // the others start from rank 0's
    for (const auto& pair : pairs) {
        try {
            auto loaded = load_checkpoint(pair.model);
            if (!(loaded.model->config().resolved() == settings.model.resolved()))
                throw Error(pair.model.string() + ": its model config differs from the run's");
            auto saved = read_trainer_state(pair);
            torch::NoGradGuard no_grad;
            auto from = loaded.model->spec_parameters();
            auto to = model->spec_parameters();
            for (std::size_t i = 0; i < to.size(); ++i) to[i].second.copy_(from[i].second);
            optimizer.load_state(saved.moments, saved.optimizer_steps);
            st = saved.state;
            result.latest_checkpoint = pair.model;
            break;
        } catch (const Error& e) {
            skipped += std::string(skipped.empty() ? "" : "; ") + e.what();
        }
    }
    if (group) copy_start_from_rank0(*group, model, optimizer, st);
    // A time budget's plan is the checkpoint's: the stored settings may hold a
    // later re-plan whose steps (and anchor) were lost with the steps after it.
    if (settings.minutes > 0 || (st.total_steps > 0 && settings.steps == 0))
        settings.steps = st.total_steps;
    // Whatever an earlier attempt recorded after the step it resumes from is
    // void (at step 0 too: a run killed before its first checkpoint).
    recorder.truncate_metrics(st.step);
    if (st.best_step >= 0) result.best_checkpoint = run_dir / "best.safetensors";
    if (st.step == 0 && !skipped.empty())
        throw Error("run " + std::to_string(run_id) +
                    " has checkpoints, but none could be read: " + skipped);
    if (settings.steps > 0 && st.step >= settings.steps) {
        result.status = RunStatus::Finished;
        result.message = "the run had already reached its last step";
    }

    recorder.started();
    MetricBuffer metrics(recorder);
    metrics.keep_fresh(static_cast<bool>(progress));
    const auto session_start = Clock::now();
    const double wall_before = st.wall_s;
    const std::int64_t tokens_before = st.tokens;
    double paused_s = 0;  // excluded from wall time
    auto wall_now = [&] { return wall_before + seconds_since(session_start) - paused_s; };

    // The step's micro-batches (all ranks together), and its tokens.
    const std::int64_t micro_batches = settings.grad_accum;
    const double tokens_per_step =
        static_cast<double>(settings.batch_size * settings.seq_len * micro_batches);
    // Decisions on time (the budget, its plan) follow rank 0's clock on every rank.
    double shared_wall = wall_now();
    auto decision_wall = [&] { return group ? shared_wall : wall_now(); };
    bool stop_all = false;  // a rank asked to stop (distributed runs)

    TrainProgress p;
    std::optional<EvalResult> last_eval;
    std::int64_t last_eval_step = -1, last_checkpoint_step = st.step;
    std::deque<std::pair<double, std::int64_t>> recent;  // (wall, step) of recent steps
    std::vector<double> step_times;                      // this session, for planning
    std::int64_t plan_step = -1;                         // when the time budget was planned
    double plan_wall = 0;

    auto emit = [&](TrainProgress::Kind kind, const std::string& message = {}) {
        if (!progress) return;
        p.kind = kind;
        p.step = st.step;
        p.total_steps = settings.steps;
        p.tokens = st.tokens;
        p.wall_s = wall_now();
        p.eval = last_eval;
        p.message = message;
        p.points = metrics.take_fresh();
        p.tokens_per_s = 0;
        p.eta_s = 0;
        if (recent.size() >= 2) {
            const double dt = recent.back().first - recent.front().first;
            const double ds = static_cast<double>(recent.back().second - recent.front().second);
            if (dt > 0 && ds > 0) {
                p.tokens_per_s = ds * tokens_per_step / dt;
                if (settings.steps > 0) p.eta_s = (settings.steps - st.step) * dt / ds;
            }
        }
        // A time budget ends the run at its deadline at the latest.
        p.budget_s = settings.minutes * 60;
        if (p.budget_s > 0 && settings.steps > 0)
            p.eta_s = std::clamp(p.eta_s, 0.0, std::max(0.0, p.budget_s - p.wall_s));
        if (kind == TrainProgress::Kind::Paused) p.tokens_per_s = p.eta_s = 0;  // nothing moves
        progress(p);
    };

    EvalOptions eval_options;
    eval_options.max_tokens = settings.eval_tokens;
    eval_options.batch_size = settings.batch_size;
    eval_options.seq_len = settings.seq_len;
    if (group) {  // each rank evaluates every world-th batch; the sums are shared
        eval_options.part = rank;
        eval_options.parts = world;
        eval_options.sum_across = [&](std::vector<double>& v) { sum_values(*group, v); };
    }
    auto run_eval = [&] {
        last_eval =
            evaluate(model, *data.validation, *data.tokenizer, data.validation_bytes, eval_options);
        last_eval_step = st.step;
        const auto& e = *last_eval;
        metrics.add(st.step, st.tokens, wall_now(), "val_loss", e.loss);
        metrics.add(st.step, st.tokens, wall_now(), "val_perplexity", e.perplexity);
        metrics.add(st.step, st.tokens, wall_now(), "val_bits_per_byte", e.bits_per_byte);
        const bool improved = st.best_step < 0 || e.loss < st.best_val_loss;
        if (improved) {
            st.best_val_loss = e.loss;
            st.best_step = st.step;
            st.evals_without_improvement = 0;
        } else {
            ++st.evals_without_improvement;
        }
        if (writer && improved) {
            const auto best = run_dir / "best.safetensors";
            auto m = meta;
            m["step"] = std::to_string(st.step);
            save_checkpoint(model, tokenizer_json, best, m);
            recorder.checkpoint_removed(best.string());
            recorder.checkpoint_written({run_id, st.step, "best", best.string(),
                                         static_cast<std::int64_t>(fs::file_size(best)),
                                         sha256_file(best), e.loss});
            result.best_checkpoint = best;
        }
        metrics.flush();
        emit(TrainProgress::Kind::Eval);
    };
    auto run_checkpoint = [&] {
        // Every step up to this one is committed before its checkpoint exists:
        // a kill between the two would otherwise resume after steps whose
        // metrics were never written.
        metrics.flush();
        st.wall_s = wall_now();
        last_checkpoint_step = st.step;
        if (!writer) return;
        auto paths = write_checkpoint_pair(run_dir, model, optimizer, st, tokenizer_json, meta);
        std::optional<double> val;
        if (last_eval && last_eval_step == st.step) val = last_eval->loss;
        recorder.checkpoint_written({run_id, st.step, "latest", paths.model.string(),
                                     static_cast<std::int64_t>(fs::file_size(paths.model)),
                                     sha256_file(paths.model), val});
        for (const auto& gone : prune_checkpoint_pairs(run_dir, kKeptCheckpoints))
            recorder.checkpoint_removed(gone.string());
        result.latest_checkpoint = paths.model;
        emit(TrainProgress::Kind::Checkpoint, paths.model.string());
    };

    try {
        const double budget_s = settings.minutes * 60;
        if (st.step == 0 && result.message.empty()) run_eval();
        double eval_seconds = last_eval ? last_eval->seconds : 0;
        if (group) {
            eval_seconds = rank0_value(*group, eval_seconds);
            shared_wall = rank0_value(*group, wall_now());
        }
        if (budget_s > 0 && settings.steps > 0) {  // a resumed, already planned budget
            plan_step = st.step;
            plan_wall = decision_wall();
        }
        while (result.message.empty()) {
            if (settings.steps > 0 && st.step >= settings.steps) break;
            if (control && control->stop_step() > 0 && st.step >= control->stop_step()) {
                result.status = RunStatus::Stopped;
                result.message = "stopped at step " + std::to_string(st.step) + " as asked";
                break;
            }
            if (group ? stop_all : control && control->stop_requested()) {
                result.status = RunStatus::Stopped;
                result.message = describe_step("stopped", st.step);
                break;
            }
            if (!group && control && control->paused()) {  // a distributed run does not pause
                const auto t0 = Clock::now();
                metrics.flush();  // a paused run's stored curve is complete
                recorder.paused();
                emit(TrainProgress::Kind::Paused);
                auto beat = Clock::now();
                while (control->paused() && !control->stop_requested()) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(50));
                    if (seconds_since(beat) > 10) {
                        recorder.metrics({});
                        beat = Clock::now();
                    }
                }
                paused_s += seconds_since(t0);
                recorder.started();
                emit(TrainProgress::Kind::Resumed);
                continue;
            }
            if (budget_s > 0 && decision_wall() >= budget_s) {
                char minutes[32];
                std::snprintf(minutes, sizeof minutes, "%g", settings.minutes);
                result.message = std::string("time budget of ") + minutes +
                                 " minutes reached at step " + std::to_string(st.step);
                break;
            }

            // One optimiser step.
            const auto t0 = Clock::now();
            optimizer.zero_grad();
            double ce = 0, aux = 0, kl = 0;
            std::vector<torch::Tensor> load;
            // The forward and backward products of this step (never the evaluation's).
            const bool bf16 = settings.precision == "bf16";
            // This rank's micro-batches of the step: m ≡ rank (mod world).
            for (std::int64_t m = rank; m < micro_batches; m += world) {
                if (settings.model.dropout > 0)
                    torch::manual_seed(dropout_seed(settings.seed, st.step, m));
                const Bf16Gemms precision(bf16);
                auto batch = make_batch(*data.train, settings, st.step, m);
                LossOutput out;
                if (teacher) {
                    auto d = distillation_loss(model, teacher, batch, settings.distill_alpha,
                                               settings.distill_temperature);
                    out = std::move(d.lm);
                    kl += d.kl.item<double>() / static_cast<double>(micro_batches);
                } else {
                    out = model->loss(batch);
                }
                (micro_batches > 1 ? out.loss / static_cast<double>(micro_batches) : out.loss)
                    .backward();
                ce += out.ce.item<double>() / static_cast<double>(micro_batches);
                aux += out.aux.item<double>() / static_cast<double>(micro_batches);
                // Summed in double, so that summing across ranks gives the same bits.
                if (load.empty()) {
                    for (const auto& l : out.expert_load)
                        load.push_back(l.detach().to(torch::kDouble));
                } else {
                    for (std::size_t i = 0; i < load.size(); ++i)
                        load[i] += out.expert_load[i].to(torch::kDouble);
                }
            }
            double step_s = seconds_since(t0), rank_tokens_per_s = 0, collective_s = 0;
            std::vector<double> rank_speeds;
            if (group) {
                // One sum carries the step's figures, the stop requests and rank 0's
                // clock; then the gradients. Each rank fills its own slots.
                const auto tc = Clock::now();
                const auto mine = (micro_batches - rank + world - 1) / world;
                rank_tokens_per_s =
                    static_cast<double>(mine * settings.batch_size * settings.seq_len) / step_s;
                const std::size_t fixed = 5 + static_cast<std::size_t>(world);
                std::vector<double> v(fixed);
                v[0] = ce;
                v[1] = aux;
                v[2] = kl;
                v[3] = control && control->stop_requested() ? 1 : 0;
                v[4] = rank == 0 ? wall_now() : 0;
                v[5 + rank] = rank_tokens_per_s;
                for (const auto& l : load)
                    v.insert(v.end(), l.data_ptr<double>(), l.data_ptr<double>() + l.numel());
                sum_values(*group, v);
                sum_gradients(*group, model);
                ce = v[0];
                aux = v[1];
                kl = v[2];
                stop_all = v[3] > 0;
                rank_speeds.assign(v.begin() + 5, v.begin() + static_cast<std::ptrdiff_t>(fixed));
                std::size_t at = fixed;
                for (auto& l : load) {
                    std::copy_n(v.begin() + static_cast<std::ptrdiff_t>(at), l.numel(),
                                l.data_ptr<double>());
                    at += static_cast<std::size_t>(l.numel());
                }
                collective_s = seconds_since(tc);
                // The step's time for the plan: rank 0's, from one reduce to the next.
                const double previous = std::exchange(shared_wall, v[4]);
                step_s = shared_wall - previous;
            }
            const double lr = learning_rate(settings, st.step, settings.steps, st.schedule);
            const double norm = optimizer.step(lr, settings.max_grad_norm);
            if (!std::isfinite(ce) || !std::isfinite(norm)) {
                metrics.flush();
                result.status = RunStatus::Failed;
                result.message =
                    "training diverged at step " + std::to_string(st.step + 1) + ": loss " +
                    std::to_string(ce) + ", gradient norm " + std::to_string(norm) +
                    (result.latest_checkpoint.empty()
                         ? std::string("; no checkpoint to resume from was written yet")
                         : "; the last good checkpoint is " + result.latest_checkpoint.string()) +
                    " (try a lower learning rate)";
                break;
            }
            if (!group) step_s = seconds_since(t0);
            ++st.step;
            st.tokens += static_cast<std::int64_t>(tokens_per_step);
            step_times.push_back(step_s);
            recent.emplace_back(wall_now(), st.step);
            while (recent.size() > 50) recent.pop_front();

            const double w = wall_now();
            metrics.add(st.step, st.tokens, w, "train_loss", ce);
            metrics.add(st.step, st.tokens, w, "aux_loss", aux);
            if (teacher) metrics.add(st.step, st.tokens, w, "distill_kl", kl);
            metrics.add(st.step, st.tokens, w, "lr", lr);
            metrics.add(st.step, st.tokens, w, "grad_norm", norm);
            metrics.add(st.step, st.tokens, w, "tokens_per_s", tokens_per_step / step_s);
            if (group) {
                for (int r = 0; r < world; ++r)
                    metrics.add(st.step, st.tokens, w, "tokens_per_s.rank" + std::to_string(r),
                                rank_speeds[static_cast<std::size_t>(r)]);
                metrics.add(st.step, st.tokens, w, "allreduce_share", collective_s / step_s);
                metrics.add(st.step, st.tokens, w, "processes", world);
            }
            p.expert_load.clear();
            for (std::size_t l = 0; l < load.size(); ++l) {
                auto f = (load[l] / static_cast<double>(micro_batches)).contiguous();
                std::vector<double> v(f.data_ptr<double>(), f.data_ptr<double>() + f.numel());
                for (std::size_t e = 0; e < v.size(); ++e)
                    metrics.add(st.step, st.tokens, w,
                                "expert_load." + std::to_string(l) + "." + std::to_string(e), v[e]);
                p.expert_load.push_back(std::move(v));
            }
            p.train_loss = ce;
            p.aux_loss = aux;
            p.lr = lr;
            p.grad_norm = norm;

            // A time budget becomes a step count once the step time is known, and is
            // re-planned at each evaluation from the pace since (evaluations and
            // checkpoints included), so the schedule ends on time on a noisy machine.
            constexpr std::size_t kPlanAfter = 12, kPlanSkip = 2;
            // The cosine continues from where it is: the progress reached at this step
            // becomes the anchor, so a new count bends the curve instead of moving it.
            auto replan = [&](std::int64_t steps, const std::string& how, double tokens_per_s) {
                if (settings.steps > 0)
                    st.schedule = {
                        st.step, schedule_progress(settings, st.step, settings.steps, st.schedule)};
                settings.steps = std::max(st.step, steps);
                st.total_steps = settings.steps;
                recorder.settings_changed(settings.to_json());
                emit(TrainProgress::Kind::Planned,
                     how + " " + std::to_string(settings.steps) + " steps from " +
                         std::to_string(static_cast<long long>(tokens_per_s)) + " tokens/s");
            };
            if (budget_s > 0 && settings.steps == 0 && step_times.size() == kPlanAfter) {
                double mean = 0;
                for (std::size_t i = kPlanSkip; i < kPlanAfter; ++i) mean += step_times[i];
                mean /= static_cast<double>(kPlanAfter - kPlanSkip);
                const double per_step = mean + eval_seconds / settings.eval_every;
                const double left = std::max(0.0, budget_s - decision_wall() - eval_seconds);
                plan_step = st.step;
                plan_wall = decision_wall();
                replan(st.step + static_cast<std::int64_t>(0.97 * left / per_step), "planned",
                       tokens_per_step / mean);
            }

            if (budget_s > 0 && plan_step >= 0 && st.step < settings.steps &&
                st.step % settings.eval_every == 0 && st.step >= plan_step + 20) {
                const double per_step = (decision_wall() - plan_wall) / (st.step - plan_step);
                const double left = std::max(0.0, budget_s - decision_wall() - eval_seconds);
                const auto steps = st.step + static_cast<std::int64_t>(0.98 * left / per_step);
                if (std::abs(static_cast<double>(steps - settings.steps)) > 0.01 * settings.steps)
                    replan(steps, "re-planned", tokens_per_step / per_step);
            }
            const bool last = settings.steps > 0 && st.step >= settings.steps;
            const bool asked_stop = control && st.step == control->stop_step();
            if (st.step % settings.eval_every == 0 || last || asked_stop) {
                run_eval();
                if (settings.patience > 0 && st.evals_without_improvement >= settings.patience)
                    result.message = "stopped early: validation loss did not improve in " +
                                     std::to_string(settings.patience) + " evaluations";
            }
            if (st.step % settings.checkpoint_every == 0 && !last) run_checkpoint();
            metrics.maybe_flush();
            emit(TrainProgress::Kind::Step);
        }

        if (result.status != RunStatus::Failed) {
            if (result.status != RunStatus::Stopped && last_eval_step != st.step) run_eval();
            if (last_checkpoint_step != st.step || result.latest_checkpoint.empty())
                run_checkpoint();
        }
        metrics.flush();
        recorder.ended(result.status, result.message);
    } catch (const CollectiveError& e) {
        // Another rank is gone: the steps up to the last checkpoint stand, and the
        // run resumes with any number of processes.
        result.message = group ? group->describe_failure(e.what()) : e.what();
        try {
            metrics.flush();
            recorder.ended(RunStatus::Interrupted, result.message);
        } catch (const std::exception&) {
        }
        throw CollectiveError(result.message);
    } catch (const std::exception& e) {
        result.status = RunStatus::Failed;
        result.message = e.what();
        try {
            metrics.flush();
            recorder.ended(RunStatus::Failed, result.message);
        } catch (const std::exception&) {
        }
        throw Error(result.message);
    }

    result.steps = st.step;
    result.tokens = st.tokens;
    result.wall_s = wall_now();
    result.train_loss = p.train_loss;
    const double session_s = seconds_since(session_start) - paused_s;
    result.tokens_per_s =
        session_s > 0 ? static_cast<double>(st.tokens - tokens_before) / session_s : 0;
    result.final_eval = last_eval;
    if (st.best_step >= 0) result.best_val_loss = st.best_val_loss;
    return result;
}

}  // namespace itera
