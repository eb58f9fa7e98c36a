// The trainer: schedule, settings, evaluation against a plain per-window
// reference, bit-exact resume, divergence, early stopping, pause/stop from
// another thread, time budgets and clear errors for unusable data.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "data/dataset.h"
#include "error_of.h"
#include "eval/evaluate.h"
#include "format/safetensors.h"
#include "model/checkpoint.h"
#include "temp_dir.h"
#include "train/distill_loss.h"
#include "train/trainer.h"
#include "workflows/store_recorder.h"

namespace itera {
namespace {

namespace fs = std::filesystem;
using testing::error_of;

// A small corpus of made-up sentences, tokenised with the byte tokenizer.
struct Fixture {
    testing::TempDir dir;
    TrainData data;
    std::unique_ptr<RunStore> store;

    Fixture() {
        const auto corpus = dir.path() / "corpus";
        fs::create_directories(corpus);
        std::mt19937 rng(5);
        const char* words[] = {"the",   "whale", "sea",     "ship",   "captain",
                               "white", "deep",  "harpoon", "sailor", "wind"};
        for (int d = 0; d < 40; ++d) {
            std::ofstream out(corpus / ("doc" + std::to_string(d) + ".txt"));
            for (int w = 0; w < 120; ++w) out << words[rng() % 10] << (w % 12 == 11 ? ".\n" : " ");
        }
        CacheBuildOptions o;
        o.split.validation_fraction = 0.15;
        auto prepared =
            prepare_dataset(Workspace::at(dir.path()),
                            {corpus.string(), CorpusFormat::Text, TokenizerKind::Byte, 0},
                            dir.path() / "dataset", o);
        data.tokenizer = prepared.tokenizer;
        data.train = TokenStream::open(dir.path() / "dataset", Split::Train);
        data.validation = TokenStream::open(dir.path() / "dataset", Split::Validation);
        data.validation_bytes = prepared.cache.validation.bytes;
        store = std::make_unique<RunStore>(dir.path() / "runs.sqlite");
    }

    TrainSettings settings() const {
        TrainSettings s;
        s.model = ModelConfig::preset("micro", data.tokenizer->vocab_size());
        s.batch_size = 4;
        s.seq_len = 32;
        s.steps = 12;
        s.warmup_steps = 3;
        s.adam.lr = 3e-3;
        s.eval_every = 4;
        s.eval_tokens = 4096;
        s.checkpoint_every = 5;
        s.seed = 11;
        s.threads = 2;
        return s;
    }

    std::int64_t new_run(const TrainSettings& s) {
        NewRun r;
        r.name = "test";
        r.config_json = s.to_json();
        return store->create_run(r);
    }

