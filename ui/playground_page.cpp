#include "playground_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QThread>
#include <QUuid>
#include <QVBoxLayout>

#include <nlohmann/json.hpp>

#include "duration_text.h"
#include "infer/score.h"
#include "kl_strip.h"
#include "store/run_store.h"
#include "util/error.h"

namespace itera::ui {
namespace {

QDoubleSpinBox* real(QWidget* parent, double min, double max, double value, double step) {
    auto* s = new QDoubleSpinBox(parent);
    s->setRange(min, max);
    s->setDecimals(2);
    s->setSingleStep(step);
    s->setValue(value);
    return s;
}

QSpinBox* integer(QWidget* parent, int min, int max, int value) {
    auto* s = new QSpinBox(parent);
    s->setRange(min, max);
    s->setValue(value);
    return s;
}

}  // namespace

PlaygroundPage::PlaygroundPage(RunStore* store, QWidget* parent)
    : QWidget(parent), m_store(store), m_klRunner(QStringLiteral("teacher-forcing")) {
    connect(&m_klRunner, &JobRunner::finished, this, &PlaygroundPage::onTeacherForced);
    connect(&m_klRunner, &JobRunner::failed, this, &PlaygroundPage::onTeacherForcingFailed);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    m_prompt = new QPlainTextEdit(this);
    m_prompt->setObjectName(QStringLiteral("prompt"));
    m_prompt->setPlaceholderText(tr("Prompt, e.g. “Call me Ishmael.”"));
    m_prompt->setPlainText(QStringLiteral("Call me Ishmael."));
    m_prompt->setMaximumHeight(m_prompt->fontMetrics().height() * 3 + 12);
    auto* historyRow = new QHBoxLayout;
    historyRow->addWidget(new QLabel(tr("History:"), this));
    m_history = new QComboBox(this);
    m_history->setObjectName(QStringLiteral("history"));
    m_history->setToolTip(
        tr("Earlier generations: choose one to restore its prompt, settings and "
           "model (pane A), then Generate to run it again"));
    historyRow->addWidget(m_history, 1);
    layout->addLayout(historyRow);
    layout->addWidget(m_prompt);

    const SamplingSettings d;
    auto* controls = new QGridLayout;
    m_temperature = real(this, 0, 5, d.temperature, 0.1);
    m_temperature->setToolTip(tr("0 = greedy (the most likely token every time)"));
    m_topK = integer(this, 0, 1 << 20, static_cast<int>(d.top_k));
    m_topK->setSpecialValueText(tr("off"));
    m_topP = real(this, 0.01, 1, d.top_p, 0.05);
    m_minP = real(this, 0, 1, d.min_p, 0.01);
    m_repeatPenalty = real(this, 1, 5, d.repeat_penalty, 0.05);
    m_maxTokens = integer(this, 1, 100'000, 200);
    m_seed = integer(this, 0, std::numeric_limits<int>::max(), 0);
    m_stop = new QLineEdit(this);
    m_stop->setPlaceholderText(tr("stop strings, comma-separated (\\n for a newline)"));
    m_temperature->setObjectName(QStringLiteral("temperature"));
    m_maxTokens->setObjectName(QStringLiteral("maxTokens"));
    m_seed->setObjectName(QStringLiteral("seed"));
    m_stop->setObjectName(QStringLiteral("stop"));
    m_sameSeed = new QCheckBox(tr("Same seed in both panes"), this);
    m_sameSeed->setChecked(true);
    m_sameSeed->setToolTip(
        tr("Identical seeds: the two models draw the same random numbers, so "
           "their outputs differ only where their probabilities do."));
    int col = 0;
    auto add = [&](const QString& label, QWidget* w) {
        controls->addWidget(new QLabel(label, this), 0, col++);
        controls->addWidget(w, 0, col++);
    };
    add(tr("Temperature"), m_temperature);
    add(tr("Top-k"), m_topK);
    add(tr("Top-p"), m_topP);
    add(tr("Min-p"), m_minP);
    add(tr("Repetition penalty"), m_repeatPenalty);
    add(tr("Max tokens"), m_maxTokens);
    add(tr("Seed"), m_seed);
    controls->addWidget(m_stop, 1, 0, 1, 8);
    controls->addWidget(m_sameSeed, 1, 8, 1, 3);
    m_generate = new QPushButton(tr("Generate"), this);
    m_generate->setObjectName(QStringLiteral("generate"));
    m_generate->setDefault(true);
    m_stopButton = new QPushButton(tr("Stop"), this);
    m_stopButton->setEnabled(false);
    controls->addWidget(m_generate, 1, 11);
    controls->addWidget(m_stopButton, 1, 12);
    layout->addLayout(controls);

    m_comparison = new QLabel(this);
    m_comparison->setObjectName(QStringLiteral("comparison"));
    layout->addWidget(m_comparison);
    m_klLabel = new QLabel(this);
    m_klLabel->setObjectName(QStringLiteral("teacherForcing"));
    m_klLabel->setWordWrap(true);
    layout->addWidget(m_klLabel);
    m_kl = new KlStrip(this);
    m_kl->setToolTip(tr("KL(A ‖ B) at each token of A's output, with B reading A's text"));
    layout->addWidget(m_kl);
    auto* split = new QSplitter(Qt::Horizontal, this);
    m_left = new PlaygroundPane(tr("A"), &m_cache, split);
    m_right = new PlaygroundPane(tr("B"), &m_cache, split);
    split->addWidget(m_left);
    split->addWidget(m_right);
    layout->addWidget(split, 1);
    auto* legend = new QLabel(
        tr("Tokens are shaded by the model's probability of them (white: p = 1, orange: p ≤ 0.01, "
           "log scale); hover one for the top-5 alternatives of both models. "
           "<span style='color:#c62828'><b>│</b></span> marks where the outputs first differ."),
        this);
    legend->setWordWrap(true);
    legend->setEnabled(false);
    layout->addWidget(legend);

    connect(m_generate, &QPushButton::clicked, this, &PlaygroundPage::generate);
    // Ctrl+Enter generates from anywhere on the page (the prompt included), Esc stops.
    for (const auto key : {Qt::Key_Return, Qt::Key_Enter}) {
        auto* go = new QShortcut(QKeySequence(Qt::CTRL | key), this);
        go->setContext(Qt::WidgetWithChildrenShortcut);
        connect(go, &QShortcut::activated, this, [this] {
            if (m_generate->isEnabled()) generate();
        });
    }
    auto* halt = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    halt->setContext(Qt::WidgetWithChildrenShortcut);
    connect(halt, &QShortcut::activated, this, &PlaygroundPage::stop);
    m_stopButton->setToolTip(tr("Stop generating (Esc)"));
    connect(m_history, &QComboBox::activated, this, &PlaygroundPage::restore);
    refreshHistory();
    connect(m_stopButton, &QPushButton::clicked, this, &PlaygroundPage::stop);
    for (auto* p : {m_left, m_right}) {
        connect(p, &PlaygroundPane::updated, this, &PlaygroundPage::compare);
        connect(p, &PlaygroundPane::finished, this, &PlaygroundPage::onPaneFinished);
        connect(p, &PlaygroundPane::modelChanged, this, &PlaygroundPage::forgetComparison);
        connect(p, &PlaygroundPane::regenerateRequested, this, [this, p] { regenerate(p); });
    }
    updateGenerate();
}

void PlaygroundPage::forgetComparison() {
    if (m_running > 0) return;
    if (m_klJob) m_klRunner.cancel(m_klJob);
    m_klJob = 0;
    m_kl->setValues({}, {});
    m_klLabel->clear();
    m_comparison->clear();
    m_ran.clear();
    m_started.clear();
    updateGenerate();
}

void PlaygroundPage::updateGenerate() {
    const bool model = !m_left->modelPath().isEmpty() || !m_right->modelPath().isEmpty();
    m_generate->setEnabled(m_running == 0 && model);
    m_generate->setToolTip(model ? tr("Generate from the prompt in both panes (Ctrl+Enter)")
                                 : tr("Choose a model in pane A or B first"));
}

PlaygroundPage::~PlaygroundPage() = default;  // the runners cancel and wait

void PlaygroundPage::setChoices(const QList<ModelChoice>& choices, const QString& left,
                                const QString& right) {
    m_left->setChoices(choices);
    m_right->setChoices(choices);
    if (!left.isEmpty()) m_left->setModelPath(left);
    if (!right.isEmpty()) m_right->setModelPath(right);
}

void PlaygroundPage::setPrompt(const QString& prompt) {
    m_prompt->setPlainText(prompt);
}

GenerateSettings PlaygroundPage::settings() const {
    GenerateSettings s;
    s.sampling.temperature = m_temperature->value();
    s.sampling.top_k = m_topK->value();
    s.sampling.top_p = m_topP->value();
    s.sampling.min_p = m_minP->value();
    s.sampling.repeat_penalty = m_repeatPenalty->value();
    s.sampling.seed = static_cast<std::uint64_t>(m_seed->value());
    s.max_tokens = m_maxTokens->value();
    for (auto part : m_stop->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        part.replace(QStringLiteral("\\n"), QStringLiteral("\n"));
        if (!part.isEmpty()) s.stop.push_back(part.toStdString());
    }
    s.top_alternatives = 5;
    s.threads = 1;  // one core per pane: both generate at once
    s.validate();
    return s;
}

std::optional<GenerateSettings> PlaygroundPage::startSettings() {
    try {
        auto s = settings();
        if (m_prompt->toPlainText().isEmpty()) throw Error("write a prompt first");
        m_lastSettings = s;
        return s;
    } catch (const std::exception& e) {
        m_comparison->setText(QStringLiteral("<span style='color:#c62828'>%1</span>")
                                  .arg(QString::fromStdString(e.what()).toHtmlEscaped()));
        return std::nullopt;
    }
}

void PlaygroundPage::generate() {
    const auto ready = startSettings();
    if (!ready) return;
    auto s = *ready;
    if (m_klJob) m_klRunner.cancel(m_klJob);
    m_klJob = 0;  // a comparison of the previous outputs is no longer shown
    m_kl->setValues({}, {});
    m_klLabel->clear();
    // Only panes with a model generate; a pane without one shows that.
    m_ran.clear();
    for (auto* p : {m_left, m_right})
        if (!p->modelPath().isEmpty()) m_ran << p;
    if (m_ran.isEmpty()) {
        m_comparison->setText(QStringLiteral("<span style='color:#c62828'>%1</span>")
                                  .arg(tr("Choose a model in pane A or B first")));
        return;
    }
    m_started = m_ran;
    m_running = static_cast<int>(m_ran.size());
    m_generate->setEnabled(false);
    m_stopButton->setEnabled(true);
    m_comparison->setText(tr("Generating…"));
    for (auto* p : {m_left, m_right}) {
        if (m_ran.contains(p))
            p->start(m_prompt->toPlainText(), s);
        else
            p->clearOutput();
        if (!m_sameSeed->isChecked()) ++s.sampling.seed;  // B's seed is one more than A's
    }
}

void PlaygroundPage::regenerate(PlaygroundPane* pane) {
    if (m_running > 0 || pane->modelPath().isEmpty()) return;
    const auto ready = startSettings();
    if (!ready) return;
    auto s = *ready;
    if (pane == m_right && !m_sameSeed->isChecked()) ++s.sampling.seed;
    if (m_klJob) m_klRunner.cancel(m_klJob);
    m_klJob = 0;
    m_kl->setValues({}, {});
    m_klLabel->clear();
    // The other pane's output stays in the comparison when it answered this prompt.
    if (!m_ran.contains(pane)) m_ran << pane;
    m_started = {pane};
    m_running = 1;
    m_generate->setEnabled(false);
    m_stopButton->setEnabled(true);
    m_comparison->setText(tr("Generating…"));
    pane->start(m_prompt->toPlainText(), s);
}

void PlaygroundPage::stop() {
    m_left->stop();
    m_right->stop();
}

void PlaygroundPage::compare() {
    if (m_ran.size() != 2) return;  // one output: nothing to compare it with
    const auto& a = m_left->tokens();
    const auto& b = m_right->tokens();
    const auto n = std::min(a.size(), b.size());
    int d = -1;
    for (std::size_t i = 0; i < n && d < 0; ++i)
        if (a[i].id != b[i].id) d = static_cast<int>(i);
    // One ended earlier than the other: they differ where the shorter stopped.
    if (d < 0 && m_running == 0 && a.size() != b.size()) d = static_cast<int>(n);
    m_left->setComparison(m_right, d);
    m_right->setComparison(m_left, d);
    if (d >= 0)
        m_comparison->setText(tr("The outputs first differ at token %1.").arg(d));
    else if (m_running == 0 && n > 0)
        m_comparison->setText(
            tr("The outputs are identical (%n token(s)).", nullptr, static_cast<int>(n)));
}

QString PlaygroundPage::comparisonText() const {
    return m_comparison->text();
}

void PlaygroundPage::refreshHistory() {
    if (!m_store) return;
    try {
        m_records = m_store->generations(200);
    } catch (const std::exception&) {
        m_records.clear();  // the history is a convenience; the store reports its errors elsewhere
    }
    const QSignalBlocker block(m_history);
    m_history->clear();
    for (const auto& g : m_records) {
        auto prompt = QString::fromStdString(g.prompt).simplified();
        if (prompt.size() > 48) prompt = prompt.left(47) + QStringLiteral("…");
        // The model by its run and file: every run's best model is "best.safetensors".
        const auto file =
            QString::fromStdString(std::filesystem::path(g.model_path).filename().string());
        const auto model = g.run_id ? tr("run #%1 %2").arg(*g.run_id).arg(file) : file;
        m_history->addItem(
            QStringLiteral("%1 · %2 · “%3”").arg(localTimeText(g.created_at), model, prompt));
        m_history->setItemData(m_history->count() - 1,
                               QString::fromStdString(g.model_path) + QStringLiteral("\n\n") +
                                   QString::fromStdString(g.output).left(400),
                               Qt::ToolTipRole);
    }
    m_history->setCurrentIndex(-1);
    m_history->setPlaceholderText(m_records.empty() ? tr("no generations yet")
                                                    : tr("%n earlier generation(s)", nullptr,
                                                         static_cast<int>(m_records.size())));
}

void PlaygroundPage::restore(int index) {
    if (index < 0 || index >= static_cast<int>(m_records.size())) return;
    const auto& g = m_records[static_cast<std::size_t>(index)];
    m_prompt->setPlainText(QString::fromStdString(g.prompt));
    m_left->setModelPath(QString::fromStdString(g.model_path));
    try {
        const auto j = nlohmann::json::parse(g.settings);
        m_temperature->setValue(j.value("temperature", m_temperature->value()));
        m_topK->setValue(j.value("top_k", m_topK->value()));
        m_topP->setValue(j.value("top_p", m_topP->value()));
        m_minP->setValue(j.value("min_p", m_minP->value()));
        m_repeatPenalty->setValue(j.value("repeat_penalty", m_repeatPenalty->value()));
        m_maxTokens->setValue(j.value("max_tokens", m_maxTokens->value()));
        m_seed->setValue(static_cast<int>(j.value("seed", std::int64_t{m_seed->value()})));
        QStringList stops;
        for (const auto& stop : j.value("stop", std::vector<std::string>{}))
            stops << QString::fromStdString(stop).replace(QLatin1Char('\n'), QStringLiteral("\\n"));
        m_stop->setText(stops.join(QLatin1Char(',')));
    } catch (const std::exception& e) {
        m_comparison->setText(tr("Generation %1's settings cannot be read: %2")
                                  .arg(g.id)
                                  .arg(QString::fromStdString(e.what())));
    }
}

const std::vector<double>& PlaygroundPage::teacherForcedKl() const {
    return m_kl->values();
}

QString PlaygroundPage::teacherForcingText() const {
    return m_klLabel->text();
}

void PlaygroundPage::startTeacherForcing() {
    const auto& a = m_left->result();
    if (!a || !m_right->result() || a->ids.empty()) return;
    auto* cache = &m_cache;
    const auto pathA = std::filesystem::path(m_left->modelPath().toStdString());
    const auto pathB = std::filesystem::path(m_right->modelPath().toStdString());
    const auto prompt = a->prompt_ids;
    const auto generated = a->ids;
    const bool eos = m_lastSettings.document_start;
    m_klLabel->setText(tr("Teacher forcing: model B reads A's text…"));
    // A newer request replaces an older one, which ends on its own and is ignored.
    if (m_klJob) m_klRunner.cancel(m_klJob);
    m_klJob = m_klRunner.submit(tr("teacher forcing"), [=](JobContext&) {
        const auto ma = cache->get(pathA);
        const auto mb = cache->get(pathB);
        std::vector<std::int32_t> ids;
        if (eos) ids.push_back(ma->require_tokenizer().eos_id());
        ids.insert(ids.end(), prompt.begin(), prompt.end());
        const std::size_t from = ids.size() - 1;  // the row predicting the first generated token
        ids.insert(ids.end(), generated.begin(), generated.end());
        return QVariant::fromValue(teacher_forced_kl(*ma, *mb, ids, from));
    });
}

void PlaygroundPage::onTeacherForcingFailed(JobId id, const QString& message) {
    if (id != m_klJob) return;  // replaced by a newer request
    m_klJob = 0;
    m_klLabel->setText(tr("Teacher forcing failed: %1").arg(message));
    Q_EMIT teacherForced();
}

void PlaygroundPage::onTeacherForced(JobId id, const QVariant& result) {
    if (id != m_klJob) return;  // replaced by a newer request or generation
    m_klJob = 0;
    auto kl = result.value<std::vector<double>>();
    QStringList pieces;
    for (const auto& t : m_left->tokens()) pieces << QString::fromStdString(t.piece);
    double mean = 0;
    std::size_t worst = 0;
    for (std::size_t i = 0; i < kl.size(); ++i) {
        mean += kl[i] / kl.size();
        if (kl[i] > kl[worst]) worst = i;
    }
    if (!kl.empty()) {
        auto piece = worst < static_cast<std::size_t>(pieces.size()) ? pieces[worst] : QString();
        piece.replace(QLatin1Char('\n'), QStringLiteral("⏎"));
        m_klLabel->setText(
            tr("Teacher forcing (model B reads A's text): KL(A ‖ B) per token, mean %1 nats, "
               "largest %2 at token %3 “%4”.")
                .arg(mean, 0, 'g', 3)
                .arg(kl[worst], 0, 'g', 3)
                .arg(worst)
                .arg(piece));
    }
    m_kl->setValues(std::move(kl), pieces);
    Q_EMIT teacherForced();
}

void PlaygroundPage::onPaneFinished() {
    if (--m_running > 0) return;
    m_running = 0;
    updateGenerate();
    m_stopButton->setEnabled(false);
    compare();
    if (m_ran.size() == 1) m_comparison->clear();
    // Both panes' records share a key, so reports find the two halves of a comparison.
    const auto pair = QUuid::createUuid().toString(QUuid::WithoutBraces).toStdString();
    for (auto* p : m_started) {  // the panes that generated this time, each saved once
        if (!p->error().isEmpty()) {
            m_comparison->setText(QStringLiteral("<span style='color:#c62828'>%1</span>")
                                      .arg(p->statusText().toHtmlEscaped()));
            continue;
        }
        if (!m_store || !p->result()) continue;
        const auto& r = *p->result();
        nlohmann::ordered_json j;
        j["temperature"] = m_lastSettings.sampling.temperature;
        j["top_k"] = m_lastSettings.sampling.top_k;
        j["top_p"] = m_lastSettings.sampling.top_p;
        j["min_p"] = m_lastSettings.sampling.min_p;
        j["repeat_penalty"] = m_lastSettings.sampling.repeat_penalty;
        j["seed"] = m_lastSettings.sampling.seed + (p == m_right && !m_sameSeed->isChecked());
        j["max_tokens"] = m_lastSettings.max_tokens;
        j["stop"] = m_lastSettings.stop;
        j["stop_reason"] = r.stop_reason;
        j["decode_tokens_per_s"] = r.decode_tokens_per_s();
        j["prefill_tokens_per_s"] = r.prefill_tokens_per_s();
        j["source"] = "playground";
        j["pair"] = pair;
        j["pane"] = p == m_left ? "A" : "B";
        GenerationRecord g;
        if (p->modelRunId() > 0) g.run_id = p->modelRunId();
        g.model_path = p->modelPath().toStdString();
        g.prompt = m_prompt->toPlainText().toStdString();
        g.settings = j.dump();
        g.output = r.text;
        g.tokens = static_cast<std::int64_t>(r.ids.size());
        g.seconds = r.prefill_seconds + r.decode_seconds;
        try {
            m_store->add_generation(g);
        } catch (const std::exception& e) {
            m_comparison->setText(
                tr("The generation could not be saved: %1").arg(QString::fromStdString(e.what())));
        }
    }
    refreshHistory();
    Q_EMIT generated();
    if (m_ran.size() == 2 && m_left->result() && m_right->result() && m_left->error().isEmpty() &&
        m_right->error().isEmpty())
        startTeacherForcing();
}

}  // namespace itera::ui
