// The Sweeps page over a real run store: only the varied parameters as
// columns, brushing an axis of the parallel coordinates filters the table,
// and "sweep around this run" makes a spec the sweep accepts.

#include <gtest/gtest.h>

#include <QTableView>

#include <nlohmann/json.hpp>

#include "parallel_coordinates.h"
#include "sweep/sweep_spec.h"
#include "sweeps_page.h"
#include "temp_dir.h"
#include "train/train_settings.h"

using namespace itera;
using namespace itera::ui;

namespace {

// A sweep of 4 trials over lr (log range) and dropout (list), each trial a
// run with a validation curve whose best value is `best[i]`.
std::int64_t addSweep(RunStore& store, const std::vector<double>& best) {
    const std::string spec = R"({"name": "lr and dropout",
        "base": {"preset": "micro", "steps": 100},
        "parameters": {"lr": {"range": [0.0001, 0.01], "scale": "log"},
                       "dropout": {"values": [0, 0.1]}},
        "configurations": 4})";
    const auto id = store.create_sweep("lr and dropout", SweepSpec::from_json(spec).to_json());
    for (std::size_t i = 0; i < best.size(); ++i) {
        TrainSettings s;
        s.steps = 100;
        s.model = ModelConfig::preset("micro", 256);
        NewRun r;
        r.name = "trial " + std::to_string(i + 1);
        r.config_json = s.to_json();
        r.dataset = R"({"corpus": "moby-dick"})";
        const auto run = store.create_run(r);
        store.append_metrics(run, {{50, 100, 1, "val_bits_per_byte", best[i] + 0.5},
                                   {100, 200, 2, "val_bits_per_byte", best[i]},
                                   {100, 200, 2, "train_loss", 1.0}});
        store.set_status(run, RunStatus::Finished);
        TrialRecord t;
        t.sweep_id = id;
        t.trial = static_cast<std::int64_t>(i);
        t.run_id = run;
        t.params = nlohmann::json{
            {"lr", 0.0001 * std::pow(10.0, static_cast<double>(i) * 2 / 3)},
            {"model.dropout", i % 2 ? 0.1 : 0.0},
            {"seed",
             0}}.dump();
        t.status = "completed";
        t.target_step = 100;
        store.put_trial(t);
    }
    store.set_sweep_status(id, "finished");
    return id;
}

}  // namespace

TEST(SweepsPage, ShowsTheVariedParametersAndBrushingFiltersTheTrials) {
    itera::testing::TempDir dir;
    RunStore store(dir.path() / "runs.sqlite");
    const auto id = addSweep(store, {2.4, 2.1, 2.3, 2.2});
    SweepsPage page(Workspace::at(dir.path()), &store);
    page.showSweep(id);
    auto* model = page.table()->model();
    ASSERT_EQ(model->rowCount(), 4);
    QStringList headers;
    for (int c = 0; c < model->columnCount(); ++c)
        headers << model->headerData(c, Qt::Horizontal).toString();
    EXPECT_EQ(headers,
              (QStringList{QStringLiteral("Trial"), QStringLiteral("Run"), QStringLiteral("lr"),
                           QStringLiteral("dropout"), QStringLiteral("val_bits_per_byte"),
                           QStringLiteral("Best step"), QStringLiteral("Steps"),
                           QStringLiteral("Status"), QStringLiteral("Why")}));
    EXPECT_TRUE(page.statusText().contains(QStringLiteral("best: trial 2")));
    // The objective axis is the last; its lower half holds the better trials
    // (2.1 and 2.2 of the range 2.1 .. 2.4).
    auto* pc = page.parallel();
    ASSERT_EQ(pc->axisCount(), 3);
    pc->setBrush(2, 0.0, 0.5);
    EXPECT_EQ(page.visibleTrials(), 2);
    // Parameters keep the spec's order: lr, then dropout. A second brush on
    // dropout = 0.1 (the top of its axis) keeps both: they are trials 2 and 4.
    pc->setBrush(1, 0.9, 1.0);
    EXPECT_EQ(page.visibleTrials(), 2);
    pc->setBrush(1, 0.0, 0.1);  // dropout 0: neither of them
    EXPECT_EQ(page.visibleTrials(), 0);
    pc->setBrush(1, 0.5, 0.5);
    pc->setBrush(2, 0.5, 0.5);
    EXPECT_EQ(page.visibleTrials(), 4);
    // The brushes survive a refresh (the page polls while a sweep runs).
    pc->setBrush(2, 0.0, 0.5);
    page.refresh();
    EXPECT_EQ(page.visibleTrials(), 2);
}

TEST(SweepsPage, SweepAroundARunMakesAValidSpecFromItsSettings) {
    itera::testing::TempDir dir;
    RunStore store(dir.path() / "runs.sqlite");
    TrainSettings s;
    s.steps = 800;
    s.adam.lr = 0.003;
    s.model = ModelConfig::preset("micro", 256);
    NewRun r;
    r.name = "base";
    r.config_json = s.to_json();
    r.dataset = R"({"corpus": "moby-dick", "tokenizer": "byte"})";
    const auto run = store.create_run(r);
    const auto spec = SweepSpec::from_json(SweepsPage::specAroundRun(store, run, 16, true));
    EXPECT_EQ(spec.trial_count(), 16);
    EXPECT_EQ(spec.rungs, (std::vector<std::int64_t>{100, 200}));
    ASSERT_EQ(spec.parameters.size(), 3u);
    for (const auto& p : spec.parameters)
        if (p.name == "lr") {
            EXPECT_NEAR(p.lo, 0.001, 1e-12);
            EXPECT_NEAR(p.hi, 0.009, 1e-12);
        }
    EXPECT_EQ(spec.base["data"]["tokenizer"], "byte");
}
