// The new-run dialog: the model's size and the first problem as fields
// change, warnings that do not block, a clone that round-trips every setting,
// the processes of a distributed run, and the architecture with its ablations.

#include <gtest/gtest.h>

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>

#include "new_run_dialog.h"
#include "store/run_store.h"
#include "util/threads.h"
#include "workbench_fixture.h"

using namespace itera;
using namespace itera::ui;
using itera::testing::Workbench;

TEST(NewRunDialog, ShowsTheModelSizeAndNamesTheFirstProblem) {
    Workbench wb;
    NewRunDialog d(Workspace::standard());
    auto* ok = d.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
    auto* info = d.findChild<QLabel*>(QStringLiteral("modelInfo"));
    auto* preset = d.findChild<QComboBox*>(QStringLiteral("preset"));
    preset->setCurrentIndex(preset->findData(QStringLiteral("mini")));
    EXPECT_TRUE(preset->currentText().startsWith(QStringLiteral("mini · 1.62M parameters")))
        << preset->currentText().toStdString();
    d.findChild<QSpinBox*>(QStringLiteral("vocab"))->setValue(4096);
    EXPECT_TRUE(info->text().contains(QLocale().toString(1624320))) << info->text().toStdString();

    d.setCorpus(QStringLiteral("/nonexistent/corpus.txt"));
    EXPECT_TRUE(d.findChild<QLabel*>(QStringLiteral("corpusInfo"))
                    ->text()
                    .contains(QStringLiteral("/nonexistent/corpus.txt")));
    d.setCorpus(QString::fromStdString(wb.corpus.string()));
    EXPECT_TRUE(d.findChild<QLabel*>(QStringLiteral("corpusInfo"))
                    ->text()
                    .contains(QStringLiteral("text")));

    d.findChild<QLineEdit*>(QStringLiteral("lr"))->setText(QStringLiteral("0"));
    EXPECT_TRUE(d.problem().contains(QStringLiteral("learning rate"))) << d.problem().toStdString();
    EXPECT_FALSE(ok->isEnabled());
    d.findChild<QLineEdit*>(QStringLiteral("lr"))->setText(QStringLiteral("0.002"));
    EXPECT_TRUE(d.problem().isEmpty()) << d.problem().toStdString();
    EXPECT_TRUE(ok->isEnabled());
    d.findChild<QSpinBox*>(QStringLiteral("seqLen"))->setValue(1);
    d.findChild<QSpinBox*>(QStringLiteral("batch"))->setValue(1);
    d.findChild<QSpinBox*>(QStringLiteral("seqLen"))->setValue(128);
    EXPECT_TRUE(ok->isEnabled());

    // Precision: FP32 by default, BF16 when chosen.
    auto* precision = d.findChild<QComboBox*>(QStringLiteral("precision"));
    ASSERT_NE(precision, nullptr);
    EXPECT_EQ(d.request().settings.precision, "fp32");
    precision->setCurrentIndex(precision->findData(QStringLiteral("bf16")));
    EXPECT_EQ(d.request().settings.precision, "bf16");

    // Settings that can start but will likely fail are warned about, not refused:
    // 53 KB of ten distinct words cannot make 4,096 SentencePiece tokens.
    EXPECT_TRUE(d.warning().contains(QStringLiteral("too small for a 4096-token vocabulary")))
        << d.warning().toStdString();
    d.findChild<QComboBox*>(QStringLiteral("tokenizer"))->setCurrentText(QStringLiteral("byte"));
    EXPECT_TRUE(d.warning().isEmpty()) << d.warning().toStdString();
    EXPECT_TRUE(info->text().contains(QStringLiteral("activations"))) << info->text().toStdString();
    d.findChild<QSpinBox*>(QStringLiteral("batch"))->setValue(9999);  // 9,999 × 128 tokens
    EXPECT_TRUE(d.warning().contains(QStringLiteral("swap")) ||
                d.warning().contains(QStringLiteral("very large batch")))
        << d.warning().toStdString();
    EXPECT_TRUE(ok->isEnabled());
    d.findChild<QSpinBox*>(QStringLiteral("batch"))->setValue(16);
    d.findChild<QLineEdit*>(QStringLiteral("lr"))->setText(QStringLiteral("0.5"));
    EXPECT_TRUE(d.warning().contains(QStringLiteral("unusually high")))
        << d.warning().toStdString();
    EXPECT_TRUE(ok->isEnabled());
    d.findChild<QLineEdit*>(QStringLiteral("lr"))->setText(QStringLiteral("0.002"));
    EXPECT_TRUE(d.warning().isEmpty()) << d.warning().toStdString();
}

