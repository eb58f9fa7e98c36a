// The runs table and its filter over a real run store; typed settings.

#include <gtest/gtest.h>

#include <QLocale>
#include <QSettings>

#include "app_settings.h"
#include "run_details.h"
#include "run_filter_model.h"
#include "run_groups.h"
#include "run_table_model.h"
#include "temp_dir.h"

using namespace itera;
using namespace itera::ui;

namespace {

std::int64_t addRun(RunStore& store, const std::string& name, const std::string& preset,
                    RunStatus status, double val_loss) {
    NewRun r;
    r.name = name;
    r.preset = preset;
    r.config_json = "{}";
    r.dataset = R"({"corpus":"moby-dick"})";
    const auto id = store.create_run(r);
    store.start_run(id);
    store.append_metrics(id, {{10, 1280, 2.5, "train_loss", val_loss - 0.5},
                              {10, 1280, 2.5, "val_loss", val_loss},
                              {10, 1280, 2.5, "val_perplexity", std::exp(val_loss)}});
    store.set_status(id, status, status == RunStatus::Failed ? "diverged" : "");
    return id;
}

QStringList names(std::initializer_list<const char*> list) {
    QStringList out;
    for (const char* s : list) out << QString::fromUtf8(s);
    return out;
}

QStringList column(const QAbstractItemModel& m, int c) {
    QStringList out;
    for (int r = 0; r < m.rowCount(); ++r) out << m.index(r, c).data().toString();
    return out;
}

}  // namespace

TEST(RunModels, TableShowsRunsAndFilterMatchesEveryWord) {
    itera::testing::TempDir dir;
    RunStore store(dir.path() / "runs.sqlite");
    const auto a = addRun(store, "baseline", "quality", RunStatus::Finished, 4.9);
    const auto b = addRun(store, "wide lr", "quality", RunStatus::Failed, 10.5);
    addRun(store, "tiny", "micro", RunStatus::Stopped, 6.25);
    store.add_tag(a, "keep");

    RunTableModel model;
    model.setRuns(readRunSummaries(store));
    ASSERT_EQ(model.rowCount(), 3);
    EXPECT_EQ(model.index(0, RunTableModel::Name).data().toString(), QStringLiteral("baseline"));
    EXPECT_EQ(model.index(0, RunTableModel::Status).data().toString(), QStringLiteral("finished"));
    EXPECT_EQ(model.index(0, RunTableModel::Dataset).data().toString(),
              QStringLiteral("moby-dick"));
    EXPECT_EQ(model.index(0, RunTableModel::Tags).data().toString(), QStringLiteral("keep"));
    EXPECT_EQ(model.index(0, RunTableModel::ValLoss).data().toString(),
              QLocale().toString(4.9, 'f', 4));
    EXPECT_EQ(model.index(1, RunTableModel::Status).data(Qt::ToolTipRole).toString(),
              QStringLiteral("diverged"));
    EXPECT_FALSE(model.index(1, RunTableModel::Status).data(Qt::DecorationRole).isNull());

    RunFilterModel proxy;
    proxy.setSourceModel(&model);
    proxy.setFilterWords(QStringLiteral("quality"));
    EXPECT_EQ(column(proxy, RunTableModel::Name), (names({"baseline", "wide lr"})));
    proxy.setFilterWords(QStringLiteral("QUALITY failed"));  // every word, any case
    EXPECT_EQ(column(proxy, RunTableModel::Name), (names({"wide lr"})));
    proxy.setFilterWords(QStringLiteral("keep"));  // tags
    EXPECT_EQ(column(proxy, RunTableModel::Name), (names({"baseline"})));
    proxy.setFilterWords(QStringLiteral("moby stopped"));
    EXPECT_EQ(column(proxy, RunTableModel::Name), (names({"tiny"})));
    proxy.setFilterWords(QString());
    EXPECT_EQ(proxy.rowCount(), 3);

    // Numbers sort as numbers (10.5 after 6.25, which text order would not give).
    proxy.sort(RunTableModel::ValLoss, Qt::AscendingOrder);
    EXPECT_EQ(column(proxy, RunTableModel::Name), (names({"baseline", "tiny", "wide lr"})));

    // Updates keep rows in place; a deleted run's row goes.
    store.append_metrics(a, {{20, 2560, 5.0, "val_loss", 4.5}});
    store.delete_run(b);
    model.setRuns(readRunSummaries(store));
    ASSERT_EQ(model.rowCount(), 2);
    EXPECT_EQ(model.rowOf(a), 0);
    EXPECT_EQ(model.index(0, RunTableModel::ValLoss).data().toString(),
              QLocale().toString(4.5, 'f', 4));
    // The best column keeps the lowest validation loss, not the latest.
    store.append_metrics(a, {{30, 3840, 7.5, "val_loss", 4.75}});
    model.setRuns(readRunSummaries(store));
    EXPECT_EQ(model.index(0, RunTableModel::ValLoss).data().toString(),
              QLocale().toString(4.75, 'f', 4));
    EXPECT_EQ(model.index(0, RunTableModel::BestValLoss).data().toString(),
              QLocale().toString(4.5, 'f', 4));
    EXPECT_EQ(model.rowOf(b), -1);
}

