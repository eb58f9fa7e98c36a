// `itera-workbench-bench`: what the workbench costs the GUI thread, measured.
//   1. Repaint: each dashboard chart and the whole panel with 100,000 points
//      per series (target: under 16 ms per chart repaint).
//   2. Event-loop latency: a 10 ms timer's lateness while a quality run trains
//      on the worker thread with its charts open (target: p99 under 50 ms).
// Prints figures; asserts nothing.

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "chart_panel.h"
#include "main_window.h"
#include "training_controller.h"

using namespace itera;
using namespace itera::ui;

namespace {

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(std::min<double>(v.size() - 1, p * (v.size() - 1) + 0.5))];
}

RunCurves syntheticRun(int points) {
    RunCurves run;
    run.id = 1;
    run.name = QStringLiteral("synthetic");
    std::mt19937 rng(1);
    std::normal_distribution<double> noise(0, 0.2);
    std::vector<MetricPoint> batch;
    batch.reserve(static_cast<std::size_t>(points) * 12);
    for (int s = 1; s <= points; ++s) {
        const double t = s * 2048.0, w = s * 0.1, decay = std::exp(-s / 20000.0);
        batch.push_back(
            {s, static_cast<std::int64_t>(t), w, "train_loss", 3 + 5 * decay + noise(rng)});
        batch.push_back({s, static_cast<std::int64_t>(t), w, "lr", 0.002 * decay});
        batch.push_back(
            {s, static_cast<std::int64_t>(t), w, "tokens_per_s", 9000 + 1000 * noise(rng)});
        batch.push_back(
            {s, static_cast<std::int64_t>(t), w, "grad_norm", 0.6 + std::abs(noise(rng))});
        batch.push_back({s, static_cast<std::int64_t>(t), w, "aux_loss", 2 + 0.01 * noise(rng)});
        for (int e = 0; e < 4; ++e)
            batch.push_back({s, static_cast<std::int64_t>(t), w,
                             "expert_load.1." + std::to_string(e), 0.25 + 0.05 * noise(rng)});
        if (s % 200 == 0) {
            const double v = 4 + 4 * decay;
            batch.push_back({s, static_cast<std::int64_t>(t), w, "val_loss", v});
            batch.push_back({s, static_cast<std::int64_t>(t), w, "val_perplexity", std::exp(v)});
            batch.push_back({s, static_cast<std::int64_t>(t), w, "val_bits_per_byte", v / 2.4});
        }
    }
    run.add(batch);
    return run;
}

void benchRepaint(int points, int rounds) {
    ChartPanel panel;
    panel.resize(1280, 560);
    panel.show();
    std::vector<RunCurves> runs;
    runs.push_back(syntheticRun(points));
    panel.showRuns(std::move(runs));
    QApplication::processEvents();
    std::printf("repaint, %d points per series, panel 1280x560 (8 charts, 12 series):\n", points);
    for (double smoothing : {0.0, 0.6}) {
        panel.setSmoothing(smoothing);
        panel.replotNow();  // warm-up (smoothing computed once, labels cached)
        std::vector<double> chart_ms, panel_ms;
        for (int r = 0; r < rounds; ++r) {
            panel_ms.push_back(panel.replotNow());
            for (auto* c : panel.charts()) {
                QElapsedTimer t;
                t.start();
                c->rebuild(panel.shownRuns(), panel.view());
                c->replot(QCustomPlot::rpImmediateRefresh);
                chart_ms.push_back(t.nsecsElapsed() / 1e6);
            }
        }
        std::printf(
            "  smoothing %.1f: one chart median %.2f ms, p99 %.2f ms, max %.2f ms; "
            "whole panel median %.1f ms; %d points drawn by the loss chart\n",
            smoothing, percentile(chart_ms, 0.5), percentile(chart_ms, 0.99),
            percentile(chart_ms, 1.0), percentile(panel_ms, 0.5),
            panel.charts().front()->drawnPoints());
    }
}