// Clone with edits: every setting and data option of the stored run comes back
// unchanged in the dialog's request, shown in the form or not.
TEST(NewRunDialog, ACloneRoundTripsEverySettingOfTheRun) {
    Workbench wb;
    TrainSettings s;
    s.preset = "micro";
    s.model = ModelConfig::preset("micro", 259);
    s.model.dropout = 0.15;
    s.batch_size = 7;
    s.seq_len = 48;
    s.grad_accum = 3;
    s.steps = 321;
    s.adam.lr = 1.2345678e-3;
    s.adam.beta1 = 0.85;
    s.adam.beta2 = 0.97;
    s.adam.eps = 1e-7;
    s.adam.weight_decay = 0.05;
    s.min_lr_ratio = 0.2;
    s.warmup_steps = 17;
    s.max_grad_norm = 0.5;
    s.eval_every = 33;
    s.eval_tokens = 5000;
    s.checkpoint_every = 77;
    s.patience = 4;
    s.seed = 12345;
    s.threads = 1;
    s.precision = "bf16";
    auto data = DataSpec::from_json("{}");
    data.request = {wb.corpus.string(), CorpusFormat::Text, TokenizerKind::Byte, 4096};
    data.split.validation_fraction = 0.12;
    data.split.seed = 99;
    data.read.replace_invalid_utf8 = true;
    RunRecord run;
    run.id = 4;
    run.name = "original";
    run.config_json = s.to_json();
    run.dataset = data.to_json();

    NewRunDialog d(Workspace::standard());
    d.setFromRun(run);
    const auto r = d.request();
    EXPECT_TRUE(d.problem().isEmpty()) << d.problem().toStdString();
    EXPECT_TRUE(r.modelGiven);
    EXPECT_EQ(r.settings.to_json(), s.to_json());
    EXPECT_EQ(r.data.to_json(), data.to_json());
    EXPECT_EQ(r.name, QStringLiteral("original (copy)"));
}

// Processes: how the cores are divided, a warning past them, and the
// micro-batches per process kept through a retry of the request.
TEST(NewRunDialog, DividesTheCoresBetweenProcessesAndKeepsThemInItsRequest) {
    Workbench wb;
    NewRunDialog d(Workspace::standard());
    auto r = wb.request(d, 10);
    auto* processes = d.findChild<QSpinBox*>(QStringLiteral("processes"));
    auto* info = d.findChild<QLabel*>(QStringLiteral("processInfo"));
    ASSERT_NE(processes, nullptr);
    ASSERT_NE(info, nullptr);
    EXPECT_TRUE(info->isHidden());  // one process: nothing to say
    d.findChild<QSpinBox*>(QStringLiteral("gradAccum"))->setValue(3);
    processes->setValue(2);
    EXPECT_FALSE(info->isHidden());
    EXPECT_TRUE(info->text().contains(QStringLiteral("of the step's 6 micro-batches")))
        << info->text().toStdString();
    r = d.request();
    EXPECT_EQ(r.processes, 2);
    EXPECT_EQ(r.settings.grad_accum, 6);
    // More processes x threads than cores: a warning, not a problem.
    processes->setValue(default_thread_count() + 1);
    d.findChild<QSpinBox*>(QStringLiteral("gradAccum"))->setValue(1);
    EXPECT_TRUE(d.warning().contains(QStringLiteral("slow each other down")))
        << d.warning().toStdString();
    EXPECT_TRUE(d.problem().isEmpty()) << d.problem().toStdString();
    // A request handed back (a failed run's retry) shows the same per-process figures.
    r.processes = 2;
    r.settings.grad_accum = 6;
    NewRunDialog again(Workspace::standard());
    again.setRequest(r);
    EXPECT_EQ(again.findChild<QSpinBox*>(QStringLiteral("processes"))->value(), 2);
    EXPECT_EQ(again.findChild<QSpinBox*>(QStringLiteral("gradAccum"))->value(), 3);
    EXPECT_EQ(again.request().settings.grad_accum, 6);
}