TEST(Settings, RoundTrip) {
    settings::threads.set(3);
    settings::plotSmoothing.set(0.25);
    settings::databasePath.set(QStringLiteral("/tmp/x.sqlite"));
    QSettings().sync();
    EXPECT_EQ(settings::threads.value(), 3);
    EXPECT_DOUBLE_EQ(settings::plotSmoothing.value(), 0.25);
    EXPECT_EQ(settings::databasePath.value(), QStringLiteral("/tmp/x.sqlite"));
    QSettings().clear();
    EXPECT_EQ(settings::threads.value(), 0);  // the default again
    EXPECT_TRUE(settings::databasePath.value().isEmpty());
}

TEST(RunModels, SettingsDiffListsOnlyTheKeysInWhichRunsDiffer) {
    RunRecord a, b;
    a.config_json = R"({"lr": 0.002, "model": {"hidden_size": 128, "num_layers": 4}, "seed": 1})";
    b.config_json = R"({"lr": 0.001, "model": {"hidden_size": 128, "num_layers": 6}})";
    a.dataset = b.dataset = R"({"corpus": "moby-dick", "vocab_size": 4096})";
    a.config_json.insert(1, R"("preset": "quality", )");
    b.config_json.insert(1, R"("preset": "mini", )");  // the same preset by its new name
    const auto diffs = settingDifferences({a, b});
    ASSERT_EQ(diffs.size(), 3u);
    EXPECT_EQ(diffs[0].key, QStringLiteral("lr"));
    EXPECT_EQ(diffs[0].values, (QStringList{QStringLiteral("0.002"), QStringLiteral("0.001")}));
    EXPECT_EQ(diffs[1].key, QStringLiteral("model/num_layers"));
    EXPECT_EQ(diffs[1].values, (QStringList{QStringLiteral("4"), QStringLiteral("6")}));
    EXPECT_EQ(diffs[2].key, QStringLiteral("seed"));
    EXPECT_EQ(diffs[2].values, (QStringList{QStringLiteral("1"), QString()}));
    EXPECT_TRUE(settingDifferences({a, a}).empty());
}

TEST(RunGroups, SeedsOfOneSettingFormAGroupWithMeanAndSampleStd) {
    auto summary = [](qint64 id, const std::string& config, double bpb) {
        RunSummary s;
        s.record.id = id;
        s.record.name = "run " + std::to_string(id);
        s.record.config_json = config;
        s.record.dataset = R"({"corpus":"moby-dick"})";
        s.best["val_bits_per_byte"] = bpb;
        return s;
    };
    const std::vector<RunSummary> runs = {
        summary(1, R"({"lr":0.002,"seed":0,"model":{"dropout":0.1}})", 2.0),
        summary(2, R"({"lr":0.002,"seed":1,"model":{"dropout":0.1}})", 2.2),
        summary(3, R"({"lr":0.004,"seed":0,"model":{"dropout":0.1}})", 2.5),
        summary(4, R"({"lr":0.002,"seed":2,"model":{"dropout":0.1}})", 2.4),
    };
    const auto seeds = groupRuns(runs, RunGrouping::AllButSeed);
    ASSERT_EQ(seeds.size(), 2u);
    EXPECT_EQ(seeds[0].ids, (std::vector<qint64>{1, 2, 4}));
    EXPECT_EQ(seeds[0].bestBitsPerByte.count, 3);
    // mean 2.2; sample variance ((0.2)² + 0 + (0.2)²) / 2 = 0.04
    EXPECT_NEAR(seeds[0].bestBitsPerByte.mean, 2.2, 1e-12);
    EXPECT_NEAR(seeds[0].bestBitsPerByte.stddev, 0.2, 1e-12);
    EXPECT_EQ(seeds[0].bestValLoss.count, 0);
    EXPECT_TRUE(seeds[0].label.startsWith(QStringLiteral("3 seeds of")));
    EXPECT_EQ(statText(seeds[1].bestBitsPerByte), QStringLiteral("2.5000 (1)"));
    const auto byLr = groupRuns(runs, RunGrouping::LearningRate);
    ASSERT_EQ(byLr.size(), 2u);
    EXPECT_EQ(byLr[1].ids, (std::vector<qint64>{3}));
    EXPECT_EQ(groupRuns(runs, RunGrouping::Dropout).size(), 1u);
}
