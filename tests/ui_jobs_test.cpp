// The JobRunner every long task of the workbench runs on: order, cancel
// tokens, throttled progress, ids on every end, and a destructor that waits.

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "jobs/job_runner.h"
#include "util/error.h"

using namespace itera::ui;

namespace {

// Waits on the GUI thread (processing events) until `done` holds.
bool waitFor(const std::function<bool()>& done, int ms = 30'000) {
    return QTest::qWaitFor(done, ms);
}

}  // namespace

TEST(JobRunner, RunsJobsOneAtATimeInOrderAndDeliversTheirResults) {
    JobRunner runner(QStringLiteral("test"));
    QSignalSpy finished(&runner, &JobRunner::finished);
    std::atomic<int> running{0}, most{0};
    std::vector<int> order;
    std::mutex m;
    std::vector<JobId> ids;
    for (int i = 0; i < 4; ++i)
        ids.push_back(runner.submit(QStringLiteral("job %1").arg(i), [&, i](JobContext&) {
            most = std::max(most.load(), ++running);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            {
                std::lock_guard lock(m);
                order.push_back(i);
            }
            --running;
            return QVariant(i * 10);
        }));
    ASSERT_TRUE(waitFor([&] { return finished.count() == 4; }));
    EXPECT_EQ(most.load(), 1);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(finished.at(i).at(0).value<JobId>(), ids[static_cast<std::size_t>(i)]);
        EXPECT_EQ(finished.at(i).at(1).toInt(), i * 10);
    }
    EXPECT_FALSE(runner.busy());
}

TEST(JobRunner, CancelsQueuedAndRunningJobsAndReportsWhy) {
    JobRunner runner(QStringLiteral("test"));
    QSignalSpy started(&runner, &JobRunner::started);
    QSignalSpy failed(&runner, &JobRunner::failed);
    QSignalSpy finished(&runner, &JobRunner::finished);
    std::atomic<bool> inside{false};
    const auto first = runner.submit(QStringLiteral("long"), [&](JobContext& c) {
        inside = true;
        while (!c.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        c.checkCancelled();  // throws itera::Error("cancelled")
        return QVariant();
    });
    ASSERT_TRUE(waitFor([&] { return inside.load(); }));  // the first is running
    const auto second = runner.submit(QStringLiteral("never"), [](JobContext&) {
        ADD_FAILURE() << "a cancelled queued job started";
        return QVariant();
    });
    ASSERT_EQ(runner.queued().size(), 1u);
    EXPECT_EQ(runner.queued().front().second, QStringLiteral("never"));
    EXPECT_TRUE(runner.cancel(second));
    EXPECT_TRUE(runner.queued().empty());
    EXPECT_TRUE(runner.cancel(first));
    ASSERT_TRUE(waitFor([&] { return failed.count() == 1; }));
    EXPECT_EQ(failed.at(0).at(0).value<JobId>(), first);
    EXPECT_EQ(failed.at(0).at(1).toString(), QStringLiteral("cancelled"));
    EXPECT_EQ(started.count(), 1);
    EXPECT_EQ(finished.count(), 0);
    EXPECT_FALSE(runner.cancel(first));  // over: nothing to cancel
}

TEST(JobRunner, DeliversProgressAtMostEveryTenthOfASecond) {
    JobRunner runner(QStringLiteral("test"));
    QSignalSpy progressed(&runner, &JobRunner::progressed);
    QSignalSpy finished(&runner, &JobRunner::finished);
    JobMailbox<std::vector<int>> box;
    QElapsedTimer clock;
    clock.start();
    runner.submit(QStringLiteral("chatty"), [&](JobContext& c) {
        for (int i = 0; i < 200'000; ++i) {
            c.progress(QStringLiteral("step %1").arg(i), i / 200'000.0);
            box.post([&](std::vector<int>& v) { v.push_back(i); });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        return QVariant();
    });
    std::vector<int> received;
    QObject::connect(&runner, &JobRunner::progressed, [&](JobId, const JobProgress&) {
        auto batch = box.take();
        received.insert(received.end(), batch.begin(), batch.end());
    });
    ASSERT_TRUE(waitFor([&] { return finished.count() == 1; }));
    const auto elapsed = clock.elapsed();
    // One delivery per 100 ms tick while it ran, and one at its end: never one per update.
    EXPECT_LE(progressed.count(), elapsed / 100 + 2);
    EXPECT_GE(progressed.count(), 1);
    // The newest phase wins, and the mailbox lost nothing.
    EXPECT_EQ(progressed.last().at(1).value<JobProgress>().phase, QStringLiteral("step 199999"));
    ASSERT_EQ(received.size(), 200'000u);
    EXPECT_EQ(received.back(), 199'999);
}

TEST(JobRunner, ExceptionsBecomeFailedWithTheirMessage) {
    JobRunner runner(QStringLiteral("test"));
    QSignalSpy failed(&runner, &JobRunner::failed);
    const auto id = runner.submit(QStringLiteral("bad"), [](JobContext&) -> QVariant {
        throw itera::Error("corpus.txt: no such file");
    });
    ASSERT_TRUE(waitFor([&] { return failed.count() == 1; }));
    EXPECT_EQ(failed.at(0).at(0).value<JobId>(), id);
    EXPECT_EQ(failed.at(0).at(1).toString(), QStringLiteral("corpus.txt: no such file"));
}

TEST(JobRunner, DestroyingItCancelsTheRunningJobAndWaitsForIt) {
    std::atomic<bool> inside{false}, returned{false};
    {
        JobRunner runner(QStringLiteral("test"));
        runner.submit(QStringLiteral("long"), [&](JobContext& c) {
            inside = true;
            while (!c.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            returned = true;
            return QVariant();
        });
        runner.submit(QStringLiteral("queued"), [](JobContext&) {
            ADD_FAILURE() << "a job queued at destruction started";
            return QVariant();
        });
        ASSERT_TRUE(waitFor([&] { return inside.load(); }));
    }
    EXPECT_TRUE(returned.load());
}
