// The workbench as a user drives it, offscreen: a micro run launched from the
// new-run dialog on a tiny generated corpus, its metrics arriving in the
// charts, pause / continue / stop, closing while training, bad input.

#include <gtest/gtest.h>

#include <cmath>

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QHelpEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QTest>
#include <QToolTip>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "chart_panel.h"
#include "compress/compress.h"
#include "compression_page.h"
#include "elided_label.h"
#include "kl_strip.h"
#include "main_window.h"
#include "metric_chart.h"
#include "new_run_dialog.h"
#include "playground_page.h"
#include "qcustomplot_include.h"
#include "run_filter_model.h"
#include "run_table_model.h"
#include "runs_dock.h"
#include "temp_dir.h"
#include "training_controller.h"
#include "workbench_fixture.h"

using namespace itera;
using namespace itera::ui;
namespace fs = std::filesystem;

namespace {

using itera::testing::Workbench;

}  // namespace

// Notes typed for a run are saved when another run is selected and when the
// window closes, never lost.
TEST(Workbench, SavesUnsavedNotesOnSelectingAnotherRunAndOnQuitting) {
    Workbench wb;
    qint64 a = 0, b = 0;
    {
        RunStore store(wb.db);
        NewRun r;
        r.config_json = "{}";
        r.name = "first";
        a = store.create_run(r);
        r.name = "second";
        b = store.create_run(r);
    }
    auto w = std::make_unique<MainWindow>(Workspace::standard().with_db(wb.db));
    w->setAskBeforeClosing(false);
    auto* notes = w->findChild<QPlainTextEdit*>(QStringLiteral("notes"));
    ASSERT_NE(notes, nullptr);
    w->runsDock()->selectRun(a);
    notes->setPlainText(QStringLiteral("learning rate too high"));
    w->runsDock()->selectRun(b);  // before the autosave's second has passed
    EXPECT_EQ(RunStore(wb.db).run(a).notes, "learning rate too high");
    EXPECT_TRUE(notes->toPlainText().isEmpty());  // the second run's own (none)
    notes->setPlainText(QStringLiteral("a baseline"));
    w->close();
    EXPECT_EQ(RunStore(wb.db).run(b).notes, "a baseline");
    EXPECT_EQ(RunStore(wb.db).run(a).notes, "learning rate too high");
    w.reset();
}

// The window fits a small laptop screen on every page, and a long progress text
// (a compression's phase, a run's status) never widens it.
TEST(Workbench, FitsA1024By700ScreenOnEveryPageWhateverItsStatusSays) {
    Workbench wb;
    MainWindow w(Workspace::standard().with_db(wb.db));
    w.setAskBeforeClosing(false);
    w.resize(1024, 700);
    w.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&w));
    auto* pages = w.findChild<QTabWidget*>(QStringLiteral("pages"));
    ASSERT_NE(pages, nullptr);
    const QString longText(600, QLatin1Char('x'));
    for (int i = 0; i < pages->count(); ++i) {
        pages->setCurrentIndex(i);
        QApplication::processEvents();
        EXPECT_LE(w.minimumSizeHint().width(), 1024) << "page " << i;
        EXPECT_LE(w.minimumSizeHint().height(), 700) << "page " << i;
        EXPECT_EQ(w.size(), QSize(1024, 700)) << "page " << i;
    }
    // The longest texts the status bar and the compression phase show.
    for (auto* label : w.findChildren<ElidedLabel*>()) label->setText(longText);
    QApplication::processEvents();
    EXPECT_LE(w.minimumSizeHint().width(), 1024);
    EXPECT_EQ(w.size(), QSize(1024, 700));
}