void benchLatency(double seconds, const QString& corpus, int threads) {
    QTemporaryDir dir;
    MainWindow window(
        Workspace::standard().with_db(dir.filePath(QStringLiteral("bench.sqlite")).toStdString()));
    window.setAskBeforeClosing(false);
    window.resize(1280, 800);
    window.show();
    NewRunRequest request;
    request.data.request.corpus = corpus.toStdString();
    request.settings.preset = "mini";
    request.settings.steps = 100'000;
    request.settings.adam.lr = 2e-3;
    request.settings.eval_every = 200;
    request.settings.threads = threads;
    bool started = false;
    QObject::connect(window.training(), &TrainingController::runStarted, &window,
                     [&](qint64 id) { started = true, window.openRuns({id}); });
    QObject::connect(window.training(), &TrainingController::jobFailed, &window,
                     [](const QString& m) {
                         std::fprintf(stderr, "run failed: %s\n", qPrintable(m));
                         QApplication::exit(1);
                     });
    window.startRun(request);
    QElapsedTimer prepare;
    prepare.start();
    while (!started && prepare.elapsed() < 600'000)
        QApplication::processEvents(QEventLoop::WaitForMoreEvents, 100);
    if (!started) return;

    std::vector<double> late_ms;
    QElapsedTimer clock, total;
    QTimer tick;
    tick.setTimerType(Qt::PreciseTimer);
    tick.setInterval(10);
    QObject::connect(&tick, &QTimer::timeout, &window, [&] {
        const double elapsed = clock.nsecsElapsed() / 1e6;
        clock.restart();
        late_ms.push_back(std::max(0.0, elapsed - 10.0));
        if (total.elapsed() > seconds * 1000) QApplication::exit(0);
    });
    clock.start();
    total.start();
    tick.start();
    QApplication::exec();
    tick.stop();
    const auto* curves = window.charts()->curves(window.training()->currentRunId());
    const auto steps = curves && curves->metrics.count(QStringLiteral("train_loss"))
                           ? curves->metrics.at(QStringLiteral("train_loss")).value.size()
                           : 0;
    window.training()->stopAndWait();
    std::printf(
        "event-loop latency while training (quality preset, %s, %d threads, %.0f s, "
        "%lld steps shown live):\n"
        "  10 ms timer lateness over %zu ticks: median %.2f ms, p99 %.2f ms, max %.2f ms\n",
        qPrintable(corpus), threads, seconds, static_cast<long long>(steps), late_ms.size(),
        percentile(late_ms, 0.5), percentile(late_ms, 0.99), percentile(late_ms, 1.0));
}

}  // namespace

int main(int argc, char** argv) {
    if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("itera-lite"));
    QApplication::setApplicationName(QStringLiteral("itera-workbench-bench"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("GUI repaint and event-loop latency figures."));
    parser.addHelpOption();
    const QCommandLineOption points(QStringLiteral("points"), QStringLiteral("Points per series."),
                                    QStringLiteral("N"), QStringLiteral("100000"));
    const QCommandLineOption seconds(
        QStringLiteral("seconds"), QStringLiteral("Training time for the latency part (0: skip)."),
        QStringLiteral("S"), QStringLiteral("60"));
    const QCommandLineOption corpus(QStringLiteral("data"), QStringLiteral("Corpus to train on."),
                                    QStringLiteral("CORPUS"), QStringLiteral("moby-dick"));
    const QCommandLineOption threads(QStringLiteral("threads"),
                                     QStringLiteral("Training threads (0: all)."),
                                     QStringLiteral("N"), QStringLiteral("0"));
    parser.addOptions({points, seconds, corpus, threads});
    parser.process(app);
    benchRepaint(parser.value(points).toInt(), 20);
    if (parser.value(seconds).toDouble() > 0)
        benchLatency(parser.value(seconds).toDouble(), parser.value(corpus),
                     parser.value(threads).toInt());
    return 0;
}
