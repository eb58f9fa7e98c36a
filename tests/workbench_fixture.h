#pragma once
// The UI tests' workbench: a throw-away run store and a tiny generated corpus
// (60 documents of ten words), and the new-run dialog filled in as a user
// would for a micro run on it.

#include <QComboBox>
#include <QSignalSpy>
#include <QSpinBox>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "main_window.h"
#include "new_run_dialog.h"
#include "temp_dir.h"
#include "training_controller.h"

namespace itera::testing {

/// How long a UI test waits for real work (training, compressing): `ms`, or
/// ten times as long under ThreadSanitizer, which runs it 5-20x slower.
constexpr int workWait(int ms) {
#if defined(__SANITIZE_THREAD__)
    return ms * 10;
#else
    return ms;
#endif
}

struct Workbench {
    itera::testing::TempDir dir;
    std::filesystem::path corpus = dir.path() / "corpus";
    std::filesystem::path db = dir.path() / "runs.sqlite";

    Workbench() {
        std::filesystem::create_directories(corpus);
        std::mt19937 rng(9);
        const char* words[] = {"the",   "whale", "sea",     "ship",   "captain",
                               "white", "deep",  "harpoon", "sailor", "wind"};
        for (int d = 0; d < 60; ++d) {
            std::ofstream out(corpus / ("doc" + std::to_string(d) + ".txt"));
            for (int w = 0; w < 150; ++w) out << words[rng() % 10] << (w % 12 == 11 ? ".\n" : " ");
        }
    }

    /// The dialog filled in as a user would: micro preset, byte tokenizer.
    ui::NewRunRequest request(ui::NewRunDialog& d, int steps) {
        d.setCorpus(QString::fromStdString(corpus.string()));
        auto* preset = d.findChild<QComboBox*>(QStringLiteral("preset"));
        preset->setCurrentIndex(preset->findData(QStringLiteral("micro")));
        d.findChild<QComboBox*>(QStringLiteral("tokenizer"))
            ->setCurrentText(QStringLiteral("byte"));
        d.findChild<QSpinBox*>(QStringLiteral("steps"))->setValue(steps);
        d.findChild<QSpinBox*>(QStringLiteral("batch"))->setValue(4);
        d.findChild<QSpinBox*>(QStringLiteral("seqLen"))->setValue(32);
        EXPECT_TRUE(d.problem().isEmpty()) << d.problem().toStdString();
        auto r = d.request();
        r.settings.eval_every = 10;
        r.settings.eval_tokens = 2048;
        r.settings.warmup_steps = 5;
        r.settings.threads = 2;
        return r;
    }

    /// Trains a micro run of `steps` from the dialog's request; its id, 0 if it did not end.
    qint64 trainMicroRun(ui::MainWindow& w, int steps) {
        ui::NewRunDialog d(Workspace::standard(), &w);
        QSignalSpy ended(w.training(), &ui::TrainingController::runEnded);
        w.startRun(request(d, steps));
        if (!ended.wait(workWait(120'000))) return 0;
        return ended.at(0).at(0).toLongLong();
    }
};

}  // namespace itera::testing