// A chart saves what it shows (PNG, SVG) and its data (every point, as CSV).
TEST(MetricChart, SavesItsImageAndItsData) {
    itera::testing::TempDir dir;
    std::vector<RunCurves> runs(1);
    runs[0].id = 1;
    runs[0].name = QStringLiteral("run \"one\" %2");
    std::vector<MetricPoint> points;
    for (int i = 1; i <= 50; ++i)
        points.push_back({i, i * 128, i * 0.5, "train_loss", 5.0 / std::sqrt(i)});
    runs[0].add(points);
    MetricChart chart(QStringLiteral("Loss"), {QStringLiteral("train_loss")});
    chart.resize(400, 300);
    chart.rebuild(runs, ChartView{});
    chart.replot();
    const auto png = QString::fromStdString((dir.path() / "loss.png").string());
    const auto svg = QString::fromStdString((dir.path() / "loss.svg").string());
    EXPECT_TRUE(chart.saveImage(png).isEmpty());
    EXPECT_TRUE(chart.saveImage(svg).isEmpty());
    std::ifstream pngFile(png.toStdString(), std::ios::binary);
    std::string head(8, '\0');
    pngFile.read(head.data(), 8);
    EXPECT_EQ(head, std::string("\x89PNG\r\n\x1a\n", 8));
    std::ifstream svgFile(svg.toStdString());
    const std::string svgText((std::istreambuf_iterator<char>(svgFile)), {});
    EXPECT_NE(svgText.find("<svg"), std::string::npos);
    EXPECT_FALSE(
        chart.saveImage(QString::fromStdString((dir.path() / "loss.txt").string())).isEmpty());
    const auto lines = chart.csv().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    ASSERT_EQ(lines.size(), 51);  // the header and every point
    EXPECT_EQ(lines[0], QStringLiteral("series,step,tokens,wall_s,value"));
    EXPECT_EQ(lines[1], QStringLiteral("\"train loss\",1,128,0.5,5"));
}