    std::vector<double> values(std::int64_t run, const std::string& name) {
        std::vector<double> out;
        for (const auto& p : store->metrics(run, name)) out.push_back(p.value);
        return out;
    }
};

TEST(LearningRate, WarmsUpLinearlyThenDecaysByCosineToTheFloor) {
    TrainSettings s;
    s.adam.lr = 1e-3;
    s.warmup_steps = 10;
    s.min_lr_ratio = 0.1;
    EXPECT_NEAR(learning_rate(s, 0, 100), 1e-3 / 11, 1e-15);
    for (int i = 1; i < 10; ++i) EXPECT_GT(learning_rate(s, i, 100), learning_rate(s, i - 1, 100));
    EXPECT_DOUBLE_EQ(learning_rate(s, 10, 100), 1e-3);
    EXPECT_NEAR(learning_rate(s, 55, 100), 1e-4 + 0.9e-3 * 0.5, 1e-12);  // half way
    for (int i = 11; i <= 100; ++i)
        EXPECT_LE(learning_rate(s, i, 100), learning_rate(s, i - 1, 100));
    EXPECT_DOUBLE_EQ(learning_rate(s, 100, 100), 1e-4);
    EXPECT_DOUBLE_EQ(learning_rate(s, 150, 100), 1e-4);
    EXPECT_DOUBLE_EQ(learning_rate(s, 50, 0), 1e-3);  // not planned yet: the peak
}

TEST(LearningRate, AnAnchorKeepsTheCosineContinuousWhenTheLengthChanges) {
    TrainSettings s;
    s.adam.lr = 1e-3;
    s.warmup_steps = 10;
    s.min_lr_ratio = 0.1;
    // Re-planned at step 40 from 100 to 70 steps: the anchor is the progress reached.
    const ScheduleAnchor a{40, schedule_progress(s, 40, 100)};
    EXPECT_DOUBLE_EQ(a.progress, 30.0 / 90);
    EXPECT_DOUBLE_EQ(learning_rate(s, 40, 70, a), learning_rate(s, 40, 100));
    // The rest runs linearly in progress from there to the floor at step 70 (the
    // obvious formula, written out).
    for (int step : {41, 55, 69, 70, 90}) {
        const double t = std::min(1.0, 30.0 / 90 + (60.0 / 90) * (step - 40) / 30.0);
        EXPECT_NEAR(learning_rate(s, step, 70, a), 1e-4 + 0.9e-3 * 0.5 * (1 + std::cos(M_PI * t)),
                    1e-15)
            << step;
    }
    // Before warm-up ends an anchor changes nothing; the default anchor is the plain cosine.
    EXPECT_DOUBLE_EQ(learning_rate(s, 5, 70, {3, 0.0}), learning_rate(s, 5, 70));
    EXPECT_DOUBLE_EQ(learning_rate(s, 20, 70, {3, 0.0}), learning_rate(s, 20, 70));
}

TEST(TrainSettings, RoundTripsThroughJsonAndNamesBadValues) {
    TrainSettings s;
    s.model = ModelConfig::preset("micro", 300);
    s.steps = 77;
    s.adam.lr = 2e-3;
    s.patience = 3;
    s.seed = 9;
    const auto back = TrainSettings::from_json(s.to_json());
    EXPECT_EQ(back.to_json(), s.to_json());
    EXPECT_EQ(back.steps, 77);
    EXPECT_TRUE(back.model == s.model.resolved());

    EXPECT_NE(error_of([&] { TrainSettings::from_json("{\"stepz\": 3}"); }).find("\"stepz\""),
              std::string::npos);
    EXPECT_NE(error_of([&] { TrainSettings::from_json("[1"); }).find("invalid JSON"),
              std::string::npos);
    auto bad = s;
    bad.adam.lr = -1;
    EXPECT_NE(error_of([&] { bad.validate(); }).find("lr"), std::string::npos);
    bad = s;
    bad.steps = 0;
    bad.minutes = 0;
    EXPECT_NE(error_of([&] { bad.validate(); }).find("length"), std::string::npos);
    bad = s;
    bad.batch_size = 0;
    EXPECT_NE(error_of([&] { bad.validate(); }).find("batch_size"), std::string::npos);
    // precision: written only when not the default, read back, and checked.
    EXPECT_EQ(s.to_json().find("precision"), std::string::npos);
    auto bf = s;
    bf.precision = "bf16";
    EXPECT_EQ(TrainSettings::from_json(bf.to_json()).precision, "bf16");
    bad = s;
    bad.precision = "fp16";
    EXPECT_NE(error_of([&] { bad.validate(); }).find("precision must be fp32 or bf16"),
              std::string::npos);
}

// Evaluation equals the obvious computation: every token predicted once, from
// windows of seq_len that start with an EOS, summed log-softmax in double.
EvalOptions eval_options(std::int64_t max_tokens, std::int64_t batch, std::int64_t seq_len) {
    EvalOptions o;
    o.max_tokens = max_tokens;
    o.batch_size = batch;
    o.seq_len = seq_len;
    return o;
}

TEST(Evaluate, MatchesAPlainPerWindowReference) {
    Fixture f;
    auto s = f.settings();
    IteraModel model(s.model);
    model->initialize(3);
    const auto& val = *f.data.validation;
    const std::int64_t n = static_cast<std::int64_t>(val.size());
    const std::int64_t T = 32;
    auto r = evaluate(model, val, *f.data.tokenizer, f.data.validation_bytes,
                      eval_options(1 << 20, 3, T));
    EXPECT_EQ(r.tokens, n);
    EXPECT_EQ(r.bytes, f.data.validation_bytes);

    std::vector<std::int64_t> ids(n + 1);
    ids[0] = f.data.tokenizer->eos_id();
    val.copy(0, n, ids.data() + 1);
    torch::NoGradGuard no_grad;
    model->eval();
    double nats = 0;
    for (std::int64_t start = 0; start < n; start += T) {
        const auto len = std::min(T, n - start);
        auto in =
            torch::tensor(std::vector<std::int64_t>(ids.begin() + start, ids.begin() + start + len))
                .unsqueeze(0);
        auto logp = torch::log_softmax(model->forward(in).logits.to(torch::kDouble), -1)[0];
        for (std::int64_t t = 0; t < len; ++t) nats -= logp[t][ids[start + t + 1]].item<double>();
    }
    EXPECT_NEAR(r.loss, nats / n, 1e-5 * nats / n);
    EXPECT_NEAR(r.perplexity, std::exp(nats / n), 1e-4 * std::exp(nats / n));
    EXPECT_NEAR(r.bits_per_byte, nats / std::log(2.0) / f.data.validation_bytes,
                1e-5 * r.bits_per_byte);

    // A cap stops at a document end and counts the bytes of those documents.
    auto capped =
        evaluate(model, val, *f.data.tokenizer, f.data.validation_bytes, eval_options(1500, 3, T));
    ASSERT_LE(capped.tokens, 1500);
    EXPECT_GT(capped.tokens, 700);  // documents are ~700 bytes
    EXPECT_EQ(val[capped.tokens - 1], static_cast<std::uint32_t>(f.data.tokenizer->eos_id()));
    std::uint64_t eos_count = 0;
    for (std::int64_t i = 0; i < capped.tokens; ++i)
        eos_count += val[i] == static_cast<std::uint32_t>(f.data.tokenizer->eos_id());
    EXPECT_EQ(capped.bytes, capped.tokens - eos_count);  // byte tokens: one byte each
}

std::vector<std::uint8_t> file_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// Tensors of two checkpoints, byte for byte (metadata such as run_id may differ).
void expect_same_tensors(const fs::path& a, const fs::path& b) {
    auto fa = SafetensorsFile::read(a), fb = SafetensorsFile::read(b);
    ASSERT_EQ(fa.tensors().size(), fb.tensors().size());
    for (const auto& t : fa.tensors()) {
        const auto& u = fb.get(t.name);
        ASSERT_EQ(t.nbytes, u.nbytes) << t.name;
        EXPECT_EQ(std::memcmp(t.data, u.data, t.nbytes), 0) << t.name;
    }
}

TEST(Trainer, AStoppedAndResumedRunMatchesAnUninterruptedOneBitForBit) {
    Fixture f;
    auto s = f.settings();
    s.model.dropout = 0.1;  // its masks must be reproducible too
    const auto whole = f.new_run(s);
    auto full = train_stored_run(*f.store, whole, s, f.data);
    EXPECT_EQ(full.status, RunStatus::Finished);
    EXPECT_EQ(full.steps, 12);

    const auto split = f.new_run(s);
    TrainControl control;
    auto first =
        train_stored_run(*f.store, split, s, f.data, &control, [&](const TrainProgress& p) {
            if (p.kind == TrainProgress::Kind::Step && p.step == 7) control.stop();
        });
    EXPECT_EQ(first.status, RunStatus::Stopped);
    EXPECT_EQ(first.steps, 7);
    EXPECT_EQ(f.store->run(split).status, RunStatus::Stopped);
    auto second = train_stored_run(*f.store, split, s, f.data);
    EXPECT_EQ(second.status, RunStatus::Finished);
    EXPECT_EQ(second.steps, 12);

    EXPECT_EQ(f.values(whole, "train_loss"), f.values(split, "train_loss"));
    EXPECT_EQ(f.values(whole, "grad_norm"), f.values(split, "grad_norm"));
    EXPECT_EQ(f.values(whole, "val_loss"), f.values(split, "val_loss"));
    EXPECT_EQ(f.values(split, "train_loss").size(), 12u);
    expect_same_tensors(full.latest_checkpoint, second.latest_checkpoint);
    expect_same_tensors(full.best_checkpoint, second.best_checkpoint);
    EXPECT_EQ(second.final_eval->loss, full.final_eval->loss);
    EXPECT_LT(full.final_eval->loss, f.values(whole, "val_loss").front());  // it learned

    // The store knows the checkpoints it keeps, with their sizes and hashes.
    int latest = 0, best = 0;
    for (const auto& c : f.store->checkpoints(whole)) {
        EXPECT_TRUE(fs::exists(c.path)) << c.path;
        EXPECT_EQ(c.bytes, static_cast<std::int64_t>(fs::file_size(c.path)));
        latest += c.kind == "latest";
        best += c.kind == "best";
    }
    EXPECT_EQ(latest, 2);  // steps 5 and 12; step 10 was pruned (two are kept)
    EXPECT_EQ(best, 1);
}

TEST(Trainer, ADivergingRunFailsAndKeepsTheLastGoodCheckpoint) {
    Fixture f;
    auto s = f.settings();
    s.steps = 4;
    const auto id = f.new_run(s);
    auto done = train_stored_run(*f.store, id, s, f.data);
    ASSERT_EQ(done.status, RunStatus::Finished);
    // Poison the saved weights (finite, so the file still loads) so the
    // resumed run's first step overflows to NaN.
    auto ckpt = load_checkpoint(done.latest_checkpoint);
    {
        torch::NoGradGuard no_grad;
        ckpt.model->embed->weight.mul_(1e30);
    }
    save_checkpoint(ckpt.model, ckpt.tokenizer, done.latest_checkpoint);
    const auto poisoned = file_bytes(done.latest_checkpoint);
    s.steps = 8;
    auto r = train_stored_run(*f.store, id, s, f.data);
    EXPECT_EQ(r.status, RunStatus::Failed);
    EXPECT_NE(r.message.find("diverged at step 5"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find(done.latest_checkpoint.string()), std::string::npos) << r.message;
    EXPECT_EQ(f.store->run(id).status, RunStatus::Failed);
    EXPECT_EQ(file_bytes(done.latest_checkpoint), poisoned);  // not overwritten
}

TEST(Trainer, StopsEarlyWhenValidationLossStopsImproving) {
    Fixture f;
    auto s = f.settings();
    s.adam.lr = 1e-30;  // updates vanish below float precision: val loss stays put
    s.adam.weight_decay = 0;
    s.steps = 40;
    s.patience = 2;
    const auto id = f.new_run(s);
    auto r = train_stored_run(*f.store, id, s, f.data);
    EXPECT_EQ(r.status, RunStatus::Finished);
    EXPECT_NE(r.message.find("stopped early"), std::string::npos) << r.message;
    EXPECT_EQ(r.steps, 8);  // evaluations at 0 (best), 4 and 8 (no improvement)
}

TEST(Trainer, PausesAndResumesFromAnotherThread) {
    Fixture f;
    auto s = f.settings();
    const auto id = f.new_run(s);
    TrainControl control;
    std::thread watcher;
    RunStatus seen = RunStatus::Queued;
    std::vector<MetricPoint> streamed;
    auto r = train_stored_run(*f.store, id, s, f.data, &control, [&](const TrainProgress& p) {
        streamed.insert(streamed.end(), p.points.begin(), p.points.end());
        if (p.kind == TrainProgress::Kind::Step && p.step == 3) {
            control.pause();
            watcher = std::thread([&] {
                RunStore mine(f.store->path());  // a connection of this thread
                for (int i = 0; i < 200 && seen != RunStatus::Paused; ++i) {
                    seen = mine.run(id).status;
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                }
                control.resume();
            });
        }
    });
    watcher.join();
    EXPECT_EQ(seen, RunStatus::Paused);
    EXPECT_EQ(r.status, RunStatus::Finished);
    EXPECT_EQ(r.steps, 12);

    // The progress callback carries the stored points: each once, same values.
    std::map<std::pair<std::int64_t, std::string>, double> stored;
    for (const auto& m : f.store->metrics(id)) stored[{m.step, m.name}] = m.value;
    std::vector<std::int64_t> loss_steps;
    for (const auto& m : streamed) {
        ASSERT_TRUE(stored.count({m.step, m.name})) << m.name << " at " << m.step;
        EXPECT_EQ(stored.at({m.step, m.name}), m.value) << m.name << " at " << m.step;
        if (m.name == "train_loss") loss_steps.push_back(m.step);
    }
    EXPECT_EQ(loss_steps, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
}

TEST(Trainer, PlansATimeBudgetAsAStepCount) {
    Fixture f;
    auto s = f.settings();
    s.steps = 0;
    s.minutes = 0.05;  // 3 s
    s.batch_size = 1;  // small steps, so even a sanitizer build takes the 12 it plans from
    s.seq_len = 8;
    s.eval_tokens = 256;
    const auto id = f.new_run(s);
    std::string planned;
    auto r = train_stored_run(*f.store, id, s, f.data, nullptr, [&](const TrainProgress& p) {
        if (p.kind == TrainProgress::Kind::Planned && planned.empty()) planned = p.message;
    });
    EXPECT_EQ(r.status, RunStatus::Finished);
    if (planned.empty()) GTEST_SKIP() << "this build took fewer than 12 steps in 3 s";
    EXPECT_EQ(planned.rfind("planned ", 0), 0u) << planned;
    const auto stored = TrainSettings::from_json(f.store->run(id).config_json);
    EXPECT_GT(stored.steps, 12);
    EXPECT_LE(r.steps, stored.steps);
    // It ended on its plan or on its budget, never otherwise.
    EXPECT_TRUE(r.steps == stored.steps || r.message.find("time budget") != std::string::npos)
        << r.message;
}

TEST(Distillation, LossIsAlphaTSquaredMeanKlPlusTheRestOfCe) {
    const auto c = ModelConfig::preset("micro", 61);
    IteraModel student(c), teacher(c);
    student->initialize(1);
    teacher->initialize(2);
    student->eval();  // no aux term: the formula alone
    teacher->eval();
    torch::manual_seed(3);
    const auto seq = torch::randint(0, 61, {2, 13}, torch::kLong);
    const double alpha = 0.3, T = 2.5;
    auto out = distillation_loss(student, teacher, seq, alpha, T);

    // Reference: per-token sums in double, written out.
    torch::NoGradGuard no_grad;
    auto in = seq.narrow(1, 0, 12);
    auto s = student->forward(in).logits.to(torch::kDouble);
    auto t = teacher->forward(in).logits.to(torch::kDouble);
    double kl = 0, ce = 0;
    for (int b = 0; b < 2; ++b)
        for (int i = 0; i < 12; ++i) {
            auto ls = torch::log_softmax(s[b][i] / T, 0), lt = torch::log_softmax(t[b][i] / T, 0);
            for (int v = 0; v < 61; ++v) {
                const double pt = std::exp(lt[v].item<double>());
                kl += pt * (lt[v].item<double>() - ls[v].item<double>());
            }
            ce -= torch::log_softmax(s[b][i], 0)[seq[b][i + 1].item<std::int64_t>()].item<double>();
        }
    kl /= 24;  // the mean over target tokens, not the sum over the sequence
    ce /= 24;
    EXPECT_NEAR(out.kl.item<double>(), kl, 1e-5);
    EXPECT_NEAR(out.lm.ce.item<double>(), ce, 1e-5);
    EXPECT_NEAR(out.lm.loss.item<double>(), alpha * T * T * kl + (1 - alpha) * ce, 1e-5);
    // alpha 0 is plain training (the model's own loss, aux included when training).
    student->train();
    auto plain = distillation_loss(student, teacher, seq, 0.0, T);
    EXPECT_NEAR(plain.lm.loss.item<double>(), student->loss(seq).loss.item<double>(), 1e-5);
}

TEST(Trainer, StartsFromACheckpointAndDistilsFromATeacher) {
    Fixture f;
    auto s = f.settings();
    const auto first = f.new_run(s);
    const auto trained = train_stored_run(*f.store, first, s, f.data);
    ASSERT_EQ(trained.status, RunStatus::Finished);

    // A fine-tune starts where the checkpoint ended: its step-0 evaluation is the same.
    auto tune = s;
    tune.init_from = trained.latest_checkpoint.string();
    tune.steps = 2;
    const auto tuned = f.new_run(tune);
    ASSERT_EQ(train_stored_run(*f.store, tuned, tune, f.data).status, RunStatus::Finished);
    EXPECT_NEAR(f.values(tuned, "val_loss").front(), f.values(first, "val_loss").back(), 1e-6);
    auto other = tune;
    other.model.expert_size = 64;
    EXPECT_NE(error_of([&] {
                  train_stored_run(*f.store, f.new_run(other), other, f.data);
              }).find("its model config differs"),
              std::string::npos);

    // A student distilled from that teacher trains, records its KL, and
    // reports the plain CE as its loss.
    auto student = s;
    student.teacher = trained.latest_checkpoint.string();
    student.distill_alpha = 0.5;
    student.seed = 12;
    const auto id = f.new_run(student);
    const auto r = train_stored_run(*f.store, id, student, f.data);
    ASSERT_EQ(r.status, RunStatus::Finished) << r.message;
    const auto kl = f.values(id, "distill_kl");
    ASSERT_EQ(kl.size(), 12u);
    for (double v : kl) EXPECT_GT(v, 0);
    EXPECT_EQ(f.values(id, "train_loss").size(), 12u);
    EXPECT_EQ(TrainSettings::from_json(student.to_json()).teacher, student.teacher);

    // A teacher without the run's tokenizer is refused by name.
    const auto bare = f.dir.path() / "bare-teacher.safetensors";
    {
        auto loaded = load_checkpoint(trained.latest_checkpoint);
        save_checkpoint(loaded.model, no_tokenizer_metadata(s.model.vocab_size), bare);
    }
    auto wrong = student;
    wrong.teacher = bare.string();
    const auto e = error_of([&] { train_stored_run(*f.store, f.new_run(wrong), wrong, f.data); });
    EXPECT_NE(e.find("does not use the run's tokenizer"), std::string::npos) << e;
}

TEST(Trainer, NamesUnusableDataAndSettings) {
    Fixture f;
    auto s = f.settings();
    s.seq_len = 1 << 20;
    auto id = f.new_run(s);
    EXPECT_NE(error_of([&] {
                  train_stored_run(*f.store, id, s, f.data);
              }).find("one training sequence needs seq_len + 1 = 1048577"),
              std::string::npos);
    s = f.settings();
    s.model.vocab_size = 1000;
    EXPECT_NE(error_of([&] { train_stored_run(*f.store, id, s, f.data); }).find("tokenizer has"),
              std::string::npos);
    s = f.settings();
    s.grad_accum = 0;
    EXPECT_NE(error_of([&] { train_stored_run(*f.store, id, s, f.data); }).find("grad_accum"),
              std::string::npos);
}

// A time budget re-plans its step count as the pace changes; each new plan must
// bend the rest of the cosine, never move it: the stored learning rate has no
// jump larger than one step of the schedule, across re-plans and a resume.
TEST(Trainer, ATimeBudgetsLearningRateStaysSmoothThroughRePlansAndAResume) {
    Fixture f;
    auto s = f.settings();
    s.steps = 0;
    s.minutes = 0.12;  // 7.2 s
    s.batch_size = 1;
    s.seq_len = 8;
    s.eval_tokens = 256;
    s.eval_every = 20;
    s.checkpoint_every = 100000;
    s.warmup_steps = 10;
    const auto id = f.new_run(s);
    TrainControl control;
    std::int64_t planned_at = -1;
    int replans = 0;
    auto first = train_stored_run(*f.store, id, s, f.data, &control, [&](const TrainProgress& p) {
        if (p.kind == TrainProgress::Kind::Planned) {
            if (planned_at >= 0) ++replans;
            planned_at = planned_at < 0 ? p.step : planned_at;
        }
        if (p.kind == TrainProgress::Kind::Step && planned_at >= 0 && p.step == planned_at + 30)
            control.stop();
    });
    if (planned_at < 0) GTEST_SKIP() << "this build took fewer than 12 steps in 7 s";
    if (first.status != RunStatus::Stopped)  // a loaded machine planned too few steps to stop in
        GTEST_SKIP() << "the run ended at step " << first.steps << ", before the stop at step "
                     << planned_at + 30 << " (" << first.message << ")";

    // Resumed on a machine half as fast: each step also sleeps as long as it took, so the
    // next evaluation (every 20 steps) re-plans.
    using Clock = std::chrono::steady_clock;
    auto since = Clock::now();
    auto second = train_stored_run(*f.store, id, s, f.data, nullptr, [&](const TrainProgress& p) {
        if (p.kind == TrainProgress::Kind::Planned) ++replans;
        if (p.kind != TrainProgress::Kind::Step) return;
        std::this_thread::sleep_for(
            std::min<Clock::duration>(Clock::now() - since, std::chrono::milliseconds(50)));
        since = Clock::now();
    });
    EXPECT_EQ(second.status, RunStatus::Finished) << second.message;
    if (replans == 0)  // the budget ended before the first evaluation after the resume
        GTEST_SKIP() << "no re-plan happened within the budget on this machine";

    const auto stored = TrainSettings::from_json(f.store->run(id).config_json);
    const auto lr = f.values(id, "lr");
    ASSERT_EQ(static_cast<std::int64_t>(lr.size()), second.steps);  // one point per step
    const double peak = s.adam.lr, floor = peak * s.min_lr_ratio;
    // The steepest step of a warm-up, and of a cosine over the final plan. A plan
    // shortened by a pace half as fast is at most twice as steep (1 + progress).
    const double warm = peak / static_cast<double>(s.warmup_steps + 1);
    const double cosine =
        2 * (peak - floor) * (M_PI / 2) / static_cast<double>(stored.steps - s.warmup_steps);
    const double bound = std::max(warm, cosine) * 1.001;
    for (std::size_t i = 1; i < lr.size(); ++i)
        ASSERT_LE(std::abs(lr[i] - lr[i - 1]), bound)
            << "at step " << i << " of " << lr.size() << " (plan " << stored.steps << ")";
    // Ended on its plan, the schedule is complete; ended on the deadline, it was close.
    if (second.steps == stored.steps) {
        EXPECT_LE(lr.back(), floor + 0.02 * (peak - floor));
    }
}

TEST(Trainer, TrainsWithoutADatabaseThroughARecorderThatWritesNothing) {
    Fixture f;
    auto s = f.settings();
    s.steps = 6;
    NullRecorder recorder;
    const auto folder = f.dir.path() / "no-store-run";
    fs::create_directories(folder);
    const auto r = train_run({7, folder, &recorder}, s, f.data);
    EXPECT_EQ(r.status, RunStatus::Finished);
    EXPECT_EQ(r.steps, 6);
    EXPECT_TRUE(fs::exists(r.latest_checkpoint));
    EXPECT_EQ(SafetensorsFile::read(r.latest_checkpoint).meta("run_id"), "7");
    EXPECT_TRUE(f.store->list_runs().empty());  // nothing reached the store
}

TEST(Trainer, ARunResumedBeforeItsFirstCheckpointStoresEachStepOnce) {
    Fixture f;
    auto s = f.settings();
    s.steps = 6;
    s.checkpoint_every = 100;  // the only checkpoint is the last one
    const auto id = f.new_run(s);
    // What a killed first attempt left: metrics of steps 0..4, no checkpoint.
    std::vector<MetricPoint> stale = {{0, 0, 0, "val_loss", 99}};
    for (std::int64_t step = 1; step <= 4; ++step)
        stale.push_back({step, step * 128, 0.1 * step, "train_loss", 50.0 + step});
    f.store->append_metrics(id, stale);
    const auto r = train_stored_run(*f.store, id, s, f.data);
    ASSERT_EQ(r.status, RunStatus::Finished);
    const auto loss = f.store->metrics(id, "train_loss");
    ASSERT_EQ(loss.size(), 6u);
    for (std::size_t i = 0; i < loss.size(); ++i) {
        EXPECT_EQ(loss[i].step, static_cast<std::int64_t>(i) + 1);
        EXPECT_LT(loss[i].value, 50) << "a stale row survived at step " << loss[i].step;
    }
    const auto val = f.store->metrics(id, "val_loss");
    ASSERT_FALSE(val.empty());
    EXPECT_EQ(val.front().step, 0);
    EXPECT_NE(val.front().value, 99);  // recomputed, stored once
    EXPECT_EQ(std::count_if(val.begin(), val.end(), [](const auto& p) { return p.step == 0; }), 1);
}

}  // namespace
}  // namespace itera
