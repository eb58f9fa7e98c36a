// The feedback dialog, offscreen: every rated answer of the server in the
// first table (newest first, with its model, stars, prompt and answer), the
// runs `itera adapt` made in the second with validation before and after.

#include <gtest/gtest.h>

#include <QLabel>
#include <QTableWidget>

#include "feedback_dialog.h"
#include "store/run_store.h"
#include "temp_dir.h"

using namespace itera;
using namespace itera::ui;

TEST(FeedbackDialog, ListsRatedAnswersAndAdaptationRuns) {
    itera::testing::TempDir dir;
    RunStore store(dir.path() / "runs.sqlite");
    NewRun base;
    base.name = "base";
    base.config_json = "{}";
    const auto parent = store.create_run(base);
    for (int i = 1; i <= 3; ++i) {
        ServedRecord s;
        s.model_path = "/m/best.safetensors";
        s.variant = "fp32";
        s.endpoint = "infer";
        s.prompt = "Call me";
        s.output = " Ishmael, answer " + std::to_string(i) + "\nsecond line";
        s.tokens = 9;
        const auto id = store.add_served(s);
        FeedbackRecord f;
        f.served_id = id;
        f.rating = i + 2;
        f.comments = i == 3 ? "just right" : "";
        store.add_feedback(f);
    }
    NewRun adapt;
    adapt.name = "adapt best.safetensors from 2 rated answers";
    adapt.config_json = "{}";
    adapt.parent_run_id = parent;
    adapt.parent_relation = "adapt";
    adapt.parent_checkpoint = "/m/best.safetensors";
    const auto run = store.create_run(adapt);
    store.append_metrics(
        run, {{0, 0, 0, "val_perplexity", 125.3}, {30, 900, 5, "val_perplexity", 143.6}});

    FeedbackDialog dialog(store);
    auto* fb = dialog.feedbackTable();
    ASSERT_EQ(fb->rowCount(), 3);
    EXPECT_EQ(fb->item(0, 2)->text(), QString(5, QChar(0x2605)));  // newest first: 5 stars
    EXPECT_EQ(fb->item(0, 4)->text(), QStringLiteral("just right"));
    EXPECT_EQ(fb->item(0, 5)->text(), QStringLiteral("Call me"));
    EXPECT_TRUE(fb->item(0, 6)->text().contains(QStringLiteral("answer 3 ⏎ second line")));
    auto* runs = dialog.adaptationTable();
    ASSERT_EQ(runs->rowCount(), 1);
    EXPECT_EQ(runs->item(0, 0)->text(), QString::number(run));
    EXPECT_EQ(runs->item(0, 3)->text(), QStringLiteral("run %1").arg(parent));
    EXPECT_EQ(runs->item(0, 4)->text(), QStringLiteral("125.30"));
    EXPECT_EQ(runs->item(0, 5)->text(), QStringLiteral("143.60"));

    RunStore empty(dir.path() / "empty.sqlite");
    FeedbackDialog none(empty);
    EXPECT_EQ(none.feedbackTable()->rowCount(), 0);
    EXPECT_TRUE(none.findChild<QLabel*>()->text().contains(QStringLiteral("No feedback yet")));
}
