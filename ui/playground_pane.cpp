#include "playground_pane.h"

#include <QClipboard>
#include <QComboBox>
#include <QFileDialog>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QTextBrowser>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace itera::ui {
namespace {

// White for a likely token, deepening to orange as its probability falls to
// 1 % and below (a log scale: a small model gives few tokens p > 0.5).
QString probabilityColour(float p) {
    const double t =
        std::clamp(-std::log10(std::max(static_cast<double>(p), 1e-9)) / 2.0, 0.0, 1.0);
    const QColor c(255, static_cast<int>(255 - t * (255 - 170)),
                   static_cast<int>(255 - t * (255 - 90)));
    return c.name();
}

QString visible(const std::string& piece) {
    auto s = QString::fromStdString(piece);
    s.replace(QLatin1Char('\n'), QStringLiteral("⏎"));
    return s.toHtmlEscaped();
}

QString alternatives(const std::vector<Alternative>& top) {
    QStringList lines;
    for (const auto& a : top)
        lines << QStringLiteral("%1 %2").arg(a.p, 6, 'f', 3).arg(visible(a.text));
    return lines.join(QStringLiteral("<br>"));
}

}  // namespace

PlaygroundPane::PlaygroundPane(const QString& title, ModelCache* cache, QWidget* parent)
    : QWidget(parent), m_cache(cache), m_runner(QStringLiteral("generation")) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto* row = new QHBoxLayout;
    row->addWidget(new QLabel(QStringLiteral("<b>%1</b>").arg(title.toHtmlEscaped()), this));
    m_model = new QComboBox(this);
    m_model->setObjectName(QStringLiteral("model"));
    m_model->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_model->setMinimumContentsLength(16);
    row->addWidget(m_model, 1);
    m_browse = new QPushButton(tr("File…"), this);
    m_browse->setToolTip(tr("Choose any model file (.safetensors)"));
    row->addWidget(m_browse);
    m_regenerate = new QToolButton(this);
    m_regenerate->setObjectName(QStringLiteral("regenerate"));
    m_regenerate->setText(tr("Again"));
    m_regenerate->setToolTip(tr("Generate again in this pane only (the other keeps its output)"));
    row->addWidget(m_regenerate);
    auto* copy = new QToolButton(this);
    copy->setObjectName(QStringLiteral("copy"));
    copy->setText(tr("Copy"));
    copy->setToolTip(tr("Copy this pane's output to the clipboard"));
    row->addWidget(copy);
    layout->addLayout(row);
    connect(copy, &QToolButton::clicked, this,
            [this] { QGuiApplication::clipboard()->setText(outputText()); });
    connect(m_regenerate, &QToolButton::clicked, this, &PlaygroundPane::regenerateRequested);
    m_view = new QTextBrowser(this);
    m_view->setObjectName(QStringLiteral("output"));
    m_view->viewport()->installEventFilter(this);
    layout->addWidget(m_view, 1);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("status"));
    m_status->setWordWrap(true);
    layout->addWidget(m_status);
    connect(m_browse, &QPushButton::clicked, this, &PlaygroundPane::browse);
    connect(m_model, &QComboBox::currentIndexChanged, this, [this] {
        clearOutput();
        Q_EMIT modelChanged();
    });
    connect(&m_runner, &JobRunner::progressed, this, [this](JobId id, const JobProgress&) {
        if (id == m_job) drain();
    });
    connect(&m_runner, &JobRunner::finished, this, [this](JobId id, const QVariant& result) {
        ended(id, result.value<GenerateResult>(), {});
    });
    connect(&m_runner, &JobRunner::failed, this,
            [this](JobId id, const QString& message) { ended(id, std::nullopt, message); });
}

PlaygroundPane::~PlaygroundPane() = default;  // the runner cancels and waits

void PlaygroundPane::setChoices(const QList<ModelChoice>& choices) {
    const auto keep = modelPath();
    const QSignalBlocker block(m_model);
    m_model->clear();
    for (const auto& c : choices) {
        m_model->addItem(c.label, c.path);
        m_model->setItemData(m_model->count() - 1, c.path, Qt::ToolTipRole);
        m_model->setItemData(m_model->count() - 1, c.runId, Qt::UserRole + 1);
    }
    if (!keep.isEmpty()) setModelPath(keep);
}

