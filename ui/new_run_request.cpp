// The new-run dialog's form as a request and back: what the fields say as the
// settings, data and model variant of a run (request()), and a stored run or an
// earlier request shown in the form (setFromRun, setRequest).

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

/// Shows `value` exactly: more decimals when the box's would round it (at most 6).
void setExactly(QDoubleSpinBox* box, double value) {
    int decimals = box->decimals();
    while (decimals < 6 && std::abs(std::round(value * std::pow(10, decimals)) -
                                    value * std::pow(10, decimals)) > 1e-6)
        ++decimals;
    box->setDecimals(decimals);
    box->setValue(value);
}

}  // namespace

NewRunRequest NewRunDialog::request() const {
    NewRunRequest r;
    r.name = m_name->text().trimmed();
    if (m_clonedData) {
        r.data = *m_clonedData;
        r.data.dir.clear();  // set again below while the dataset is the same
    }
    if (m_cloned) r.settings = *m_cloned;
    r.data.request.corpus = m_corpus->currentText().trimmed().toStdString();
    r.data.request.format = static_cast<CorpusFormat>(m_format->currentData().toInt());
    r.data.request.tokenizer = static_cast<TokenizerKind>(m_tokenizer->currentData().toInt());
    r.data.request.vocab_size = m_vocab->value();
    if (m_clonedData && r.data.request.corpus == m_clonedData->request.corpus &&
        r.data.request.format == m_clonedData->request.format &&
        r.data.request.tokenizer == m_clonedData->request.tokenizer &&
        r.data.request.vocab_size == m_clonedData->request.vocab_size)
        r.data.dir = m_clonedData->dir;
    auto& s = r.settings;
    s.preset = m_preset->currentData().toString().toStdString();
    r.variant.arch = m_arch->currentData().toString().toStdString();
    if (r.variant.arch == kIteraArch) {
        r.variant.moe = m_moe->isChecked();
        r.variant.ssm_state_size = m_ssmState->value();
    }
    // A cloned run keeps its model while its preset and variant are unchanged.
    r.modelGiven = m_cloned && !m_clonedPreset.isEmpty() &&
                   m_preset->currentData().toString() == m_clonedPreset &&
                   r.variant == m_clonedVariant;
    s.model.dropout = m_dropout->value();
    s.steps = m_bySteps->isChecked() ? m_steps->value() : 0;
    s.minutes = m_bySteps->isChecked() ? 0 : m_minutes->value();
    s.batch_size = m_batch->value();
    s.seq_len = m_seqLen->value();
    bool ok = false;
    s.adam.lr = QLocale::c().toDouble(m_lr->text().trimmed(), &ok);
    if (!ok) s.adam.lr = QLocale().toDouble(m_lr->text().trimmed(), &ok);
    if (!ok) s.adam.lr = std::nan("");
    s.warmup_steps = m_warmup->value();
    s.min_lr_ratio = m_minLrRatio->value();
    s.adam.weight_decay = m_weightDecay->value();
    s.seed = static_cast<std::uint64_t>(m_seed->value());
    s.threads = m_threads->value();
    r.processes = m_processes->value();
    s.precision = m_precision->currentData().toString().toStdString();
    s.eval_every = m_evalEvery->value();
    s.checkpoint_every = m_checkpointEvery->value();
    s.patience = m_patience->value();
    s.grad_accum = static_cast<std::int64_t>(m_gradAccum->value()) * r.processes;
    s.eval_tokens = m_evalTokens->value();
    r.data.split.validation_fraction = m_validationFraction->value();
    return r;
}

void NewRunDialog::setFromRun(const RunRecord& run) {
    setWindowTitle(
        tr("New run from run %1 “%2”").arg(run.id).arg(QString::fromStdString(run.name)));
    NewRunRequest r;
    r.name = QString::fromStdString(run.name) + tr(" (copy)");
    r.settings = TrainSettings::from_json(run.config_json);
    r.data = stored_data_spec(run);
    r.modelGiven = true;
    setRequest(r);
}

void NewRunDialog::setRequest(const NewRunRequest& r) {
    const auto& s = r.settings;
    const auto& d = r.data;
    m_name->setText(r.name);
    m_cloned = s;
    m_clonedData = d;
    // Without a model of its own the request's preset decides, as in a new form.
    m_clonedPreset =
        r.modelGiven ? QString::fromStdString(ModelConfig::canonical_preset(s.preset)) : QString();
    selectPreset(QString::fromStdString(s.preset));
    // The variant of a run's model: its architecture, and Itera-Lite's ablations when they
    // differ from the preset's.
    m_clonedVariant = r.modelGiven ? s.model.variant() : r.variant;
    if (r.modelGiven && !m_clonedVariant.arch.empty() && m_clonedVariant.arch == kIteraArch) {
        try {
            const auto plain = ModelConfig::preset(s.preset, s.model.vocab_size);
            if (m_clonedVariant.ssm_state_size == plain.ssm_state_size)
                m_clonedVariant.ssm_state_size = 0;
        } catch (const std::exception&) {
            // not a preset's model: shown as the preset's, kept as given while unchanged
        }
    }
    m_arch->setCurrentIndex(
        std::max(0, m_arch->findData(QString::fromStdString(m_clonedVariant.arch))));
    m_moe->setChecked(m_clonedVariant.moe);
    m_ssmState->setValue(static_cast<int>(m_clonedVariant.ssm_state_size));
    setExactly(m_dropout, s.model.dropout);
    setCorpus(QString::fromStdString(d.request.corpus));
    m_format->setCurrentIndex(m_format->findData(static_cast<int>(d.request.format)));
    m_tokenizer->setCurrentIndex(m_tokenizer->findData(static_cast<int>(d.request.tokenizer)));
    m_vocab->setValue(d.request.vocab_size);
    // A time budget was turned into steps once measured: offer the budget again.
    if (s.minutes > 0) {
        m_byMinutes->setChecked(true);
        setExactly(m_minutes, s.minutes);
    } else {
        m_bySteps->setChecked(true);
        m_steps->setValue(static_cast<int>(std::min<std::int64_t>(s.steps, m_steps->maximum())));
    }
    m_batch->setValue(static_cast<int>(s.batch_size));
    m_seqLen->setValue(static_cast<int>(s.seq_len));
    m_lr->setText(QString::number(s.adam.lr, 'g', QLocale::FloatingPointShortest));
    m_warmup->setValue(static_cast<int>(s.warmup_steps));
    setExactly(m_minLrRatio, s.min_lr_ratio);
    setExactly(m_weightDecay, s.adam.weight_decay);
    m_seed->setValue(static_cast<int>(std::min<std::uint64_t>(s.seed, INT32_MAX)));
    m_threads->setValue(std::clamp(s.threads, m_threads->minimum(), m_threads->maximum()));
    m_precision->setCurrentIndex(
        std::max(0, m_precision->findData(QString::fromStdString(s.precision))));
    m_evalEvery->setValue(static_cast<int>(s.eval_every));
    m_checkpointEvery->setValue(static_cast<int>(s.checkpoint_every));
    m_patience->setValue(static_cast<int>(s.patience));
    m_processes->setValue(std::clamp(r.processes, 1, m_processes->maximum()));
    m_gradAccum->setValue(static_cast<int>(s.grad_accum / m_processes->value()));
    m_evalTokens->setValue(
        static_cast<int>(std::min<std::int64_t>(s.eval_tokens, m_evalTokens->maximum())));
    setExactly(m_validationFraction, d.split.validation_fraction);
    revalidate();
}

}  // namespace itera::ui