TEST(Workbench, ADialogRunTrainsShowsItsCurvesAndEndsFinished) {
    Workbench wb;
    MainWindow w(Workspace::standard().with_db(wb.db));
    w.setAskBeforeClosing(false);
    w.show();
    NewRunDialog d(Workspace::standard(), &w);
    const auto request = wb.request(d, 30);

    QSignalSpy started(w.training(), &TrainingController::runStarted);
    QSignalSpy ended(w.training(), &TrainingController::runEnded);
    QSignalSpy progressed(w.training(), &TrainingController::progressed);
    w.startRun(request);
    ASSERT_TRUE(ended.count() > 0 || ended.wait(180'000));
    ASSERT_EQ(started.count(), 1);
    const auto id = started.at(0).at(0).toLongLong();
    EXPECT_EQ(static_cast<RunStatus>(ended.at(0).at(1).toInt()), RunStatus::Finished)
        << ended.at(0).at(2).toString().toStdString();

    // Metrics arrived in batches while it trained, and the charts hold every point.
    std::size_t streamed = 0;
    for (const auto& args : progressed) streamed += args.at(0).value<ProgressBatch>().points.size();
    EXPECT_GT(streamed, 30u);
    EXPECT_LT(progressed.count(), 30 * 22);  // batched, not a signal per point
    const auto* curves = w.charts()->curves(id);
    ASSERT_NE(curves, nullptr);
    EXPECT_EQ(curves->metrics.at(QStringLiteral("train_loss")).value.size(), 30);
    EXPECT_EQ(curves->metrics.at(QStringLiteral("val_loss")).value.size(), 4);  // 0, 10, 20, 30
    EXPECT_GT(curves->expertLayers(), 0);
    w.charts()->replotNow();
    EXPECT_GT(w.charts()->charts().front()->drawnPoints(), 30);

    // The browser shows it finished, with its figures; the filter finds it.
    auto* model = w.runModel();
    const int row = model->rowOf(id);
    ASSERT_GE(row, 0);
    EXPECT_EQ(model->index(row, RunTableModel::Status).data().toString(),
              QStringLiteral("finished"));
    EXPECT_FALSE(model->index(row, RunTableModel::BitsPerByte).data().toString().isEmpty());
    w.runsDock()->filter()->setText(QStringLiteral("micro finished"));
    EXPECT_EQ(w.runsDock()->proxy()->rowCount(), 1);
    w.runsDock()->filter()->setText(QStringLiteral("micro failed"));
    EXPECT_EQ(w.runsDock()->proxy()->rowCount(), 0);
    w.runsDock()->filter()->clear();
    ASSERT_EQ(w.charts()->curves(id), curves);  // filtering the list does not close the run

    // Axis, scale and smoothing change what is drawn, not the data.
    w.charts()->setXAxis(XAxis::Tokens);
    w.charts()->setLogScale(true);
    w.charts()->setSmoothing(0.9);
    w.charts()->replotNow();
    EXPECT_EQ(curves->metrics.at(QStringLiteral("train_loss")).value.size(), 30);
    EXPECT_EQ(w.charts()->charts().front()->xAxis->label(), QStringLiteral("tokens seen"));
}

TEST(Workbench, PausesContinuesStopsAndStopsOnClose) {
    Workbench wb;
    RunStore store(wb.db);  // this thread's own connection, to watch the status
    MainWindow w(Workspace::standard().with_db(wb.db));
    w.setAskBeforeClosing(false);
    NewRunDialog d(Workspace::standard(), &w);
    auto request = wb.request(d, 100'000);
    request.settings.eval_every = 1'000;
    QSignalSpy started(w.training(), &TrainingController::runStarted);
    QSignalSpy ended(w.training(), &TrainingController::runEnded);
    w.startRun(request);
    ASSERT_TRUE(started.wait(120'000));
    const auto id = started.at(0).at(0).toLongLong();
    auto step = [&] {
        const auto latest = store.latest_metrics(id);
        const auto it = latest.find("train_loss");
        return it == latest.end() ? std::int64_t{0} : it->second.step;
    };
    ASSERT_TRUE(QTest::qWaitFor([&] { return step() >= 3; }, 60'000));

    w.training()->pause();
    ASSERT_TRUE(QTest::qWaitFor([&] { return store.run(id).status == RunStatus::Paused; }, 30'000));
    const auto paused_at = step();  // the trainer flushed every step before it paused
    EXPECT_FALSE(QTest::qWaitFor([&] { return step() != paused_at; }, 600));

    w.training()->resume();
    ASSERT_TRUE(QTest::qWaitFor([&] { return step() > paused_at; }, 30'000));
    EXPECT_EQ(store.run(id).status, RunStatus::Running);

    w.training()->stop();
    ASSERT_TRUE(ended.count() > 0 || ended.wait(60'000));
    EXPECT_EQ(store.run(id).status, RunStatus::Stopped);
    EXPECT_FALSE(store.checkpoints(id).empty());
    EXPECT_TRUE(w.message().contains(QStringLiteral("stopped"))) << w.message().toStdString();

    // Resume it, then close the window while it trains: it stops with a checkpoint.
    const auto steps_before = step();
    w.resumeRun(id);
    ASSERT_TRUE(QTest::qWaitFor([&] { return step() > steps_before + 2; }, 60'000));
    w.close();
    EXPECT_FALSE(w.training()->busy());
    EXPECT_EQ(store.run(id).status, RunStatus::Stopped);
    EXPECT_GT(store.checkpoints(id).back().step, steps_before);
}

TEST(Workbench, NamesABadCorpusAndOffersInterruptedRuns) {
    Workbench wb;
    {
        RunStore store(wb.db);
        NewRun r;
        r.name = "cut short";
        r.config_json = "{}";
        const auto id = store.create_run(r);
        store.set_status(id, RunStatus::Interrupted);
    }
    MainWindow w(Workspace::standard().with_db(wb.db));
    EXPECT_TRUE(w.message().contains(QStringLiteral("interrupted"))) << w.message().toStdString();

    NewRunDialog d(Workspace::standard(), &w);
    auto request = wb.request(d, 10);
    request.data.request.corpus = "/nonexistent/corpus.txt";
    QSignalSpy failed(w.training(), &TrainingController::jobFailed);
    w.startRun(request);
    ASSERT_TRUE(failed.wait(60'000));
    EXPECT_TRUE(failed.at(0).at(0).toString().contains(QStringLiteral("/nonexistent/corpus.txt")))
        << failed.at(0).at(0).toString().toStdString();
    EXPECT_TRUE(w.message().contains(QStringLiteral("/nonexistent/corpus.txt")));
    EXPECT_EQ(w.runModel()->rowCount(), 1);  // nothing recorded for a run that could not start
}

TEST(Workbench, PlaygroundComparesARunsModelWithItsCompressedVersion) {
    Workbench wb;
    MainWindow w(Workspace::standard().with_db(wb.db));
    w.setAskBeforeClosing(false);
    const auto id = wb.trainMicroRun(w, 10);
    ASSERT_GT(id, 0);
    RunStore store(wb.db);
    const auto best = store.run_dir(id) / "best.safetensors";
    ASSERT_TRUE(fs::exists(best));
    CompressOptions f16;
    f16.scheme = Scheme::F16;
    const auto small = wb.dir.path() / "best-f16.safetensors";
    compress_checkpoint(best, f16, small);
    CompressionRecord c;
    c.run_id = id;
    c.source_path = best.string();
    c.method = "f16";
    c.path = small.string();
    store.add_compression(c);

    // Opening the run offers its best model beside its compressed version.
    w.runsDock()->selectRun(id);
    w.showPlayground();
    auto* page = w.playground();
    EXPECT_EQ(page->pane(0)->modelPath(), QString::fromStdString(best.string()));
    EXPECT_EQ(page->pane(1)->modelPath(), QString::fromStdString(small.string()));

    page->findChild<QDoubleSpinBox*>(QStringLiteral("temperature"))->setValue(0);
    page->findChild<QSpinBox*>(QStringLiteral("maxTokens"))->setValue(24);
    page->setPrompt(QStringLiteral("the whale"));
    QSignalSpy generated(page, &PlaygroundPage::generated);
    page->generate();
    ASSERT_TRUE(generated.wait(60'000));
    for (int i = 0; i < 2; ++i) {
        const auto* pane = page->pane(i);
        EXPECT_TRUE(pane->error().isEmpty()) << pane->error().toStdString();
        ASSERT_TRUE(pane->result().has_value());
        EXPECT_FALSE(pane->tokens().empty());
        EXPECT_EQ(pane->tokens().front().top.size(), 5u);  // alternatives for the tooltips
        EXPECT_TRUE(pane->statusText().contains(QStringLiteral("tokens/s")));
    }
    // Greedy decoding of a model and its f16 copy: identical, or marked where they part.
    const auto& a = page->pane(0)->tokens();
    const auto& b = page->pane(1)->tokens();
    std::size_t same = 0;
    while (same < std::min(a.size(), b.size()) && a[same].id == b[same].id) ++same;
    if (same == a.size() && same == b.size())
        EXPECT_TRUE(page->comparisonText().contains(QStringLiteral("identical")));
    else
        EXPECT_TRUE(page->comparisonText().contains(QString::number(same)))
            << page->comparisonText().toStdString();
    // Teacher forcing: B read A's text; one KL per generated token of A.
    QSignalSpy forced(page, &PlaygroundPage::teacherForced);
    ASSERT_TRUE(forced.count() > 0 || forced.wait(60'000));
    EXPECT_EQ(page->teacherForcedKl().size(), a.size()) << page->teacherForcingText().toStdString();
    for (double k : page->teacherForcedKl()) EXPECT_GE(k, 0.0);
    EXPECT_TRUE(page->teacherForcingText().contains(QStringLiteral("mean")));
    const auto saved = store.generations();
    ASSERT_EQ(saved.size(), 2u);
    EXPECT_EQ(saved[0].run_id, id);
    // Both halves of the comparison carry one pair key (reports pair them by it).
    const auto s0 = nlohmann::json::parse(saved[0].settings);
    const auto s1 = nlohmann::json::parse(saved[1].settings);
    EXPECT_FALSE(s0.value("pair", std::string()).empty());
    EXPECT_EQ(s0.value("pair", std::string()), s1.value("pair", std::string()));
    EXPECT_EQ(saved[0].prompt, "the whale");
    // The history lists them; choosing one restores its prompt, settings and model.
    ASSERT_EQ(page->history()->count(), 2);
    page->setPrompt(QStringLiteral("something else"));
    page->findChild<QSpinBox*>(QStringLiteral("maxTokens"))->setValue(7);
    page->pane(0)->setModelPath(QString::fromStdString(small.string()));
    Q_EMIT page->history()->activated(1);
    EXPECT_EQ(page->findChild<QPlainTextEdit*>(QStringLiteral("prompt"))->toPlainText(),
              QStringLiteral("the whale"));
    EXPECT_EQ(page->findChild<QSpinBox*>(QStringLiteral("maxTokens"))->value(), 24);
    EXPECT_EQ(page->pane(0)->modelPath(), QString::fromStdString(saved[1].model_path));

    // A model that cannot be loaded is named in its pane; the other still generates.
    page->pane(1)->setModelPath(QStringLiteral("/nonexistent/model.safetensors"));
    page->generate();
    ASSERT_TRUE(generated.wait(60'000));
    EXPECT_TRUE(page->pane(1)->error().contains(QStringLiteral("/nonexistent/model.safetensors")))
        << page->pane(1)->error().toStdString();
    EXPECT_TRUE(page->pane(0)->result().has_value());
}

// Hovering the KL strip names the token under the pointer and its value, although
// the strip (as in the playground) has a tooltip of its own.
TEST(KlStrip, HoverShowsTheTokenAndItsValueOverTheWidgetsTooltip) {
    KlStrip strip;
    strip.setToolTip(QStringLiteral("KL at each token"));
    strip.setValues({0.01, 0.25, 0.5, 0.125}, {QStringLiteral("The"), QStringLiteral(" whale"),
                                               QStringLiteral("\n"), QStringLiteral(" sea")});
    strip.resize(400, 24);
    strip.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&strip));
    for (const auto& [x, token] : {std::pair{50, "token 0 “The”: KL = 0.01 nats"},
                                   std::pair{150, "token 1 “ whale”: KL = 0.25 nats"},
                                   std::pair{250, "token 2 “⏎”: KL = 0.5 nats"},
                                   std::pair{399, "token 3 “ sea”: KL = 0.125 nats"}}) {
        QHelpEvent help(QEvent::ToolTip, QPoint(x, 10), strip.mapToGlobal(QPoint(x, 10)));
        QApplication::sendEvent(&strip, &help);
        EXPECT_TRUE(QToolTip::isVisible());
        EXPECT_EQ(QToolTip::text(), QString::fromUtf8(token) + QStringLiteral("\nKL at each token"))
            << QToolTip::text().toStdString();
    }
    strip.setValues({}, {});  // no tokens: the widget's own tooltip
    QHelpEvent help(QEvent::ToolTip, QPoint(50, 10), strip.mapToGlobal(QPoint(50, 10)));
    QApplication::sendEvent(&strip, &help);
    EXPECT_EQ(QToolTip::text(), QStringLiteral("KL at each token"));
    QToolTip::hideText();
}

TEST(CompressionPage, ListsMeasuredResultsDrawsTheParetoFrontAndShowsTensors) {
    auto record = [](const char* method, double ratio, double delta, double kld) {
        CompressionRecord r;
        r.method = method;
        r.path = std::string("/nonexistent/") + method + ".safetensors";
        r.bytes = static_cast<std::int64_t>(6.5e6 / ratio);
        nlohmann::json j = {{"ratio", ratio},
                            {"delta_ppl_pct", delta},
                            {"kld", kld},
                            {"top1_agreement", 0.9},
                            {"perplexity", 124.0},
                            {"bpw", 32 / ratio},
                            {"bits_per_byte", 1.96},
                            {"decode_tokens_per_s", 6000.0},
                            {"source_decode_tokens_per_s", 5000.0}};
        j["tensors"] = nlohmann::json::array({{{"name", "embed.weight"},
                                               {"shape", {4096, 128}},
                                               {"scheme", method},
                                               {"source_bytes", 2097152},
                                               {"bytes", 2097152 / ratio},
                                               {"rel_rms", 0.01},
                                               {"sqnr_db", 40.0}},
                                              {{"name", "layers.0.mixer.norm.weight"},
                                               {"shape", {128}},
                                               {"scheme", "f32"},
                                               {"source_bytes", 512},
                                               {"bytes", 512},
                                               {"rel_rms", 0.0},
                                               {"sqnr_db", 0.0}}});
        r.report = CompressionReport::from_json(j.dump());
        return r;
    };
    CompressionPage page(Workspace::standard());
    page.show();
    // f16 and nf4 are on the front; int4 is dominated by nf4 (smaller and better).
    page.showRun(3, {record("f16", 1.95, 0.001, 1e-5), record("int4", 6.08, 2.33, 0.028),
                     record("nf4", 6.41, 1.32, 0.02), CompressionRecord{}});
    EXPECT_EQ(page.rowCount(), 4);  // a record without a report is listed, not plotted
    EXPECT_EQ(page.paretoPoints(), 2);
    EXPECT_EQ(page.tensorRowCount(), 2);  // the first result is selected
    // Clicking a point selects its row, on the Pareto front (under its dashed line) or off it.
    page.resize(1100, 700);
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&page));
    auto* scatter = page.findChild<QCustomPlot*>(QStringLiteral("compressionScatter"));
    scatter->replot();
    auto click = [&](double ratio, double delta) {
        const QPoint at(qRound(scatter->xAxis->coordToPixel(ratio)),
                        qRound(scatter->yAxis->coordToPixel(delta)));
        QTest::mouseClick(scatter, Qt::LeftButton, {}, at);
        return page.selectedRow();
    };
    EXPECT_EQ(click(6.41, 1.32), 2);   // nf4, on the front
    EXPECT_EQ(click(6.08, 2.33), 1);   // int4, off it
    EXPECT_EQ(click(1.95, 0.001), 0);  // f16, on the front
    page.selectRow(3);
    EXPECT_EQ(page.tensorRowCount(), 0);
    EXPECT_EQ(page.layerGroups(), 0);
    page.selectRow(1);
    EXPECT_EQ(page.tensorRowCount(), 2);
    EXPECT_EQ(page.layerGroups(), 2);  // the embedding and layer 0
    page.showRun(0, {});
    EXPECT_EQ(page.rowCount(), 0);
}

TEST(Workbench, CompressesTheOpenRunsModelFromTheInspector) {
    Workbench wb;
    MainWindow w(Workspace::standard().with_db(wb.db));
    w.setAskBeforeClosing(false);
    const auto id = wb.trainMicroRun(w, 10);
    ASSERT_GT(id, 0);
    w.runsDock()->selectRun(id);
    w.showCompressionPage();
    auto* page = w.compression();
    page->findChild<QCheckBox*>(QStringLiteral("method:int8"))->setChecked(false);
    page->findChild<QCheckBox*>(QStringLiteral("method:f16"))->setChecked(true);
    page->findChild<QCheckBox*>(QStringLiteral("method:nf4"))->setChecked(true);
    QSignalSpy done(page, &CompressionPage::compressed);
    page->compressChecked();
    EXPECT_TRUE(page->compressing());
    ASSERT_TRUE(done.wait(itera::testing::workWait(300'000)));
    EXPECT_TRUE(page->jobError().isEmpty()) << page->jobError().toStdString();
    EXPECT_EQ(page->rowCount(), 2);  // measured, stored, listed
    RunStore store(wb.db);
    const auto records = store.compressions(id);
    ASSERT_EQ(records.size(), 2u);
    for (const auto& r : records) {
        EXPECT_TRUE(fs::exists(r.path)) << r.path;
        ASSERT_TRUE(r.report.quality.has_value()) << r.report_error;
        EXPECT_TRUE(std::isfinite(r.report.quality->delta_ppl_pct));
    }

    // Mixed precision to the offered target (a third of the way from int4 to FP32).
    for (const char* m : {"method:f16", "method:nf4"})
        page->findChild<QCheckBox*>(QString::fromLatin1(m))->setChecked(false);
    page->findChild<QCheckBox*>(QStringLiteral("method:mixed"))->setChecked(true);
    const double target = page->findChild<QDoubleSpinBox*>(QStringLiteral("mixedTarget"))->value();
    EXPECT_GT(target, 0.0);
    page->compressChecked();
    ASSERT_TRUE(done.wait(itera::testing::workWait(300'000)));
    EXPECT_TRUE(page->jobError().isEmpty()) << page->jobError().toStdString();
    EXPECT_EQ(page->rowCount(), 3);
    const auto all = store.compressions(id);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_LE(all.back().bytes, static_cast<std::int64_t>(target * 1e6));
    const auto& report = all.back().report;
    ASSERT_TRUE(report.mixed);
    EXPECT_FALSE(report.mixed->plan.empty());
    // The plan, or the uniform scheme that beat it on the calibration text.
    EXPECT_EQ(all.back().method, report.mixed->chosen == "plan" ? "mixed" : report.mixed->chosen);
    EXPECT_GE(report.mixed->candidates.size(), 2u);
    EXPECT_GT(report.mixed->predicted_bytes, 0);
}
