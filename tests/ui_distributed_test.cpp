// A run of two processes started from the workbench: the new-run dialog's
// "processes" field, the training job as rank 0 with an `itera train` process
// as rank 1, and the run details naming both ranks' speeds. The run computes
// what one process with both micro-batches does: its losses are the same bits.

#include <gtest/gtest.h>

#include <QLabel>
#include <QSignalSpy>
#include <QSpinBox>

#include <cstdlib>

#include "main_window.h"
#include "new_run_dialog.h"
#include "runs_dock.h"
#include "store/run_store.h"
#include "training_controller.h"
#include "workbench_fixture.h"

using namespace itera;
using namespace itera::ui;
using itera::testing::Workbench;

namespace {

// The train_loss values of run `id`, by step.
std::vector<double> trainLosses(const std::filesystem::path& db, qint64 id) {
    std::vector<double> out;
    for (const auto& p : RunStore(db).metrics(id, "train_loss")) out.push_back(p.value);
    return out;
}

}  // namespace

TEST(Workbench, TrainsARunInTwoProcessesThatComputesWhatOneProcessDoes) {
    setenv("ITERA_CLI", ITERA_CLI_PATH, 1);  // the `itera` this build made, for rank 1
    Workbench wb;
    MainWindow w(Workspace::standard().with_db(wb.db));
    w.setAskBeforeClosing(false);

    auto train = [&](int processes, int gradAccum) -> qint64 {
        NewRunDialog d(Workspace::standard(), &w);
        d.findChild<QSpinBox*>(QStringLiteral("processes"))->setValue(processes);
        d.findChild<QSpinBox*>(QStringLiteral("gradAccum"))->setValue(gradAccum);
        auto r = wb.request(d, 20);
        const auto info = d.findChild<QLabel*>(QStringLiteral("processInfo"))->text();
        if (processes > 1) {
            EXPECT_TRUE(info.startsWith(QStringLiteral("%1 × ").arg(processes)))
                << info.toStdString();
        }
        EXPECT_EQ(r.processes, processes);
        EXPECT_EQ(r.settings.grad_accum, 2);  // the step's micro-batches, all processes
        r.settings.threads = 1;
        QSignalSpy ended(w.training(), &TrainingController::runEnded);
        w.startRun(r);
        if (!ended.wait(itera::testing::workWait(180'000))) return 0;
        EXPECT_EQ(static_cast<RunStatus>(ended.at(0).at(1).toInt()), RunStatus::Finished)
            << ended.at(0).at(2).toString().toStdString();
        return ended.at(0).at(0).toLongLong();
    };
    const auto two = train(2, 1);
    ASSERT_NE(two, 0);
    const auto one = train(1, 2);
    ASSERT_NE(one, 0);

    const auto a = trainLosses(wb.db, one), b = trainLosses(wb.db, two);
    ASSERT_EQ(a.size(), 20u);
    EXPECT_EQ(a, b);  // bit for bit: two gradients add up the same in either order
    const auto speeds = RunStore(wb.db).metrics(two, "tokens_per_s.rank1");
    EXPECT_EQ(speeds.size(), 20u);

    // The details name the processes and their speeds.
    w.refreshRuns();
    w.runsDock()->selectRun(two);
    auto* label = w.findChild<QLabel*>(QStringLiteral("overview"));
    ASSERT_NE(label, nullptr);
    const auto overview = label->text();
    EXPECT_TRUE(overview.contains(QStringLiteral("2 processes"))) << overview.toStdString();
    EXPECT_TRUE(overview.contains(QStringLiteral("rank 1"))) << overview.toStdString();
}
