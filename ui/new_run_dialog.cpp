#include "new_run_dialog.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QDoubleValidator>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QRadioButton>
#include <QScreen>
#include <QScrollArea>
#include <QScrollBar>
#include <QSpinBox>
#include <QVBoxLayout>

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

#include "app_settings.h"
#include "data/builtin.h"
#include "data/corpus.h"
#include "duration_text.h"
#include "model/tensor_names.h"
#include "store/run_store.h"
#include "tokenizer/tokenizer.h"
#include "train/memory_estimate.h"
#include "util/error.h"
#include "util/kernel_path.h"
#include "util/system_info.h"
#include "util/threads.h"
#include "workflows/distributed_run.h"
#include "workflows/model_source.h"

namespace itera::ui {
namespace {

QString megabytes(double bytes) {
    if (bytes >= 1e9) return QStringLiteral("%1 GB").arg(QLocale().toString(bytes / 1e9, 'f', 1));
    if (bytes < 1e5) return QStringLiteral("%1 KB").arg(QLocale().toString(bytes / 1e3, 'f', 1));
    return QStringLiteral("%1 MB").arg(QLocale().toString(bytes / 1e6, 'f', 1));
}

}  // namespace

void NewRunDialog::selectPreset(const QString& name) {
    const int i = m_preset->findData(
        QString::fromStdString(ModelConfig::canonical_preset(name.toStdString())));
    if (i >= 0) m_preset->setCurrentIndex(i);
}

QSpinBox* NewRunDialog::intField(int min, int max, int value) {
    auto* s = new QSpinBox(this);
    s->setRange(min, max);
    s->setValue(value);
    s->setGroupSeparatorShown(true);
    connect(s, &QSpinBox::valueChanged, this, &NewRunDialog::revalidate);
    return s;
}

NewRunDialog::NewRunDialog(const Workspace& workspace, QWidget* parent)
    : QDialog(parent), m_workspace(workspace) {
    setWindowTitle(tr("New training run"));
    // The form scrolls on a short screen instead of squeezing its fields; the
    // problem line and the buttons stay in view under it.
    auto* outer = new QVBoxLayout(this);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* form = new QWidget(scroll);
    auto* layout = new QVBoxLayout(form);
    layout->setContentsMargins(0, 0, 0, 0);

    // Model.
    auto* modelBox = new QGroupBox(tr("Model"), this);
    auto* modelForm = new QFormLayout(modelBox);
    m_name = new QLineEdit(this);
    m_name->setObjectName(QStringLiteral("name"));
    m_preset = new QComboBox(this);
    m_preset->setObjectName(QStringLiteral("preset"));
    // Named by size; each item says its parameter count (at the vocabulary chosen).
    for (const auto& p : ModelConfig::preset_names())
        m_preset->addItem(QString::fromStdString(p), QString::fromStdString(p));
    selectPreset(QStringLiteral("mini"));
    selectPreset(settings::newRunPreset.value());  // unless no longer a preset
    m_arch = new QComboBox(this);
    m_arch->setObjectName(QStringLiteral("arch"));
    m_arch->addItem(tr("Itera-Lite: SSM + mixture of experts"), QString::fromLatin1(kIteraArch));
    m_arch->addItem(tr("Transformer baseline of the same size"),
                    QString::fromLatin1(kTransformerArch));
    m_arch->setToolTip(
        tr("The Transformer has the preset's width and depth and the FFN width that brings it "
           "within 3 % of Itera-Lite's parameters (docs/spec/transformer.md)."));
    m_moe = new QCheckBox(tr("Mixture of experts on the odd layers"), this);
    m_moe->setObjectName(QStringLiteral("moe"));
    m_moe->setChecked(true);
    m_moe->setToolTip(tr("Off: every feed-forward sublayer dense (an ablation)."));
    m_ssmState = new QSpinBox(this);
    m_ssmState->setObjectName(QStringLiteral("ssmState"));
    m_ssmState->setRange(0, 256);
    m_ssmState->setSpecialValueText(tr("the preset's"));
    m_ssmState->setToolTip(tr("The SSM state size N per channel (an ablation)."));
    m_modelInfo = new QLabel(this);
    m_modelInfo->setObjectName(QStringLiteral("modelInfo"));
    m_modelInfo->setWordWrap(true);
    m_dropout = new QDoubleSpinBox(this);
    m_dropout->setRange(0, 0.9);
    m_dropout->setSingleStep(0.05);
    modelForm->addRow(tr("Name:"), m_name);
    modelForm->addRow(tr("Preset:"), m_preset);
    modelForm->addRow(tr("Architecture:"), m_arch);
    modelForm->addRow(QString(), m_moe);
    modelForm->addRow(tr("SSM state size:"), m_ssmState);
    modelForm->addRow(QString(), m_modelInfo);
    modelForm->addRow(tr("Dropout:"), m_dropout);
    layout->addWidget(modelBox);

    // Data.
    auto* dataBox = new QGroupBox(tr("Data"), this);
    auto* dataForm = new QFormLayout(dataBox);
    m_corpus = new QComboBox(this);
    m_corpus->setObjectName(QStringLiteral("corpus"));
    m_corpus->setEditable(true);
    m_corpus->setMinimumContentsLength(32);
    for (const auto& c : builtin_corpora()) m_corpus->addItem(QString::fromStdString(c.name));
    auto* file = new QPushButton(tr("File…"), this);
    auto* folder = new QPushButton(tr("Folder…"), this);
    auto* corpusRow = new QHBoxLayout;
    corpusRow->addWidget(m_corpus, 1);
    corpusRow->addWidget(file);
    corpusRow->addWidget(folder);
    m_format = new QComboBox(this);
    for (auto f : {CorpusFormat::Auto, CorpusFormat::Text, CorpusFormat::TinyStoriesText,
                   CorpusFormat::TinyStoriesJson, CorpusFormat::WikiText})
        m_format->addItem(QString::fromStdString(corpus_format_name(f)), static_cast<int>(f));
    m_corpusInfo = new QLabel(this);
    m_corpusInfo->setObjectName(QStringLiteral("corpusInfo"));
    m_corpusInfo->setWordWrap(true);
    m_tokenizer = new QComboBox(this);
    m_tokenizer->setObjectName(QStringLiteral("tokenizer"));
    for (auto k :
         {TokenizerKind::Bpe, TokenizerKind::Unigram, TokenizerKind::Byte, TokenizerKind::Word})
        m_tokenizer->addItem(QString::fromStdString(tokenizer_kind_name(k)), static_cast<int>(k));
    m_vocab = intField(5, 1 << 20, 4096);
    m_vocab->setObjectName(QStringLiteral("vocab"));
    dataForm->addRow(tr("Corpus:"), corpusRow);
    dataForm->addRow(tr("Format:"), m_format);
    dataForm->addRow(QString(), m_corpusInfo);
    dataForm->addRow(tr("Tokenizer:"), m_tokenizer);
    dataForm->addRow(tr("Vocabulary size:"), m_vocab);
    layout->addWidget(dataBox);

    // Length and optimisation.
    auto* trainBox = new QGroupBox(tr("Training"), this);
    auto* trainForm = new QFormLayout(trainBox);
    m_bySteps = new QRadioButton(tr("Steps:"), this);
    m_byMinutes = new QRadioButton(tr("Time budget (minutes):"), this);
    auto* lengthGroup = new QButtonGroup(this);
    lengthGroup->addButton(m_bySteps);
    lengthGroup->addButton(m_byMinutes);
    m_bySteps->setChecked(true);
    m_steps = intField(1, 100'000'000, 1000);
    m_steps->setObjectName(QStringLiteral("steps"));
    m_minutes = new QDoubleSpinBox(this);
    m_minutes->setObjectName(QStringLiteral("minutes"));
    m_minutes->setRange(0.1, 100'000);
    m_minutes->setValue(10);
    auto* lengthRow = new QHBoxLayout;
    lengthRow->addWidget(m_steps);
    lengthRow->addWidget(m_byMinutes);
    lengthRow->addWidget(m_minutes);
    trainForm->addRow(m_bySteps, lengthRow);
    m_batch = intField(1, 65536, 16);
    m_batch->setObjectName(QStringLiteral("batch"));
    m_seqLen = intField(1, 1 << 20, 128);
    m_seqLen->setObjectName(QStringLiteral("seqLen"));
    auto* shapeRow = new QHBoxLayout;
    shapeRow->addWidget(m_batch);
    shapeRow->addWidget(new QLabel(tr("sequences of"), this));
    shapeRow->addWidget(m_seqLen);
    shapeRow->addWidget(new QLabel(tr("tokens"), this));
    trainForm->addRow(tr("Batch:"), shapeRow);
    m_lr = new QLineEdit(QStringLiteral("0.002"), this);
    m_lr->setObjectName(QStringLiteral("lr"));
    m_lr->setValidator(new QDoubleValidator(0, 10, 12, m_lr));
    m_warmup = intField(0, 100'000'000, 100);
    m_minLrRatio = new QDoubleSpinBox(this);
    m_minLrRatio->setRange(0, 1);
    m_minLrRatio->setSingleStep(0.05);
    m_minLrRatio->setValue(0.1);
    auto* lrRow = new QHBoxLayout;
    lrRow->addWidget(m_lr);
    lrRow->addWidget(new QLabel(tr("warm-up steps"), this));
    lrRow->addWidget(m_warmup);
    lrRow->addWidget(new QLabel(tr("cosine to ×"), this));
    lrRow->addWidget(m_minLrRatio);
    trainForm->addRow(tr("Peak learning rate:"), lrRow);
    m_weightDecay = new QDoubleSpinBox(this);
    m_weightDecay->setRange(0, 9.99);
    m_weightDecay->setSingleStep(0.01);
    m_weightDecay->setValue(0.1);
    trainForm->addRow(tr("Weight decay:"), m_weightDecay);
    m_seed = intField(0, std::numeric_limits<int>::max(), 0);
    m_threads = intField(0, 4096,
                         settings::newRunThreads.value() >= 0 ? settings::newRunThreads.value()
                                                              : settings::threads.value());
    m_threads->setSpecialValueText(tr("all cores (%1)").arg(default_thread_count()));
    m_threads->setToolTip(tr("Threads of each process"));
    m_processes = intField(1, 64, 1);
    m_processes->setObjectName(QStringLiteral("processes"));
    m_processes->setToolTip(
        tr("Processes on this machine training the run together: each computes its share of "
           "the step's micro-batches and they sum their gradients (docs/distributed.md). The "
           "run computes the same as one process with all the micro-batches."));
    m_processInfo = new QLabel(this);
    m_processInfo->setObjectName(QStringLiteral("processInfo"));
    m_processInfo->setWordWrap(true);
    m_processInfo->setVisible(false);
    auto* seedRow = new QHBoxLayout;
    seedRow->addWidget(m_seed);
    seedRow->addWidget(new QLabel(tr("Threads:"), this));
    seedRow->addWidget(m_threads);
    seedRow->addWidget(new QLabel(tr("Processes:"), this));
    seedRow->addWidget(m_processes);
    trainForm->addRow(tr("Seed:"), seedRow);
    trainForm->addRow(QString(), m_processInfo);
    m_precision = new QComboBox(this);
    m_precision->setObjectName(QStringLiteral("precision"));
    m_precision->addItem(tr("FP32"), QStringLiteral("fp32"));
    m_precision->addItem(cpu_has_bf16() ? tr("BF16 products, FP32 weights (faster on this CPU)")
                                        : tr("BF16 products, FP32 weights (slow: no AVX-512 BF16)"),
                         QStringLiteral("bf16"));
    m_precision->setToolTip(
        tr("BF16 rounds the inputs of the training step's matrix products to 8 significant "
           "bits; weights, optimizer and evaluation stay FP32. See docs/benchmarks.md for its "
           "measured effect on the loss curve."));
    trainForm->addRow(tr("Precision:"), m_precision);
    m_evalEvery = intField(1, 100'000'000, 200);
    m_checkpointEvery = intField(1, 100'000'000, 500);
    m_patience = intField(0, 1 << 20, 0);
    m_patience->setSpecialValueText(tr("off"));
    auto* evalRow = new QHBoxLayout;
    evalRow->addWidget(m_evalEvery);
    evalRow->addWidget(new QLabel(tr("steps; checkpoint every"), this));
    evalRow->addWidget(m_checkpointEvery);
    evalRow->addWidget(new QLabel(tr("; early stop after"), this));
    evalRow->addWidget(m_patience);
    trainForm->addRow(tr("Evaluate every:"), evalRow);
    m_gradAccum = intField(1, 4096, 1);
    m_gradAccum->setObjectName(QStringLiteral("gradAccum"));
    m_gradAccum->setToolTip(
        tr("Micro-batches of the batch size per optimiser step, in each process"));
    m_validationFraction = new QDoubleSpinBox(this);
    m_validationFraction->setObjectName(QStringLiteral("validationFraction"));
    m_validationFraction->setRange(0.01, 0.9);
    m_validationFraction->setSingleStep(0.01);
    m_validationFraction->setValue(0.05);
    m_validationFraction->setToolTip(
        tr("Share of the corpus's documents held out for validation (ignored when the corpus "
           "has its own validation split)"));
    m_evalTokens = intField(2, std::numeric_limits<int>::max(), 1 << 18);
    m_evalTokens->setObjectName(QStringLiteral("evalTokens"));
    m_evalTokens->setToolTip(tr("Validation tokens per evaluation, at most"));
    auto* moreRow = new QHBoxLayout;
    moreRow->addWidget(m_gradAccum);
    moreRow->addWidget(new QLabel(tr("held-out documents"), this));
    moreRow->addWidget(m_validationFraction);
    moreRow->addWidget(new QLabel(tr("tokens per evaluation"), this));
    moreRow->addWidget(m_evalTokens);
    trainForm->addRow(tr("Gradient accumulation:"), moreRow);
    layout->addWidget(trainBox);

    m_problemLabel = new QLabel(this);
    m_problemLabel->setObjectName(QStringLiteral("problem"));
    m_problemLabel->setWordWrap(true);
    m_problemLabel->setStyleSheet(QStringLiteral("color: #c62828;"));
    // Room for two lines, always: a problem appearing never squeezes the form.
    m_problemLabel->setMinimumHeight(2 * m_problemLabel->fontMetrics().lineSpacing() + 4);
    m_problemLabel->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    scroll->setWidget(form);
    outer->addWidget(scroll, 1);
    outer->addWidget(m_problemLabel);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Start training"));
    outer->addWidget(m_buttons);
    // As large as the form, as far as the screen allows.
    const auto screen =
        (parent ? parent->screen() : QGuiApplication::primaryScreen())->availableGeometry();
    const auto want = form->sizeHint() +
                      QSize(scroll->verticalScrollBar()->sizeHint().width() + 24,
                            m_buttons->sizeHint().height() + m_problemLabel->minimumHeight() + 40);
    resize(std::min(want.width(), screen.width() * 9 / 10),
           std::min(want.height(), screen.height() * 9 / 10));
    connect(m_buttons, &QDialogButtonBox::accepted, this, [this] {
        settings::newRunPreset.set(m_preset->currentData().toString());
        settings::newRunThreads.set(m_threads->value());
        accept();
    });
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    connect(file, &QPushButton::clicked, this, &NewRunDialog::chooseFile);
    connect(folder, &QPushButton::clicked, this, &NewRunDialog::chooseFolder);
    for (auto* combo : {m_preset, m_tokenizer, m_arch})
        connect(combo, &QComboBox::currentIndexChanged, this, &NewRunDialog::revalidate);
    connect(m_moe, &QCheckBox::toggled, this, &NewRunDialog::revalidate);
    connect(m_corpus, &QComboBox::currentTextChanged, this, [this] {
        describeCorpus();
        revalidate();
    });
    connect(m_format, &QComboBox::currentIndexChanged, this, [this] {
        describeCorpus();
        revalidate();
    });
    connect(m_name, &QLineEdit::textChanged, this, &NewRunDialog::revalidate);
    for (auto* s : {m_processes, m_threads, m_gradAccum, m_ssmState})
        connect(s, &QSpinBox::valueChanged, this, &NewRunDialog::revalidate);
    connect(m_lr, &QLineEdit::textChanged, this, &NewRunDialog::revalidate);
    for (auto* s : {m_minutes, m_minLrRatio, m_weightDecay, m_dropout, m_validationFraction})
        connect(s, &QDoubleSpinBox::valueChanged, this, &NewRunDialog::revalidate);
    connect(m_bySteps, &QRadioButton::toggled, this, &NewRunDialog::revalidate);
    describeCorpus();
    revalidate();
}

void NewRunDialog::setCorpus(const QString& corpus) {
    m_corpus->setCurrentText(corpus);
}

void NewRunDialog::chooseFile() {
    const auto path = QFileDialog::getOpenFileName(
        this, tr("Choose a corpus file"), QString(),
        tr("Text corpora (*.txt *.json *.raw *.tokens);;All files (*)"));
    if (!path.isEmpty()) setCorpus(path);
}

void NewRunDialog::chooseFolder() {
    const auto path = QFileDialog::getExistingDirectory(this, tr("Choose a corpus folder"));
    if (!path.isEmpty()) setCorpus(path);
}

void NewRunDialog::describeCorpus() {
    const auto name = m_corpus->currentText().trimmed().toStdString();
    m_corpusProblem.clear();
    if (name.empty()) {
        m_corpusInfo->setText(tr("Give a built-in corpus name, a file or a folder."));
        return;
    }
    try {
        const auto src = open_corpus(resolve_corpus(m_workspace, name),
                                     static_cast<CorpusFormat>(m_format->currentData().toInt()));
        const auto files = src.train_files.size() + src.validation_files.size();
        m_corpusInfo->setText(tr("%1 · %2 · %n file(s)%3", nullptr, static_cast<int>(files))
                                  .arg(QString::fromStdString(corpus_format_name(src.format)),
                                       megabytes(static_cast<double>(src.bytes)),
                                       src.validation_files.empty()
                                           ? tr(" · validation split by document")
                                           : tr(" · has its own validation split")));
        m_corpusInfo->setStyleSheet(QString());
        m_corpusBytes = src.bytes;
    } catch (const std::exception& e) {
        m_corpusBytes = 0;
        m_corpusProblem = QString::fromStdString(e.what());
        m_corpusInfo->setText(m_corpusProblem);
        m_corpusInfo->setStyleSheet(QStringLiteral("color: #c62828;"));
    }
}

void NewRunDialog::revalidate() {
    const bool byte =
        static_cast<TokenizerKind>(m_tokenizer->currentData().toInt()) == TokenizerKind::Byte;
    m_vocab->setEnabled(!byte);
    const bool itera = m_arch->currentData().toString() == QLatin1String(kIteraArch);
    m_moe->setEnabled(itera);
    m_ssmState->setEnabled(itera);
    m_steps->setEnabled(m_bySteps->isChecked());
    m_minutes->setEnabled(!m_bySteps->isChecked());
    auto r = request();
    const auto vocab = byte ? make_byte_tokenizer()->vocab_size() : m_vocab->value();
    for (int i = 0; i < m_preset->count(); ++i) {
        const auto name = m_preset->itemData(i).toString();
        try {
            const auto params = parameter_count(ModelConfig::preset(name.toStdString(), vocab));
            m_preset->setItemText(
                i, tr("%1 · %2 parameters").arg(name, countText(static_cast<double>(params))));
        } catch (const std::exception&) {
            m_preset->setItemText(i, name);  // a vocabulary the form refuses below
        }
    }
    m_problem.clear();
    m_warning.clear();
    m_modelInfo->clear();  // filled once the model part is valid
    const int processes = m_processes->value();
    m_processInfo->setText(
        processes == 1
            ? QString()
            : tr("%1 × %2 thread(s) of %3 cores · each computes %4 of the step's %5 micro-batches")
                  .arg(processes)
                  .arg(threads_per_process(r.settings.threads, processes))
                  .arg(default_thread_count())
                  .arg(m_gradAccum->value())
                  .arg(r.settings.grad_accum));
    m_processInfo->setVisible(processes > 1);
    try {
        if (!r.modelGiven) {
            const auto dropout = r.settings.model.dropout;
            r.settings.model = ModelConfig::preset(r.settings.preset, vocab, r.variant);
            r.settings.model.dropout = dropout;
        }
        r.settings.model.validate();
        const auto params = static_cast<double>(parameter_count(r.settings.model));
        const auto active = static_cast<double>(active_parameter_count(r.settings.model));
        const auto memory =
            training_memory(r.settings.model, r.settings.batch_size, r.settings.seq_len);
        m_modelInfo->setText(
            tr("%1 parameters (%2 active per token) · model file %3 · training needs about %4: "
               "weights, gradients and AdamW moments %5, activations of a batch %6")
                .arg(QLocale().toString(params, 'f', 0), QLocale().toString(active, 'f', 0),
                     megabytes(params * 4), megabytes(static_cast<double>(memory.total())),
                     megabytes(static_cast<double>(memory.parameters)),
                     megabytes(static_cast<double>(memory.activations))));
        m_warning = warningFor(r.settings, memory, r.processes);
        // The rest of the form, in the order it is laid out.
        if (r.data.request.corpus.empty()) throw Error("choose a corpus");
        if (!m_corpusProblem.isEmpty()) throw Error(m_corpusProblem.toStdString());
        if (!std::isfinite(r.settings.adam.lr) || r.settings.adam.lr <= 0)
            throw Error("the learning rate must be a positive number");
        r.settings.validate();
    } catch (const std::exception& e) {
        m_problem = QString::fromStdString(e.what());
    }
    // A problem blocks Start (red); a warning only says what will likely go wrong (orange).
    if (!m_problem.isEmpty()) m_warning.clear();
    m_problemLabel->setText(m_problem.isEmpty() ? m_warning : m_problem);
    m_problemLabel->setStyleSheet(m_problem.isEmpty() ? QStringLiteral("color: #a15c00;")
                                                      : QStringLiteral("color: #c62828;"));
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(m_problem.isEmpty());
}

QString NewRunDialog::warningFor(const TrainSettings& s, const TrainingMemory& memory,
                                 int processes) const {
    const auto available = available_memory_bytes();
    const double needed = static_cast<double>(memory.total()) * processes;  // each holds it all
    if (needed > 0.8 * static_cast<double>(available))
        return tr("Training needs about %1 and %2 is available: the machine would swap (or the "
                  "run be killed). Use a smaller batch, sequence length or model.")
            .arg(megabytes(needed), megabytes(static_cast<double>(available)));
    // SentencePiece needs text enough to find its pieces: refuses a 4,096 vocabulary
    // from a few kilobytes. A warning, as the exact bound is the library's.
    const auto kind = static_cast<TokenizerKind>(m_tokenizer->currentData().toInt());
    if ((kind == TokenizerKind::Bpe || kind == TokenizerKind::Unigram) && m_corpusBytes > 0 &&
        m_corpusBytes < static_cast<std::uint64_t>(m_vocab->value()) * 16)
        return tr("The corpus (%1) is likely too small for a %2-token vocabulary: SentencePiece "
                  "may refuse it. A smaller vocabulary or the byte tokenizer always works.")
            .arg(megabytes(static_cast<double>(m_corpusBytes)))
            .arg(m_vocab->value());
    const int threads = threads_per_process(s.threads, processes);
    if (processes > 1 && processes * threads > default_thread_count())
        return tr("%1 processes × %2 threads is more than this machine's %3 cores: they would "
                  "slow each other down.")
            .arg(processes)
            .arg(threads)
            .arg(default_thread_count());
    const auto tokens = s.batch_size * s.seq_len;
    if (tokens > (1 << 18))
        return tr("%1 tokens per step is a very large batch (the default is 2,048): each step "
                  "takes long and the run makes few of them.")
            .arg(QLocale().toString(static_cast<qlonglong>(tokens)));
    if (s.adam.lr > 1e-2)
        return tr("A learning rate of %1 is unusually high for these models (the default is "
                  "0.002): the run will likely diverge.")
            .arg(s.adam.lr);
    if (s.adam.lr < 1e-5)
        return tr("A learning rate of %1 is unusually low (the default is 0.002): the model "
                  "will barely learn.")
            .arg(s.adam.lr);
    return {};
}

}  // namespace itera::ui