// The architecture and Itera-Lite's ablations: the Transformer of the preset's
// size, the ablations only for Itera-Lite, and a cloned Transformer or ablated
// run keeps its model.
TEST(NewRunDialog, OffersTheTransformerBaselineAndItsAblations) {
    Workbench wb;
    NewRunDialog d(Workspace::standard());
    auto* info = d.findChild<QLabel*>(QStringLiteral("modelInfo"));
    auto* arch = d.findChild<QComboBox*>(QStringLiteral("arch"));
    auto* moe = d.findChild<QCheckBox*>(QStringLiteral("moe"));
    auto* state = d.findChild<QSpinBox*>(QStringLiteral("ssmState"));
    ASSERT_TRUE(arch && moe && state);
    auto* preset = d.findChild<QComboBox*>(QStringLiteral("preset"));
    preset->setCurrentIndex(preset->findData(QStringLiteral("mini")));
    d.findChild<QSpinBox*>(QStringLiteral("vocab"))->setValue(4096);

    arch->setCurrentIndex(arch->findData(QStringLiteral("transformer")));
    EXPECT_EQ(d.request().variant.arch, "transformer");
    EXPECT_FALSE(moe->isEnabled());
    EXPECT_FALSE(state->isEnabled());
    // Matched: the mini Transformer has exactly Itera-Lite's 1,624,320 parameters, all active.
    EXPECT_TRUE(info->text().startsWith(QLocale().toString(1624320) +
                                        QStringLiteral(" parameters (") +
                                        QLocale().toString(1624320)))
        << info->text().toStdString();

    arch->setCurrentIndex(arch->findData(QStringLiteral("itera-lite-v2")));
    EXPECT_TRUE(moe->isEnabled());
    moe->setChecked(false);
    state->setValue(16);
    const auto r = d.request();
    EXPECT_EQ(r.variant, (ModelVariant{kIteraArch, false, 16}));
    d.setCorpus(QString::fromStdString(wb.corpus.string()));  // a corpus the test machine has
    EXPECT_TRUE(d.problem().isEmpty()) << d.problem().toStdString();

    // A clone of a Transformer run comes back as one, with its model given.
    TrainSettings s;
    s.preset = "micro";
    s.model = ModelConfig::preset("micro", 259, {kTransformerArch});
    s.steps = 10;
    auto data = DataSpec::from_json("{}");
    data.request = {wb.corpus.string(), CorpusFormat::Text, TokenizerKind::Byte, 4096};
    RunRecord run;
    run.id = 5;
    run.name = "transformer";
    run.config_json = s.to_json();
    run.dataset = data.to_json();
    NewRunDialog c(Workspace::standard());
    c.setFromRun(run);
    EXPECT_EQ(c.findChild<QComboBox*>(QStringLiteral("arch"))->currentData().toString(),
              QStringLiteral("transformer"));
    EXPECT_TRUE(c.request().modelGiven);
    EXPECT_EQ(c.request().settings.model, s.model);
}