void PlaygroundPane::setModelPath(const QString& path) {
    int i = m_model->findData(path);
    if (i < 0) {
        m_model->addItem(path, path);
        i = m_model->count() - 1;
    }
    m_model->setCurrentIndex(i);
}

QString PlaygroundPane::modelPath() const {
    return m_model->currentData().toString();
}

qint64 PlaygroundPane::modelRunId() const {
    return m_model->currentData(Qt::UserRole + 1).toLongLong();
}

void PlaygroundPane::browse() {
    const auto path = QFileDialog::getOpenFileName(this, tr("Choose a model"), QString(),
                                                   tr("Checkpoints (*.safetensors)"));
    if (!path.isEmpty()) setModelPath(path);
}

void PlaygroundPane::start(const QString& prompt, const GenerateSettings& settings) {
    stop();  // an older generation ends on its own; its results are not shown
    m_job = 0;
    m_prompt = prompt;
    m_tokens.clear();
    m_result.reset();
    m_error.clear();
    m_firstToken = -1;
    m_divergence = -1;
    m_reach.reset();
    const auto path = modelPath();
    if (path.isEmpty()) {
        m_error = tr("choose a model");
        render();
        Q_EMIT finished();
        return;
    }
    auto box = std::make_shared<JobMailbox<GenerationUpdates>>();
    m_box = box;
    auto* cache = m_cache;
    const auto model = std::filesystem::path(path.toStdString());
    const auto text = prompt.toStdString();
    m_clock.start();
    m_model->setEnabled(false);
    m_browse->setEnabled(false);
    m_regenerate->setEnabled(false);
    m_job = m_runner.submit(path, [cache, model, text, settings, box](JobContext& context) {
        return QVariant::fromValue(runGeneration(*cache, model, text, settings, *box, context));
    });
    render();
}

void PlaygroundPane::clearOutput() {
    if (m_job) return;  // the model cannot change while generating
    m_prompt.clear();
    m_tokens.clear();
    m_result.reset();
    m_error.clear();
    m_firstToken = -1;
    m_divergence = -1;
    m_other = nullptr;
    render();
}

void PlaygroundPane::stop() {
    if (m_job) m_runner.cancel(m_job);
}

void PlaygroundPane::drain() {
    if (!m_box) return;
    auto fresh = m_box->take();
    for (auto& e : fresh.events) m_tokens.push_back(std::move(e));
    if (fresh.firstTokenSeconds >= 0) m_firstToken = fresh.firstTokenSeconds;
    if (fresh.reach) m_reach = fresh.reach;
    render();
    Q_EMIT updated();
}

void PlaygroundPane::ended(JobId id, std::optional<GenerateResult> result, const QString& error) {
    if (id != m_job) return;  // an older generation, replaced by a newer one
    drain();
    m_job = 0;
    m_box.reset();
    m_model->setEnabled(true);
    m_browse->setEnabled(true);
    m_regenerate->setEnabled(true);
    m_result = std::move(result);
    m_error = error;
    render();
    Q_EMIT updated();
    Q_EMIT finished();
}

QString PlaygroundPane::statusText() const {
    if (!m_error.isEmpty()) return tr("Error: %1").arg(m_error);
    if (!m_job && !m_result && m_tokens.empty())
        return modelPath().isEmpty() ? tr("No model chosen") : QString();
    QStringList parts;
    // The end-of-text token ends a generation without being part of it (as stored).
    const auto tokens = m_result ? m_result->ids.size() : m_tokens.size();
    parts << tr("%n token(s)", nullptr, static_cast<int>(tokens));
    if (m_result) {
        parts << tr("%1 tokens/s").arg(m_result->decode_tokens_per_s(), 0, 'f', 0);
        parts << tr("prompt %1 tokens in %2 ms")
                     .arg(m_result->prefill_tokens())
                     .arg(m_result->prefill_seconds * 1000, 0, 'f', 1);
        parts << tr("ended: %1").arg(QString::fromStdString(m_result->stop_reason));
    } else if (m_job) {
        // Live: the tokens since the first one, over the time since it came.
        const double since = m_clock.elapsed() / 1000.0 - m_firstToken;
        if (m_firstToken >= 0 && tokens > 1 && since > 0)
            parts << tr("%1 tokens/s so far").arg((tokens - 1) / since, 0, 'f', 0);
        parts << tr("generating…");
    }
    if (m_firstToken >= 0)
        parts << tr("first token after %1 ms (model load included)")
                     .arg(m_firstToken * 1000, 0, 'f', 0);
    const auto note = reachText(tokens + (m_result ? m_result->prefill_tokens() : 0));
    if (!note.isEmpty()) parts << note;
    return parts.join(QStringLiteral(" · "));
}

