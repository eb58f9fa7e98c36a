#include "run_details.h"

#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QUrl>
#include <QVBoxLayout>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "duration_text.h"
#include "model/tensor_names.h"
#include "train/train_settings.h"

namespace itera::ui {
namespace {

QString pretty(const std::string& json) {
    try {
        return QString::fromStdString(nlohmann::json::parse(json).dump(2));
    } catch (const std::exception&) {
        return QString::fromStdString(json);
    }
}

QString row(const QString& key, const QString& value) {
    return QStringLiteral("<tr><td style='color:#666;padding-right:10px'>%1</td><td>%2</td></tr>")
        .arg(key.toHtmlEscaped(), value.toHtmlEscaped());
}

/// A run's settings and data description as flat "path → value" pairs
/// ("model/hidden_size" → "128", "data/corpus" → "moby-dick"); presets by their
/// current names.
std::map<std::string, std::string> flatSettings(const RunRecord& run) {
    std::map<std::string, std::string> out;
    auto add = [&](const std::string& prefix, const std::string& text) {
        try {
            const auto flat = nlohmann::json::parse(text).flatten();  // alive through the loop
            for (const auto& [key, value] : flat.items())
                out[prefix + key] = value.is_string() ? value.get<std::string>() : value.dump();
            // A preset by its old name is the same preset.
            const auto preset = out.find(prefix + "/preset");
            if (preset != out.end()) preset->second = ModelConfig::canonical_preset(preset->second);
        } catch (const std::exception&) {
            out[prefix] = text;  // not JSON: compared as it is
        }
    };
    add("", run.config_json);
    add("data", run.dataset);
    return out;
}

}  // namespace

std::vector<SettingDifference> settingDifferences(const std::vector<RunRecord>& runs) {
    std::vector<std::map<std::string, std::string>> flat;
    std::set<std::string> keys;
    for (const auto& r : runs) {
        flat.push_back(flatSettings(r));
        for (const auto& [k, v] : flat.back()) keys.insert(k);
    }
    std::vector<SettingDifference> out;
    for (const auto& key : keys) {
        SettingDifference d;
        d.key = QString::fromStdString(!key.empty() && key.front() == '/' ? key.substr(1) : key);
        bool differs = false;
        for (const auto& f : flat) {
            const auto it = f.find(key);
            d.values << (it == f.end() ? QString() : QString::fromStdString(it->second));
            differs = differs || d.values.back() != d.values.front();
        }
        if (differs) out.push_back(std::move(d));
    }
    return out;
}

RunDetails::RunDetails(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_tabs = new QTabWidget(this);
    layout->addWidget(m_tabs);

    m_overview = new QLabel(this);
    m_overview->setObjectName(QStringLiteral("overview"));
    m_overview->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_overview->setWordWrap(true);
    m_overview->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_overview->setMargin(6);
    auto* overviewScroll = new QScrollArea(this);  // a short dock scrolls, never clips
    overviewScroll->setWidgetResizable(true);
    overviewScroll->setFrameShape(QFrame::NoFrame);
    overviewScroll->setWidget(m_overview);
    m_tabs->addTab(overviewScroll, tr("Overview"));

    auto* notesPage = new QWidget(this);
    auto* notesLayout = new QVBoxLayout(notesPage);
    m_notes = new QPlainTextEdit(notesPage);
    m_notes->setObjectName(QStringLiteral("notes"));
    m_notes->setPlaceholderText(tr("What was this run for? What did you learn?"));
    m_saveNotes = new QPushButton(tr("Save notes"), notesPage);
    m_saveNotes->setObjectName(QStringLiteral("saveNotes"));
    m_saveNotes->setEnabled(false);
    auto* tagRow = new QHBoxLayout;
    m_tags = new QLabel(notesPage);
    m_tags->setObjectName(QStringLiteral("tags"));
    m_tags->setTextFormat(Qt::RichText);
    m_newTag = new QLineEdit(notesPage);
    m_newTag->setObjectName(QStringLiteral("newTag"));
    m_newTag->setPlaceholderText(tr("add a tag, Enter"));
    m_newTag->setMaximumWidth(160);
    tagRow->addWidget(new QLabel(tr("Tags:"), notesPage));
    tagRow->addWidget(m_tags, 1);
    tagRow->addWidget(m_newTag);
    tagRow->addWidget(m_saveNotes);
    notesLayout->addWidget(m_notes, 1);
    notesLayout->addLayout(tagRow);
    m_tabs->addTab(notesPage, tr("Notes and tags"));

    m_config = new QPlainTextEdit(this);
    m_config->setReadOnly(true);
    m_config->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_tabs->addTab(m_config, tr("Settings"));

    m_checkpoints = new QStandardItemModel(0, 5, this);
    m_checkpoints->setHorizontalHeaderLabels(
        {tr("Kind"), tr("Step"), tr("Validation loss"), tr("Size"), tr("Path")});
    auto* view = new QTableView(this);
    view->setModel(m_checkpoints);
    view->verticalHeader()->hide();
    view->horizontalHeader()->setStretchLastSection(true);
    view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_tabs->addTab(view, tr("Checkpoints"));

    // Notes save themselves like tags: a second after typing stops, when another
    // run is shown and when the window closes (flushNotes); the button saves now.
    m_autosave = new QTimer(this);
    m_autosave->setSingleShot(true);
    m_autosave->setInterval(1000);
    connect(m_autosave, &QTimer::timeout, this, &RunDetails::flushNotes);
    connect(m_notes, &QPlainTextEdit::textChanged, this, [this] {
        m_saveNotes->setEnabled(m_runId > 0);
        if (m_runId > 0) m_autosave->start();
    });
    connect(m_saveNotes, &QPushButton::clicked, this, &RunDetails::flushNotes);
    connect(m_newTag, &QLineEdit::returnPressed, this, [this] {
        const auto tag = m_newTag->text().trimmed();
        if (tag.isEmpty() || m_runId <= 0) return;
        m_newTag->clear();
        Q_EMIT tagAdded(m_runId, tag);
    });
    connect(m_tags, &QLabel::linkActivated, this, [this](const QString& link) {
        if (m_runId > 0) Q_EMIT tagRemoved(m_runId, QUrl::fromPercentEncoding(link.toUtf8()));
    });
    showRun(nullptr, {});
}

void RunDetails::flushNotes() {
    m_autosave->stop();
    if (m_runId <= 0 || !m_saveNotes->isEnabled()) return;
    m_saveNotes->setEnabled(false);
    Q_EMIT notesSaved(m_runId, m_notes->toPlainText());
}

void RunDetails::showDifferences(const std::vector<RunRecord>& runs) {
    flushNotes();
    m_runId = 0;
    setEnabled(true);
    m_notes->clear();
    m_tags->clear();
    m_config->clear();
    m_checkpoints->removeRows(0, m_checkpoints->rowCount());
    const auto diffs = settingDifferences(runs);
    QString html =
        tr("<p>The settings in which these %n runs differ (a blank: not set, the "
           "default):</p>",
           nullptr, static_cast<int>(runs.size()));
    html += QStringLiteral("<table cellspacing=0 cellpadding=2><tr><th align=left>%1</th>")
                .arg(tr("Setting"));
    for (const auto& r : runs)
        html += QStringLiteral("<th align=left>#%1 %2</th>")
                    .arg(r.id)
                    .arg(QString::fromStdString(r.name).toHtmlEscaped());
    html += QStringLiteral("</tr>");
    for (const auto& d : diffs) {
        html += QStringLiteral("<tr><td style='color:#666;padding-right:10px'>%1</td>")
                    .arg(d.key.toHtmlEscaped());
        for (const auto& v : d.values)
            html += QStringLiteral("<td style='padding-right:10px'>%1</td>").arg(v.toHtmlEscaped());
        html += QStringLiteral("</tr>");
    }
    html += QStringLiteral("</table>");
    if (diffs.empty())
        html = tr("These %n runs have the same settings and data.", nullptr,
                  static_cast<int>(runs.size()));
    m_overview->setText(html);
    m_tabs->setCurrentIndex(0);
}

namespace {

// "2 processes · rank 0 24,110 tokens/s · rank 1 24,794 tokens/s · gradient sums
// 14 % of a step" from the latest points of a distributed run; "" for one
// process. A later session in one process has newer tokens_per_s points.
QString processesText(const std::map<std::string, MetricPoint>& latest) {
    const auto n = latest.find("processes");
    if (n == latest.end()) return {};
    const auto world = static_cast<int>(n->second.value);
    QString text = RunDetails::tr("%1 processes").arg(world);
    const auto speed = latest.find("tokens_per_s");
    if (speed != latest.end() && speed->second.step > n->second.step)
        return RunDetails::tr("%1 until step %2, then one")
            .arg(text)
            .arg(QLocale().toString(static_cast<qlonglong>(n->second.step)));
    for (int r = 0; r < world; ++r) {
        const auto it = latest.find("tokens_per_s.rank" + std::to_string(r));
        if (it == latest.end()) continue;
        text += RunDetails::tr(" · rank %1 %2 tokens/s")
                    .arg(r)
                    .arg(QLocale().toString(it->second.value, 'f', 0));
    }
    const auto share = latest.find("allreduce_share");
    if (share != latest.end())
        text += RunDetails::tr(" · summing gradients %1 % of a step")
                    .arg(QLocale().toString(100 * share->second.value, 'f', 1));
    return text;
}

}  // namespace

void RunDetails::showRun(const RunRecord* run, const std::vector<CheckpointRecord>& checkpoints,
                         const std::map<std::string, MetricPoint>& latest) {
    const bool same = run && run->id == m_runId;
    if (!same) flushNotes();  // the notes typed for the run shown until now
    m_runId = run ? run->id : 0;
    setEnabled(run != nullptr);
    m_checkpoints->removeRows(0, m_checkpoints->rowCount());
    if (!run) {
        m_overview->setText(
            tr("Select one run to see its details (several are overlaid in the "
               "charts)."));
        m_notes->clear();
        m_tags->clear();
        m_config->clear();
        return;
    }
    QString html = QStringLiteral("<table>");
    html += row(tr("Run"),
                QStringLiteral("%1 · %2").arg(run->id).arg(QString::fromStdString(run->name)));
    html += row(tr("Status"), QString::fromStdString(run_status_name(run->status)));
    if (!run->message.empty()) html += row(tr("Message"), QString::fromStdString(run->message));
    html += row(tr("Created"), localTimeText(run->created_at));
    if (!run->started_at.empty()) html += row(tr("Started"), localTimeText(run->started_at));
    if (!run->ended_at.empty()) html += row(tr("Ended"), localTimeText(run->ended_at));
    try {
        const auto s = TrainSettings::from_json(run->config_json);
        const auto& m = s.model;
        const auto preset = QString::fromStdString(ModelConfig::canonical_preset(s.preset));
        const auto params = QLocale().toString(static_cast<qlonglong>(parameter_count(m)));
        const auto r = m.resolved();
        const auto layers =
            m.is_transformer()
                ? tr("Transformer · %1 heads · window %2").arg(m.num_heads).arg(m.context_length)
            : r.moe_layers.empty() ? tr("Itera-Lite · state %1 · no experts").arg(r.ssm_state_size)
                                   : tr("Itera-Lite · state %1 · %2 experts (top %3)")
                                         .arg(r.ssm_state_size)
                                         .arg(r.num_experts)
                                         .arg(r.top_k_experts);
        html += row(tr("Model"), tr("%1 · %2 parameters · hidden %3 · %4 layers · %5 · vocab %6")
                                     .arg(preset, params)
                                     .arg(m.hidden_size)
                                     .arg(m.num_layers)
                                     .arg(layers)
                                     .arg(m.vocab_size));
        html +=
            row(tr("Training"),
                tr("%1 steps · batch %2 × %3 tokens%4 · lr %5 · seed %6")
                    .arg(QLocale().toString(static_cast<qlonglong>(s.steps)))
                    .arg(s.batch_size)
                    .arg(s.seq_len)
                    .arg(s.grad_accum > 1 ? tr(" × %1 micro-batches").arg(s.grad_accum) : QString())
                    .arg(s.adam.lr)
                    .arg(s.seed));
    } catch (const std::exception& e) {
        html += row(tr("Settings"), QString::fromStdString(e.what()));
    }
    if (const auto processes = processesText(latest); !processes.isEmpty())
        html += row(tr("Processes"), processes);
    try {
        const auto d = nlohmann::json::parse(run->dataset);
        html += row(tr("Dataset"),
                    tr("%1 (%2) · %3 training tokens · %4 validation tokens · folder %5")
                        .arg(QString::fromStdString(d.value("corpus", std::string())),
                             QString::fromStdString(d.value("format", std::string())))
                        .arg(QLocale().toString(d.value("train_tokens", 0.0), 'f', 0))
                        .arg(QLocale().toString(d.value("validation_tokens", 0.0), 'f', 0))
                        .arg(QString::fromStdString(d.value("dir", std::string()))));
        html += row(tr("Tokenizer"),
                    QStringLiteral("%1 %2 · %3")
                        .arg(QString::fromStdString(d.value("tokenizer", std::string())))
                        .arg(d.value("vocab_size", 0))
                        .arg(QString::fromStdString(run->tokenizer)));
    } catch (const std::exception&) {
        html += row(tr("Dataset"), QString::fromStdString(run->dataset));
    }
    html += row(tr("Versions"), QString::fromStdString(run->library_versions));
    if (!run->git_revision.empty())
        html += row(tr("Revision"), QString::fromStdString(run->git_revision));
    html += QStringLiteral("</table>");
    m_overview->setText(html);

    if (!same || !m_saveNotes->isEnabled()) {  // never overwrite unsaved notes of this run
        const QSignalBlocker block(m_notes);
        m_notes->setPlainText(QString::fromStdString(run->notes));
        m_saveNotes->setEnabled(false);
    }
    QStringList tags;
    for (const auto& t : run->tags) {
        const auto q = QString::fromStdString(t);
        tags << QStringLiteral("%1 <a href=\"%2\" style='text-decoration:none'>×</a>")
                    .arg(q.toHtmlEscaped(), QString::fromUtf8(QUrl::toPercentEncoding(q)));
    }
    m_tags->setText(tags.isEmpty() ? tr("<i>none</i>") : tags.join(QStringLiteral(" · ")));
    m_config->setPlainText(pretty(run->config_json));

    // The trainer keeps two step checkpoints, both stored as "latest": name the
    // older one for what it is.
    std::int64_t newest = -1;
    for (const auto& c : checkpoints)
        if (c.kind == "latest") newest = std::max(newest, c.step);
    for (const auto& c : checkpoints) {
        QList<QStandardItem*> items;
        items << new QStandardItem(c.kind == "latest" && c.step < newest
                                       ? tr("previous (kept for safety)")
                                       : QString::fromStdString(c.kind));
        items << new QStandardItem(QLocale().toString(static_cast<qlonglong>(c.step)));
        items << new QStandardItem(c.val_loss ? QString::number(*c.val_loss, 'f', 4) : QString());
        items << new QStandardItem(QStringLiteral("%1 MB").arg(c.bytes / 1e6, 0, 'f', 2));
        items << new QStandardItem(QString::fromStdString(c.path));
        m_checkpoints->appendRow(items);
    }
}

}  // namespace itera::ui
