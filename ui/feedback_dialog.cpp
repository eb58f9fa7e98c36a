#include "feedback_dialog.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <array>

#include "duration_text.h"
#include "store/run_store.h"

namespace itera::ui {
namespace {

QTableWidget* table(const QStringList& headers, QWidget* parent) {
    auto* t = new QTableWidget(0, headers.size(), parent);
    t->setHorizontalHeaderLabels(headers);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setWordWrap(false);
    t->verticalHeader()->hide();
    t->horizontalHeader()->setStretchLastSection(true);
    return t;
}

QTableWidgetItem* cell(const QString& text, bool number = false) {
    auto* item = new QTableWidgetItem(text);
    item->setToolTip(text);
    if (number) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

QString oneLine(const std::string& s) {
    return QString::fromStdString(s).replace(QLatin1Char('\n'), QStringLiteral(" ⏎ "));
}

// The first and last value of a metric, as text.
std::pair<QString, QString> firstAndLast(RunStore& store, std::int64_t run, const char* name) {
    const auto points = store.metrics(run, name);
    if (points.empty()) return {QStringLiteral("–"), QStringLiteral("–")};
    return {QString::number(points.front().value, 'f', 2),
            QString::number(points.back().value, 'f', 2)};
}

}  // namespace

FeedbackDialog::FeedbackDialog(RunStore& store, QWidget* parent) : QDialog(parent), m_store(store) {
    setWindowTitle(tr("Feedback and adaptations"));
    resize(1100, 640);
    auto* layout = new QVBoxLayout(this);
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    layout->addWidget(m_summary);
    auto* split = new QSplitter(Qt::Vertical, this);
    m_feedback = table({tr("Time"), tr("Model"), tr("Rating"), tr("Correctness"), tr("Comments"),
                        tr("Prompt"), tr("Answer")},
                       split);
    m_adaptations = table({tr("Run"), tr("Name"), tr("Status"), tr("From"), tr("Val PPL before"),
                           tr("Val PPL after"), tr("Created")},
                          split);
    split->addWidget(m_feedback);
    split->addWidget(m_adaptations);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto* reload = buttons->addButton(tr("Refresh"), QDialogButtonBox::ActionRole);
    connect(reload, &QPushButton::clicked, this, &FeedbackDialog::refresh);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    refresh();
}

void FeedbackDialog::refresh() {
    const auto feedback = m_store.feedback(1);
    m_feedback->setRowCount(static_cast<int>(feedback.size()));
    std::array<int, 6> ratings{};
    for (int r = 0; r < static_cast<int>(feedback.size()); ++r) {
        const auto& f = feedback[static_cast<std::size_t>(r)];
        ++ratings[static_cast<std::size_t>(std::clamp(f.rating, 0, 5))];
        m_feedback->setItem(r, 0, cell(localTimeText(f.created_at)));
        m_feedback->setItem(r, 1, cell(QString::fromStdString(f.served.variant)));
        m_feedback->setItem(r, 2, cell(QString(f.rating, QChar(0x2605)), false));
        m_feedback->setItem(r, 3, cell(oneLine(f.correctness)));
        m_feedback->setItem(r, 4, cell(oneLine(f.comments)));
        m_feedback->setItem(r, 5, cell(oneLine(f.served.prompt)));
        m_feedback->setItem(r, 6, cell(oneLine(f.served.output)));
    }
    m_feedback->resizeColumnsToContents();
    for (int c = 3; c < 7; ++c)
        m_feedback->setColumnWidth(c, std::min(m_feedback->columnWidth(c), 260));

    std::vector<RunRecord> adapted;
    for (auto& run : m_store.list_runs())
        if (run.parent_relation == "adapt") adapted.push_back(std::move(run));
    m_adaptations->setRowCount(static_cast<int>(adapted.size()));
    for (int r = 0; r < static_cast<int>(adapted.size()); ++r) {
        const auto& run = adapted[static_cast<std::size_t>(r)];
        const auto [before, after] = firstAndLast(m_store, run.id, "val_perplexity");
        m_adaptations->setItem(r, 0, cell(QString::number(run.id), true));
        m_adaptations->setItem(r, 1, cell(QString::fromStdString(run.name)));
        m_adaptations->setItem(r, 2, cell(QString::fromStdString(run_status_name(run.status))));
        m_adaptations->setItem(
            r, 3,
            cell(run.parent_run_id ? tr("run %1").arg(*run.parent_run_id)
                                   : QString::fromStdString(run.parent_checkpoint)));
        m_adaptations->setItem(r, 4, cell(before, true));
        m_adaptations->setItem(r, 5, cell(after, true));
        m_adaptations->setItem(r, 6, cell(localTimeText(run.created_at)));
    }
    m_adaptations->resizeColumnsToContents();

    if (feedback.empty())
        m_summary->setText(
            tr("No feedback yet. Serve a model with <code>itera serve</code>; "
               "clients rate answers with <code>POST /feedback</code>, and "
               "<code>itera adapt CKPT --from-feedback</code> fine-tunes on the "
               "well-rated ones."));
    else
        m_summary->setText(tr("%n rated answer(s): ", nullptr, static_cast<int>(feedback.size())) +
                           tr("5★ %1 · 4★ %2 · 3★ %3 · 2★ %4 · 1★ %5. %n adaptation run(s).",
                              nullptr, static_cast<int>(adapted.size()))
                               .arg(ratings[5])
                               .arg(ratings[4])
                               .arg(ratings[3])
                               .arg(ratings[2])
                               .arg(ratings[1]));
}

}  // namespace itera::ui