QString PlaygroundPane::reachText(std::size_t context) const {
    if (!m_reach) return {};
    const auto n = static_cast<std::int64_t>(context);
    const auto& r = *m_reach;
    if (r.window > 0 && n > r.window)
        return tr("past the attention window of %1 tokens: the oldest tokens are no longer seen")
            .arg(r.window);
    if (r.trained > 0 && n > r.trained)
        return r.window > 0 ? tr("past the trained context (%1 tokens): attention reaches further "
                                 "back than in training (window %2)")
                                  .arg(r.trained)
                                  .arg(r.window)
                            : tr("past the trained context (%1 tokens): the state carries more "
                                 "than the model saw in training")
                                  .arg(r.trained);
    return {};
}

QString PlaygroundPane::outputText() const {
    if (m_result) return QString::fromStdString(m_result->text);
    QString s;
    for (const auto& t : m_tokens) s += QString::fromStdString(t.piece);
    return s;
}

void PlaygroundPane::setComparison(const PlaygroundPane* other, int divergence) {
    if (other == m_other && divergence == m_divergence) return;
    m_other = other;
    m_divergence = divergence;
    render();
}

void PlaygroundPane::render() {
    // The document's text is the prompt, then each token's piece (a marker
    // before the first divergent token); m_spans remembers where each token is.
    QString html =
        QStringLiteral("<div style='white-space:pre-wrap'><span style='color:#777'>%1</span>")
            .arg(m_prompt.toHtmlEscaped());
    int at = static_cast<int>(m_prompt.size());
    m_spans.clear();
    for (std::size_t i = 0; i < m_tokens.size(); ++i) {
        const auto& t = m_tokens[i];
        if (static_cast<int>(i) == m_divergence) {
            html += QStringLiteral("<span style='color:#c62828;font-weight:bold'>│</span>");
            ++at;
        }
        const auto piece = QString::fromStdString(t.piece);
        html += QStringLiteral("<span style='background-color:%1'>%2</span>")
                    .arg(probabilityColour(t.p), piece.toHtmlEscaped());
        m_spans.emplace_back(at, at + static_cast<int>(piece.size()));
        at += static_cast<int>(piece.size());
    }
    html += QStringLiteral("</div>");
    m_view->setHtml(html);
    m_view->moveCursor(QTextCursor::End);
    m_status->setText(statusText());
}

bool PlaygroundPane::eventFilter(QObject* watched, QEvent* event) {
    if (watched != m_view->viewport() || event->type() != QEvent::ToolTip)
        return QWidget::eventFilter(watched, event);
    auto* help = static_cast<QHelpEvent*>(event);
    const int pos = m_view->cursorForPosition(help->pos()).position();
    const auto it = std::find_if(m_spans.begin(), m_spans.end(), [&](const auto& s) {
        return pos >= s.first && pos < std::max(s.second, s.first + 1);
    });
    if (it == m_spans.end()) {
        QToolTip::hideText();
        return true;
    }
    const auto i = static_cast<std::size_t>(it - m_spans.begin());
    const auto& t = m_tokens[i];
    auto text =
        tr("<b>token %1</b>: “%2” · p = %3").arg(i).arg(visible(t.piece)).arg(t.p, 0, 'f', 3);
    if (!t.top.empty())
        text +=
            tr("<br><b>this model's top %1</b><br>%2").arg(t.top.size()).arg(alternatives(t.top));
    const bool sameContext = m_divergence < 0 || static_cast<int>(i) <= m_divergence;
    if (m_other && sameContext && i < m_other->tokens().size() && !m_other->tokens()[i].top.empty())
        text += tr("<br><b>the other model's top %1</b><br>%2")
                    .arg(m_other->tokens()[i].top.size())
                    .arg(alternatives(m_other->tokens()[i].top));
    QToolTip::showText(help->globalPos(),
                       QStringLiteral("<span style='font-family:monospace'>%1</span>").arg(text),
                       m_view);
    return true;
}

}  // namespace itera::ui
