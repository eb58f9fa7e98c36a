// The report preview, offscreen: the core's Markdown rendered with its charts,
// the kinds offered for the selected runs, export to .md + PNG files (read
// back with Qt's own PNG decoder), and a bad destination named.

#include <gtest/gtest.h>

#include <QComboBox>
#include <QImage>
#include <QTextBrowser>
#include <QTextDocument>
#include <QUrl>

#include <cmath>

#include "main_window.h"
#include "report_dialog.h"
#include "runs_dock.h"
#include "store/run_store.h"
#include "temp_dir.h"

using namespace itera;
using namespace itera::ui;
namespace fs = std::filesystem;

namespace {

std::int64_t storedRun(RunStore& store, const std::string& name, double scale) {
    NewRun r;
    r.name = name;
    r.config_json = R"({"batch_size": 4, "seq_len": 32, "lr": 0.002})";
    r.preset = "micro";
    const auto id = store.create_run(r);
    std::vector<MetricPoint> points;
    for (int step = 1; step <= 30; ++step) {
        const double loss = 1 + scale * 4 * std::exp(-step / 10.0);
        points.push_back({step, step * 128, step * 0.1, "train_loss", loss});
        points.push_back({step, step * 128, step * 0.1, "lr", 0.002});
        if (step % 10 == 0) {
            points.push_back({step, step * 128, step * 0.1, "val_loss", loss + 0.1});
            points.push_back(
                {step, step * 128, step * 0.1, "val_perplexity", std::exp(loss + 0.1)});
        }
    }
    store.append_metrics(id, points);
    store.set_status(id, RunStatus::Finished);
    return id;
}

struct Reports {
    itera::testing::TempDir dir;
    fs::path db = dir.path() / "runs.sqlite";
    std::int64_t a = 0, b = 0;
    Reports() {
        RunStore store(db);
        a = storedRun(store, "first", 1.0);
        b = storedRun(store, "second", 1.5);
        CompressionRecord c;
        c.run_id = a;
        c.source_path = (store.run_dir(a) / "best.safetensors").string();
        c.method = "int8";
        c.path = (dir.path() / "a-int8.safetensors").string();
        c.bytes = 1000;
        c.report = CompressionReport::from_json(
            R"({"ratio": 3.6, "bpw": 8.2, "delta_ppl_pct": 0.2, "perplexity": 5.0})");
        store.add_compression(c);
    }
};

}  // namespace

TEST(ReportDialog, PreviewsEachKindWithItsChartsAndExportsThem) {
    Reports r;
    RunStore store(r.db);
    ReportDialog d(store, {r.a, r.b});
    // A comparison, each run's training report, the compressions of run a.
    ASSERT_EQ(d.kind()->count(), 4);
    auto* doc = d.preview()->document();
    EXPECT_TRUE(d.preview()->toPlainText().contains(QStringLiteral("Comparison of runs")));
    const auto chart =
        doc->resource(QTextDocument::ImageResource, QUrl(QStringLiteral("report-val-loss.png")))
            .value<QImage>();
    EXPECT_EQ(chart.width(), 800);

    d.kind()->setCurrentIndex(1);
    EXPECT_TRUE(d.preview()->toPlainText().contains(QStringLiteral("Training report: run")));
    EXPECT_FALSE(
        doc->resource(QTextDocument::ImageResource, QUrl(QStringLiteral("report-loss.png")))
            .value<QImage>()
            .isNull());
    d.kind()->setCurrentIndex(3);
    EXPECT_TRUE(d.preview()->toPlainText().contains(QStringLiteral("Compression report")))
        << d.preview()->toPlainText().left(300).toStdString();

    d.kind()->setCurrentIndex(1);
    const auto out = r.dir.path() / "export" / "run-a.md";
    fs::create_directories(out.parent_path());
    EXPECT_TRUE(d.exportTo(QString::fromStdString(out.string())).isEmpty());
    EXPECT_TRUE(fs::exists(out));
    for (const char* name : {"run-a-loss.png", "run-a-perplexity.png", "run-a-lr.png"}) {
        QImage png(QString::fromStdString((out.parent_path() / name).string()));
        EXPECT_FALSE(png.isNull()) << name << " is not a PNG Qt can read";
        EXPECT_EQ(png.width(), 800);
    }
    // A folder that does not exist is named; nothing is written.
    const auto error =
        d.exportTo(QString::fromStdString((r.dir.path() / "nowhere" / "x").string()));
    EXPECT_TRUE(error.contains(QStringLiteral("does not exist"))) << error.toStdString();
}

TEST(ReportDialog, OpensFromTheMainWindowForTheSelectedRun) {
    Reports r;
    MainWindow w(Workspace::standard().with_db(r.db));
    w.setAskBeforeClosing(false);
    w.runsDock()->selectRun(r.b);
    auto* dialog = w.showReport();
    ASSERT_NE(dialog, nullptr);
    EXPECT_EQ(dialog->kind()->count(), 1);  // run b: its training report; it has no compressions
    EXPECT_TRUE(dialog->preview()->toPlainText().contains(QStringLiteral("second")));
    dialog->close();
}
